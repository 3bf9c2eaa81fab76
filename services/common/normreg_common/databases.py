"""Chooses a service's database from settings: a SQLite file under data_dir (the default), or a
schema of its own in PostgreSQL when NORMREG_POSTGRES_URL is set; and the outbox relay that goes
with it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from normreg_common.eventlog.port import EventLog
from normreg_common.outbox import OutboxRelay
from normreg_common.outbox_relay import Relay
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.postgres.outbox import PostgresOutboxRelay
from normreg_common.settings import Settings
from normreg_common.sqlite import Database


def service_database(
    settings: Settings,
    service: str,
    *,
    sqlite_schema: str,
    migrations: Path,
    sqlite_upgrade: Callable[[sqlite3.Connection], None] | None = None,
) -> Database | PostgresDatabase:
    if settings.postgres_url:
        return PostgresDatabase(
            settings.postgres_url,
            f"{settings.postgres_schema_prefix}{service}",
            migrations,
            pool_size=settings.postgres_pool_size,
            application_name=f"normreg-{service}",
        )
    return Database(
        settings.data_dir / f"{service}.db",
        sqlite_schema,
        synchronous=settings.sqlite_synchronous,
        upgrade=sqlite_upgrade,
    )


def outbox_relay(db: Database | PostgresDatabase, log: EventLog, *, service: str) -> Relay:
    if isinstance(db, PostgresDatabase):
        return PostgresOutboxRelay(db, log, service=service)
    return OutboxRelay(db, log, service=service)
