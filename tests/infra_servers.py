"""Fixtures for the TLS ports and the OpenID provider that deploy/local/infra-up.sh starts beside Kafka and
Elasticsearch (addresses in NORMREG_INFRA_*); missing, they skip — or fail under `make test`/CI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REAL_SERVERS_REQUIRED


def infra(var: str, what: str) -> str:
    value = os.environ.get(var, "")
    if not value:
        message = f"{var} is not set: start {what} with `make infra-up` (or run `make test`)"
        if REAL_SERVERS_REQUIRED:
            pytest.fail(f"a real {what} is required here: {message}")
        pytest.skip(message)
    return value


@dataclass(frozen=True)
class KafkaTls:
    ssl_bootstrap: str
    sasl_ssl_bootstrap: str
    ca_file: Path
    mechanism: str
    username: str
    password: str


@pytest.fixture
def kafka_tls() -> KafkaTls:
    return KafkaTls(
        ssl_bootstrap=infra("NORMREG_INFRA_KAFKA_SSL_BOOTSTRAP", "Kafka TLS listener"),
        sasl_ssl_bootstrap=infra("NORMREG_INFRA_KAFKA_SASL_SSL_BOOTSTRAP", "Kafka SASL_SSL listener"),
        ca_file=Path(infra("NORMREG_INFRA_CA_FILE", "infra CA")),
        mechanism=infra("NORMREG_INFRA_KAFKA_SCRAM_MECHANISM", "Kafka SCRAM account"),
        username=infra("NORMREG_INFRA_KAFKA_SCRAM_USERNAME", "Kafka SCRAM account"),
        password=infra("NORMREG_INFRA_KAFKA_SCRAM_PASSWORD", "Kafka SCRAM account"),
    )


@dataclass(frozen=True)
class Hydra:
    issuer: str
    admin_url: str
    ca_file: Path


@pytest.fixture
def hydra() -> Hydra:
    return Hydra(
        issuer=infra("NORMREG_INFRA_OIDC_ISSUER", "OpenID provider (Ory Hydra)"),
        admin_url=infra("NORMREG_INFRA_HYDRA_ADMIN_URL", "OpenID provider (Ory Hydra)"),
        ca_file=Path(infra("NORMREG_INFRA_CA_FILE", "infra CA")),
    )
