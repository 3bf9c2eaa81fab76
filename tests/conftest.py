"""Fixtures shared by every test: a fake clock, tokens, and the rule for real servers.

Tests that need a real server take the `kafka_bootstrap` / `elasticsearch_url` / `postgres_url`
fixture, fed by NORMREG_KAFKA_BOOTSTRAP / NORMREG_ELASTICSEARCH_URL / NORMREG_POSTGRES_URL.
Where they are not set, those tests are skipped
with the reason, except in CI (CI=true) or under `make test` (NORMREG_REQUIRE_REAL_SERVERS=1), where
a missing server is an error, never a skip.

The variables are taken out of the environment here, so every other test runs on the embedded
backends whatever the shell has set.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from normreg_common.auth import TokenCodec
from normreg_common.clock import FakeClock
from normreg_common.principal import Principal, Role

if TYPE_CHECKING:
    from tests.harness import System

# The TLS listeners and the OpenID provider that deploy/local starts beside Kafka and Elasticsearch.
pytest_plugins = ["tests.infra_servers"]

TEST_KEY = "test-signing-key-that-is-long-enough-0123456789"
SHANGHAI = ZoneInfo("Asia/Shanghai")


_REAL_SERVERS = {
    var: os.environ.pop(var, "")
    for var in ("NORMREG_KAFKA_BOOTSTRAP", "NORMREG_ELASTICSEARCH_URL", "NORMREG_POSTGRES_URL")
}


def real_servers_required(env: Mapping[str, str]) -> bool:
    return env.get("CI") == "true" or env.get("NORMREG_REQUIRE_REAL_SERVERS") == "1"


REAL_SERVERS_REQUIRED = real_servers_required(os.environ)


def _real_server_url(marker: str) -> str:
    var = {
        "kafka": "NORMREG_KAFKA_BOOTSTRAP",
        "elasticsearch": "NORMREG_ELASTICSEARCH_URL",
        "postgres": "NORMREG_POSTGRES_URL",
    }[marker]
    value = _REAL_SERVERS[var]
    if not value:
        message = f"{var} is not set: start the servers with `make infra-up` (or run `make test`)"
        if REAL_SERVERS_REQUIRED:
            pytest.fail(f"a real {marker} is required here: {message}")
        pytest.skip(message)
    return value


@pytest.fixture
def kafka_bootstrap() -> str:
    return _real_server_url("kafka")


@pytest.fixture
def elasticsearch_url() -> str:
    return _real_server_url("elasticsearch")


@pytest.fixture
def postgres_url() -> str:
    return _real_server_url("postgres")


@pytest.fixture
def postgres_schema_prefix(postgres_url: str) -> Iterator[str]:
    """A schema prefix of the test's own; its schemas are dropped afterwards."""
    import uuid

    import psycopg

    prefix = f"t{uuid.uuid4().hex[:10]}_"
    yield prefix
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        schemas = conn.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (prefix,)).fetchall()
        for (schema,) in schemas:
            conn.execute(psycopg.sql.SQL("DROP SCHEMA {} CASCADE").format(psycopg.sql.Identifier(schema)))


@pytest.fixture
def clock() -> FakeClock:
    # A Monday morning in Chifeng's time zone.
    return FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    """The registry alone, in-process on loopback. A module that needs other services defines its own
    `system`, which pytest takes over this one."""
    from tests.harness import System  # the harness reads this module's TEST_KEY as it is imported

    s = System(tmp_path, clock, services=("registry",))
    await s.start()
    yield s
    await s.stop()


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


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def corpus_path() -> Path:
    """var/corpus/laws.db, fetched with scripts/fetch-corpus.sh when missing."""
    target = Path(os.environ.get("NORMREG_CORPUS", REPO / "var" / "corpus" / "laws.db"))
    if not target.is_file():
        done = subprocess.run(  # noqa: S603
            ["bash", str(REPO / "scripts" / "fetch-corpus.sh"), str(target)],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            message = f"could not fetch the corpus: {done.stderr.strip()[-500:]}"
            if REAL_SERVERS_REQUIRED:
                pytest.fail(message)
            pytest.skip(message)
    return target
