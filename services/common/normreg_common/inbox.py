"""Idempotent consumption: positions and applied sequences live in the consumer's own database and
are written in the same transaction as the consumer's effects. Replaying the log changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence

from normreg_common import metrics, tracing
from normreg_common.eventlog.port import Consumer, Delivery, PositionLoader
from normreg_common.postgres import inbox as postgres_inbox
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database

log = logging.getLogger(__name__)

INBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS consumer_positions (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, partition)
);
CREATE TABLE IF NOT EXISTS inbox_sequences (
    source TEXT NOT NULL,
    subject TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    PRIMARY KEY (source, subject)
);
"""


def position_loader(db: Database | PostgresDatabase, group: str) -> PositionLoader:
    if isinstance(db, PostgresDatabase):
        return postgres_inbox.position_loader(db, group)

    async def load(topic: str, partition: int) -> int | None:
        row = await db.read(
            lambda conn: conn.execute(
                "SELECT offset FROM consumer_positions WHERE grp = ? AND topic = ? AND partition = ?",
                (group, topic, partition),
            ).fetchone()
        )
        return None if row is None else int(row[0])

    return load


def save_positions(conn: sqlite3.Connection, group: str, deliveries: Sequence[Delivery]) -> None:
    last: dict[tuple[str, int], int] = {}
    for d in deliveries:
        last[(d.topic, d.partition)] = max(d.offset, last.get((d.topic, d.partition), -1))
    conn.executemany(
        "INSERT INTO consumer_positions (grp, topic, partition, offset) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (grp, topic, partition) DO UPDATE SET offset = MAX(offset, excluded.offset)",
        [(group, topic, partition, offset) for (topic, partition), offset in last.items()],
    )


def accept_sequence(conn: sqlite3.Connection, source: str, subject: str, sequence: int) -> bool:
    """True, and remembered, when `sequence` is newer than anything applied for the stream."""
    row = conn.execute(
        "SELECT sequence FROM inbox_sequences WHERE source = ? AND subject = ?", (source, subject)
    ).fetchone()
    if row is not None and row[0] >= sequence:
        return False
    conn.execute(
        "INSERT INTO inbox_sequences (source, subject, sequence) VALUES (?, ?, ?) "
        "ON CONFLICT (source, subject) DO UPDATE SET sequence = excluded.sequence",
        (source, subject, sequence),
    )
    return True


BatchHandler = Callable[[list[Delivery]], Awaitable[None]]

# How long a background consumer waits in one poll when nothing comes. Both logs hand a record over
# as soon as it is there (Kafka's fetch returns on new data, the embedded log wakes on the file's
# change), and stopping ends the wait, so this is only the loop's safety net: each turn of an idle
# loop costs CPU for nothing.
IDLE_POLL_S = 30.0


class ConsumerRunner:
    """Polls a consumer and hands batches to a handler that commits them with their positions."""

    def __init__(self, consumer: Consumer, handler: BatchHandler, name: str) -> None:
        """`name` is `service:what`, e.g. `search:documents`; it labels the metrics and spans."""
        self._consumer = consumer
        self._handler = handler
        self._name = name
        self.name = name
        self._component = "normreg." + name.partition(":")[0]
        self.processed = 0

    async def start(self) -> None:
        await self._consumer.start()

    async def close(self) -> None:
        await self._consumer.close()

    async def step(self, timeout: float = 0.0, wake: Sequence[asyncio.Event] = ()) -> int:
        """Polls up to `timeout` (returning early when one of `wake` is set) and applies what came."""
        batch = await self._poll(timeout, wake)
        if not batch:
            return 0
        try:
            with tracing.message_spans(self._component, "process", [(d.topic, d.value) for d in batch], current=True):
                await self._handler(batch)
        except BaseException:
            metrics.record_consumer_failure(self._name)
            await self._consumer.rewind()
            raise
        await self._consumer.commit(batch)
        self.processed += len(batch)
        counts: dict[str, int] = {}
        newest: dict[str, float] = {}
        for d in batch:
            counts[d.topic] = counts.get(d.topic, 0) + 1
            newest[d.topic] = max(newest.get(d.topic, 0.0), d.timestamp)
        metrics.record_applied(self._name, newest, counts)
        return len(batch)

    async def _poll(self, timeout: float, wake: Sequence[asyncio.Event]) -> list[Delivery]:
        if timeout <= 0 or not wake:
            return await self._consumer.poll(timeout=timeout)
        polling = asyncio.ensure_future(self._consumer.poll(timeout=timeout))
        woken = [asyncio.ensure_future(event.wait()) for event in wake]
        try:
            await asyncio.wait([polling, *woken], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in woken:
                waiter.cancel()
            if not polling.done():
                # Both logs take records only after their wait ends, so a poll cancelled while it
                # waits has taken nothing: the next poll gets what arrives meanwhile.
                polling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await polling
        return [] if polling.cancelled() else polling.result()

    async def lag(self) -> dict[tuple[str, int], int]:
        return await self._consumer.lag()

    async def drain(self) -> int:
        """Apply everything already in the log (tests and the CLI's synchronous paths)."""
        total = 0
        while n := await self.step(timeout=0.0):
            total += n
        return total

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.1
        while not stop.is_set():
            try:
                await self.step(timeout=IDLE_POLL_S, wake=(stop,))
                backoff = 0.1
            except Exception:
                log.warning("%s: batch failed, retrying in %.1fs", self._name, backoff, exc_info=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                backoff = min(backoff * 2, 10.0)
