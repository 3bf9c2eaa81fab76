"""The whole-system scenarios with the registry and review services on PostgreSQL (real server,
started by `make test`); the event log and the index stay embedded, so only the stores differ."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from normreg_common.clock import FakeClock

from tests.e2e.flows import SCENARIOS
from tests.harness import System

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def system(
    tmp_path: Path, clock: FakeClock, postgres_url: str, postgres_schema_prefix: str
) -> AsyncIterator[System]:
    s = System(
        tmp_path,
        clock,
        settings={
            "postgres_url": postgres_url,
            "postgres_schema_prefix": postgres_schema_prefix,
            "postgres_pool_size": 2,
        },
    )
    await s.start()
    yield s
    await s.stop()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
async def test_scenario_on_postgres(system: System, scenario: Callable[[System], Awaitable[None]]) -> None:
    await scenario(system)


async def test_the_stores_really_are_in_postgres(
    system: System, postgres_url: str, postgres_schema_prefix: str
) -> None:
    import psycopg
    from psycopg import sql

    from tests.e2e.flows import People

    await People(system).to_in_force("赤峰市城市供水管理办法", "第一条 为了加强城市供水管理，制定本办法。")
    assert not (system.settings.data_dir / "registry.db").exists()
    assert not (system.settings.data_dir / "review.db").exists()

    def count(conn: psycopg.Connection[tuple[int]], schema: str, table: str, where: str = "TRUE") -> int:
        query = sql.SQL("SELECT count(*) FROM {}.{} WHERE {}").format(
            sql.Identifier(postgres_schema_prefix + schema), sql.Identifier(table), sql.SQL(where)
        )
        row = conn.execute(query).fetchone()
        assert row is not None
        return int(row[0])

    with psycopg.connect(postgres_url) as conn:
        assert count(conn, "registry", "documents") == 1
        assert count(conn, "review", "reviews") == 1
        assert count(conn, "registry", "outbox", "sent_at IS NULL") == 0
        assert count(conn, "registry", "outbox") == 6
