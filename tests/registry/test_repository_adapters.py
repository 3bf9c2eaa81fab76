"""The registry repository contract on every adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database
from normreg_registry.adapters.memory import InMemoryUnitOfWork
from normreg_registry.adapters.postgres_store import MIGRATIONS, PostgresUnitOfWork
from normreg_registry.adapters.sqlite_store import SCHEMA, SqliteUnitOfWork
from normreg_registry.application.ports import UnitOfWork

from tests.registry.repository_contract import RegistryRepositoryContract


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
