"""Fixtures shared by every test: a fake clock, tokens, and the rule for real servers.

Tests marked `kafka` or `elasticsearch` need the real server named by NORMREG_KAFKA_BOOTSTRAP /
NORMREG_ELASTICSEARCH_URL. Outside CI they are skipped with the reason when it is not set; in CI
(CI=true) a missing server is an error, never a skip.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from normreg_common.auth import TokenCodec
from normreg_common.clock import FakeClock
from normreg_common.principal import Principal, Role

TEST_KEY = "test-signing-key-that-is-long-enough-0123456789"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _real_server_url(marker: str) -> str:
    var = {"kafka": "NORMREG_KAFKA_BOOTSTRAP", "elasticsearch": "NORMREG_ELASTICSEARCH_URL"}[marker]
    value = os.environ.get(var, "")
    if not value:
        message = f"{var} is not set: start the servers with `make infra-up` (or run `make test`)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs a real {marker}: {message}")
        pytest.skip(message)
    return value


@pytest.fixture
def kafka_bootstrap() -> str:
    return _real_server_url("kafka")


@pytest.fixture
def elasticsearch_url() -> str:
    return _real_server_url("elasticsearch")


@pytest.fixture
def clock() -> FakeClock:
    # A Monday morning in Chifeng's time zone.
    return FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))


@pytest.fixture
def codec() -> TokenCodec:
    return TokenCodec(TEST_KEY)


@pytest.fixture
def token(codec: TokenCodec) -> Callable[..., str]:
    def make(subject: str, *roles: str, org: str = "") -> str:
        return codec.issue(subject, list(roles), org)

    return make


def principal(subject: str, *roles: Role, org: str = "") -> Principal:
    return Principal(subject=subject, roles=frozenset(roles), org=org)
