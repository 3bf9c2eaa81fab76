"""The filing repository contract on every adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg_common.eventlog.port import Record
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database
from normreg_filing.adapters.memory import InMemoryUnitOfWork
from normreg_filing.adapters.postgres_store import MIGRATIONS, PostgresFilingStore
from normreg_filing.adapters.sqlite_store import SCHEMA, SqliteFilingStore
from normreg_filing.application.ports import UnitOfWork

from tests.filing.repository_contract import FilingRepositoryContract


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
