"""The registry repository contract on every adapter."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg_common.postgres import migrations
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database
from normreg_registry.adapters import postgres_store
from normreg_registry.adapters.memory import InMemoryUnitOfWork
from normreg_registry.adapters.postgres_store import MIGRATIONS, PostgresUnitOfWork
from normreg_registry.adapters.sqlite_store import SCHEMA, SqliteUnitOfWork
from normreg_registry.application.ports import CLOCK_START, UNSCHEDULED, UnitOfWork

from tests.registry.repository_contract import T0, RegistryRepositoryContract, draft, save


class TestSqliteRegistryRepository(RegistryRepositoryContract):
    @pytest.fixture
    async def uow(self, tmp_path: Path) -> AsyncIterator[UnitOfWork]:  # type: ignore[override]
        db = Database(tmp_path / "registry.db", SCHEMA)
        await db.open()
        try:
            yield SqliteUnitOfWork(db)
        finally:
            await db.close()


class TestInMemoryRegistryRepository(RegistryRepositoryContract):
    @pytest.fixture
    def uow(self) -> UnitOfWork:
        return InMemoryUnitOfWork()


class TestPostgresRegistryRepository(RegistryRepositoryContract):
    @pytest.fixture
    async def uow(self, postgres_url: str, postgres_schema_prefix: str) -> AsyncIterator[UnitOfWork]:  # type: ignore[override]
        db = PostgresDatabase(postgres_url, f"{postgres_schema_prefix}registry", MIGRATIONS, pool_size=2)
        await db.open()
        try:
            yield PostgresUnitOfWork(db)
        finally:
            await db.close()


async def test_a_sqlite_store_opened_on_documents_stored_before_schedules_schedules_them_due_at_once(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "registry.db", SCHEMA)
    await db.open()
    await SqliteUnitOfWork(db).write(lambda s: save(s, draft("old")))
    await SqliteUnitOfWork(db).write(lambda s: (save(s, draft("new")), s.schedule("new", None, [])))
    # As a database written before the clock table: the document has no schedule.
    await db.transaction(lambda conn: conn.execute("DELETE FROM clock WHERE document = 'old'"))
    assert await SqliteUnitOfWork(db).read(lambda s: s.clock_due(T0.date(), CLOCK_START, 10)) == []
    await db.close()

    db = Database(tmp_path / "registry.db", SCHEMA)
    await db.open()
    try:
        due = await SqliteUnitOfWork(db).read(lambda s: s.clock_due(T0.date(), CLOCK_START, 10))
        assert due == [(UNSCHEDULED, "old")]
    finally:
        await db.close()


async def test_the_postgres_migration_schedules_documents_stored_before_schedules_due_at_once(
    tmp_path: Path, postgres_url: str, postgres_schema_prefix: str
) -> None:
    schema = f"{postgres_schema_prefix}registry"
    before = tmp_path / "before"
    before.mkdir()
    # The migrations up to the clock table's, as a registry of that release applied them.
    for path in sorted(MIGRATIONS.glob("*.sql"))[:4]:
        shutil.copy(path, before)
    assert [m.name for m in migrations.load(before)][-1] == "clock"
    db = PostgresDatabase(postgres_url, schema, before, pool_size=1)
    await db.open()
    try:
        await PostgresUnitOfWork(db).write(lambda s: save(s, draft("old")))
        await PostgresUnitOfWork(db).write(lambda s: (save(s, draft("new")), s.schedule("new", None, [])))
    finally:
        await db.close()

    db = PostgresDatabase(postgres_url, schema, MIGRATIONS, pool_size=1)
    await db.open()
    try:
        due = await PostgresUnitOfWork(db).read(lambda s: s.clock_due(T0.date(), CLOCK_START, 10))
        assert due == [(UNSCHEDULED, "old")]
    finally:
        await db.close()


class TestPostgresRegistryRepositoryReadingEventsTwoAtATime(TestPostgresRegistryRepository):
    """Events by type are read a page at a time (the driver holds a whole result): pages of two make
    every listing of the contract cross a page's end."""

    @pytest.fixture(autouse=True)
    def small_pages(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(postgres_store, "EVENT_PAGE", 2)
