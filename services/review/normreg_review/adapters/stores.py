"""The unit of work for the service's database: SQLite or PostgreSQL (one port, one contract)."""

from __future__ import annotations

from collections.abc import Callable

from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database

from normreg_review.adapters.postgres_store import PostgresUnitOfWork
from normreg_review.adapters.sqlite_store import SqliteUnitOfWork
from normreg_review.application.ports import UnitOfWork


def unit_of_work(db: Database | PostgresDatabase, on_commit: Callable[[], None] = lambda: None) -> UnitOfWork:
    if isinstance(db, PostgresDatabase):
        return PostgresUnitOfWork(db, on_commit)
    return SqliteUnitOfWork(db, on_commit)
