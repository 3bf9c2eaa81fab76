"""The filing repository contract on every adapter."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg_common.eventlog.port import Record
from normreg_common.postgres.database import Conn, PostgresDatabase
from normreg_common.sqlite import Database
from normreg_filing.adapters.memory import InMemoryUnitOfWork
from normreg_filing.adapters.postgres_store import MIGRATIONS, PostgresFilingStore
from normreg_filing.adapters.sqlite_store import SCHEMA, SqliteFilingStore
from normreg_filing.application.ports import UnitOfWork
from normreg_filing.domain.supervision import SeenPromulgation
from pydantic import TypeAdapter

from tests.filing.repository_contract import FilingRepositoryContract
from tests.filing.test_filing_review_domain import received, seen


class TestSqliteFilingRepository(FilingRepositoryContract):
    @pytest.fixture
    async def uow(self, tmp_path: Path) -> AsyncIterator[UnitOfWork]:  # type: ignore[override]
        db = Database(tmp_path / "filing.db", SCHEMA)
        await db.open()
        try:
            yield SqliteFilingStore(db)
        finally:
            await db.close()

    async def outbox(self, uow: UnitOfWork) -> list[Record]:
        assert isinstance(uow, SqliteFilingStore)
        rows = await uow.db.read(lambda c: c.execute("SELECT topic, key, value FROM outbox ORDER BY id").fetchall())
        return [Record(r[0], r[1], bytes(r[2])) for r in rows]


class TestInMemoryFilingRepository(FilingRepositoryContract):
    @pytest.fixture
    def uow(self) -> UnitOfWork:
        return InMemoryUnitOfWork()

    async def outbox(self, uow: UnitOfWork) -> list[Record]:
        assert isinstance(uow, InMemoryUnitOfWork)
        return list(uow.outbox)


class TestPostgresFilingRepository(FilingRepositoryContract):
    @pytest.fixture
    async def uow(self, postgres_url: str, postgres_schema_prefix: str) -> AsyncIterator[UnitOfWork]:  # type: ignore[override]
        db = PostgresDatabase(postgres_url, f"{postgres_schema_prefix}filing", MIGRATIONS, pool_size=2)
        await db.open()
        try:
            yield PostgresFilingStore(db)
        finally:
            await db.close()

    async def outbox(self, uow: UnitOfWork) -> list[Record]:
        assert isinstance(uow, PostgresFilingStore)
        rows = await uow.db.read(lambda c: c.execute("SELECT topic, key, value FROM outbox ORDER BY id").fetchall())
        return [Record(r[0], r[1], bytes(r[2])) for r in rows]


async def test_the_postgres_migration_gives_earlier_sightings_their_deadlines_and_filed_marks(
    tmp_path: Path, postgres_url: str, postgres_schema_prefix: str
) -> None:
    schema = f"{postgres_schema_prefix}filing"
    before = tmp_path / "before"
    before.mkdir()
    # The migrations of the release before sightings had positions.
    shutil.copy(MIGRATIONS / "0001_initial.sql", before)
    earlier = [seen("documents/c/versions/1"), seen("documents/b/versions/1"), seen("documents/a/versions/1", "wuhai")]

    def insert_as_earlier_release(conn: Conn, p: SeenPromulgation) -> None:
        conn.execute(
            "INSERT INTO seen_promulgations (sender, document, recipient, body) VALUES (%s, %s, %s, %s)",
            (p.sender, p.document, p.recipient, TypeAdapter(SeenPromulgation).dump_json(p).decode()),
        )

    db = PostgresDatabase(postgres_url, schema, before, pool_size=1)
    await db.open()
    try:
        f = received("documents/b/versions/1")
        await db.transaction(
            lambda conn: conn.execute(
                "INSERT INTO received_filings (id, sender, document, recipient, state, body) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (f.id, f.sender, f.document, f.recipient, f.state.value, "{}"),
            )
        )
        for p in earlier:
            await db.transaction(lambda conn, p=p: insert_as_earlier_release(conn, p))
    finally:
        await db.close()

    db = PostgresDatabase(postgres_url, schema, MIGRATIONS, pool_size=1)
    await db.open()
    try:
        store = PostgresFilingStore(db)
        missing = await store.read(lambda r: r.missing_after(0, 10))
        assert missing is not None and [p for _, p in missing] == [earlier[0], earlier[2]]
        # A replica of the earlier release still running inserts without the new columns.
        late = seen("documents/d/versions/1", promulgated=-40)
        await db.transaction(lambda conn: insert_as_earlier_release(conn, late))
        missing = await store.read(lambda r: r.missing_after(0, 10))
        assert missing is not None and [p for _, p in missing] == [late, earlier[0], earlier[2]]
    finally:
        await db.close()
