"""Transactional outbox: events are rows written in the same transaction as the state they describe,
and a relay copies them to the event log, marking a row sent only after the log acknowledged it.

A crash between publishing and marking re-sends a row; consumers drop it by its sequence.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from normreg_common.eventlog.port import EventLog, Record
from normreg_common.outbox_relay import RelayLoop
from normreg_common.sqlite import Database

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    sent_at REAL,
    -- Unix time of the write; the age of the oldest unsent row is what operators alert on.
    created_at REAL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    -- 1: `value` is packed (normreg_common.packing); rows written before it are 0, as given.
    packed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
"""


def migrate(conn: sqlite3.Connection) -> None:
    """Databases made before the outbox had `created_at` gain it (NULL for their old rows), and
    `packed` (0: their values as given)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(outbox)")}
    if "created_at" not in columns:
        conn.execute("ALTER TABLE outbox ADD COLUMN created_at REAL")
    if "packed" not in columns:
        conn.execute("ALTER TABLE outbox ADD COLUMN packed INTEGER NOT NULL DEFAULT 0")


def enqueue(conn: sqlite3.Connection, records: Sequence[Record]) -> None:
    now = time.time()
    conn.executemany(
        "INSERT INTO outbox (topic, key, value, created_at) VALUES (?, ?, ?, ?)",
        [(r.topic, r.key, r.value, now) for r in records],
    )


class OutboxRelay(RelayLoop):
    """The relay of an outbox in SQLite: one process writes it, so a batch needs no lock."""

    def __init__(
        self, db: Database, log_: EventLog, *, batch_size: int = 500, idle_poll_s: float = 1.0, service: str = ""
    ) -> None:
        super().__init__(log_, batch_size=batch_size, idle_poll_s=idle_poll_s, service=service)
        self._db = db

    async def relay_once(self) -> int:
        held = sorted(self.held)
        passed_over = f" AND id NOT IN ({', '.join('?' * len(held))})" if held else ""
        rows = await self._db.read(
            lambda conn: conn.execute(
                f"SELECT id, topic, key, value, packed FROM outbox WHERE sent_at IS NULL{passed_over} "  # noqa: S608
                "ORDER BY id LIMIT ?",
                (*held, self._batch_size),
            ).fetchall()
        )
        if not rows:
            return 0
        # The embedded log keeps values packed as this outbox does, so the rows go over as they are.
        ids = await self.publish_rows(
            [(r["id"], r["topic"], r["key"], bytes(r["value"]), bool(r["packed"])) for r in rows]
        )
        now = time.time()
        await self._db.transaction(
            lambda conn: conn.executemany("UPDATE outbox SET sent_at = ? WHERE id = ?", [(now, i) for i in ids])
        )
        return len(ids)

    async def pending(self) -> int:
        row = await self._db.read(
            lambda conn: conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()
        )
        return int(row[0])

    async def backlog(self) -> tuple[int, float | None]:
        row = await self._db.read(
            lambda conn: conn.execute(
                "SELECT COUNT(*), (SELECT created_at FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 1) "
                "FROM outbox WHERE sent_at IS NULL"
            ).fetchone()
        )
        return int(row[0]), None if row[1] is None else float(row[1])
