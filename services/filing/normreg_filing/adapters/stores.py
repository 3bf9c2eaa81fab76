"""The unit of work for the service's database: SQLite or PostgreSQL (one port, one contract)."""

from __future__ import annotations

from collections.abc import Callable

from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database

from normreg_filing.adapters.postgres_store import PostgresFilingStore
from normreg_filing.adapters.sqlite_store import SqliteFilingStore
from normreg_filing.application.ports import UnitOfWork


def unit_of_work(db: Database | PostgresDatabase, on_commit: Callable[[], None] = lambda: None) -> UnitOfWork:
    if isinstance(db, PostgresDatabase):
        return PostgresFilingStore(db, on_commit)
    return SqliteFilingStore(db, on_commit)
