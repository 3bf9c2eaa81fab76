"""The store for a unit of work's connection: SQLite or PostgreSQL (same operations, same results)."""

from __future__ import annotations

import sqlite3
from typing import cast

from normreg_common.postgres.database import Conn
from normreg_registry.adapters.postgres_store import PostgresStore
from normreg_registry.adapters.sqlite_store import Store


def open_store(conn: sqlite3.Connection | Conn) -> Store:
    if isinstance(conn, sqlite3.Connection):
        return Store(conn)
    return cast(Store, PostgresStore(conn))
