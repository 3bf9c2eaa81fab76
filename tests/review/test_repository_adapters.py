"""The review repository contract on every adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database
from normreg_review.adapters.memory import InMemoryUnitOfWork
from normreg_review.adapters.postgres_store import MIGRATIONS, PostgresUnitOfWork
from normreg_review.adapters.sqlite_store import SCHEMA, SqliteUnitOfWork
from normreg_review.application.ports import UnitOfWork

from tests.review.repository_contract import ReviewRepositoryContract


class TestSqliteReviewRepository(ReviewRepositoryContract):
    @pytest.fixture
    async def uow(self, tmp_path: Path) -> AsyncIterator[UnitOfWork]:  # type: ignore[override]
        db = Database(tmp_path / "review.db", SCHEMA)
        await db.open()
        try:
            yield SqliteUnitOfWork(db)
        finally:
            await db.close()


class TestInMemoryReviewRepository(ReviewRepositoryContract):
    @pytest.fixture
    def uow(self) -> UnitOfWork:
        return InMemoryUnitOfWork()


class TestPostgresReviewRepository(ReviewRepositoryContract):
    @pytest.fixture
    async def uow(self, postgres_url: str, postgres_schema_prefix: str) -> AsyncIterator[UnitOfWork]:  # type: ignore[override]
        db = PostgresDatabase(postgres_url, f"{postgres_schema_prefix}review", MIGRATIONS, pool_size=2)
        await db.open()
        try:
            yield PostgresUnitOfWork(db)
        finally:
            await db.close()
