"""Transactional outbox: events are rows written in the same transaction as the state they describe,
and a relay copies them to the event log, marking a row sent only after the log acknowledged it.

A crash between publishing and marking re-sends a row; consumers drop it by its sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Sequence
from typing import Protocol

from normreg_common import metrics, tracing
from normreg_common.eventlog.port import EventLog, Record
from normreg_common.sqlite import Database

log = logging.getLogger(__name__)

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    sent_at REAL,
    -- Unix time of the write; the age of the oldest unsent row is what operators alert on.
    created_at REAL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
"""


def migrate(conn: sqlite3.Connection) -> None:
    """Databases made before the outbox had `created_at` gain it (NULL for their old rows)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(outbox)")}
    if "created_at" not in columns:
        conn.execute("ALTER TABLE outbox ADD COLUMN created_at REAL")


class Relay(Protocol):
    """What the runtime needs of an outbox relay, whatever database holds the outbox."""

    def notify(self) -> None: ...

    async def drain(self) -> int: ...

    async def pending(self) -> int: ...

    async def backlog(self) -> tuple[int, float | None]: ...

    async def run(self, stop: asyncio.Event) -> None: ...


def enqueue(conn: sqlite3.Connection, records: Sequence[Record]) -> None:
    now = time.time()
    conn.executemany(
        "INSERT INTO outbox (topic, key, value, created_at) VALUES (?, ?, ?, ?)",
        [(r.topic, r.key, r.value, now) for r in records],
    )


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        log_: EventLog,
        *,
        batch_size: int = 500,
        idle_poll_s: float = 1.0,
        service: str = "",
    ) -> None:
        self._db = db
        self.service = service
        self._log = log_
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._wakeup = asyncio.Event()

    def notify(self) -> None:
        """Called after a commit that enqueued records, so they leave without waiting for the poll."""
        self._wakeup.set()

    async def relay_once(self) -> int:
        """Publish one batch of unsent rows; returns how many were sent."""
        rows = await self._db.read(
            lambda conn: conn.execute(
                "SELECT id, topic, key, value FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?",
                (self._batch_size,),
            ).fetchall()
        )
        if not rows:
            return 0
        records = [Record(r["topic"], r["key"], bytes(r["value"])) for r in rows]
        with tracing.message_spans(f"normreg.{self.service}", "publish", [(r.topic, r.value) for r in records]):
            await self._log.publish(records)
        metrics.record_published(self.service, len(records))
        ids = [r["id"] for r in rows]
        now = time.time()
        await self._db.transaction(
            lambda conn: conn.executemany("UPDATE outbox SET sent_at = ? WHERE id = ?", [(now, i) for i in ids])
        )
        return len(rows)

    async def drain(self) -> int:
        total = 0
        while sent := await self.relay_once():
            total += sent
        return total

    async def pending(self) -> int:
        row = await self._db.read(
            lambda conn: conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()
        )
        return int(row[0])

    async def backlog(self) -> tuple[int, float | None]:
        """How many rows wait, and when the oldest of them was committed (None when unknown or none)."""
        row = await self._db.read(
            lambda conn: conn.execute(
                "SELECT COUNT(*), (SELECT created_at FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 1) "
                "FROM outbox WHERE sent_at IS NULL"
            ).fetchone()
        )
        return int(row[0]), None if row[1] is None else float(row[1])

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.1
        while not stop.is_set():
            try:
                sent = await self.relay_once()
                backoff = 0.1
            except Exception:
                metrics.record_publish_failure(self.service)
                # The log is unreachable: keep the rows, try again later. Writes go on being accepted.
                log.warning("outbox relay: publish failed, retrying in %.1fs", backoff, exc_info=True)
                await wait_or_stop(stop, backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if sent == 0:
                self._wakeup.clear()
                await wait_any(stop, self._wakeup, self._idle_poll_s)


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def wait_any(stop: asyncio.Event, wakeup: asyncio.Event, seconds: float) -> None:
    tasks = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wakeup.wait())]
    try:
        await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
