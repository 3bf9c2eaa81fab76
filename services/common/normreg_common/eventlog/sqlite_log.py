"""An embedded, durable event log in one SQLite file that several processes share.

One partition per topic; offsets are dense from 0. Consumers read with a query and, when they are
caught up, sleep until the file is written (inotify on its directory, see `filewatch`), which works
across processes and costs nothing while nothing happens.

`topic_prefix` namespaces the stored topics as on Kafka, so several deployments (a province and its
cities) can share one file, each on its own topics; services keep using the logical names.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from normreg_common.eventlog.filewatch import POLL_MIN_S, FileWatch
from normreg_common.eventlog.port import Consumer, Delivery, EventLog, PositionLoader, Record
from normreg_common.packing import pack, unpack
from normreg_common.sqlite import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL,
    offset INTEGER NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    appended_at REAL NOT NULL,
    -- 1: `value` is packed (normreg_common.packing); records appended before it are 0, as given.
    packed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (topic, offset)
) WITHOUT ROWID;
"""


def migrate(conn: sqlite3.Connection) -> None:
    """A log written before values were packed gains the column; its records read as they are."""
    if "packed" not in {row[1] for row in conn.execute("PRAGMA table_info(records)")}:
        conn.execute("ALTER TABLE records ADD COLUMN packed INTEGER NOT NULL DEFAULT 0")


class SqliteEventLog(EventLog):
    def __init__(self, path: Path | str, *, topic_prefix: str = "") -> None:
        self._path = path
        self._prefix = topic_prefix
        self._db = Database(path, SCHEMA)
        self._consumers: list[SqliteConsumer] = []

    async def start(self) -> None:
        await self._db.open()
        await self._db.transaction(migrate)

    async def close(self) -> None:
        for consumer in list(self._consumers):
            await consumer.close()
        await self._db.close()

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        return None

    async def publish(self, records: Sequence[Record]) -> None:
        await self.publish_packed([(r.topic, r.key, *pack(r.value)) for r in records])

    async def publish_packed(self, records: Sequence[tuple[str, str, bytes, bool]]) -> None:
        """Appends records given with their values as this log keeps them (`normreg_common.packing`:
        topic, key, the bytes and whether they are packed): an outbox kept with the same packing hands its rows
        over as they are, instead of unpacking and packing each again on the way."""
        if records:
            rows = [(self._prefix + topic, key, stored, packed) for topic, key, stored, packed in records]
            await self._db.transaction(lambda conn: _append(conn, rows))

    def consumer(self, topics: Sequence[str], group: str, positions: PositionLoader) -> Consumer:
        consumer = SqliteConsumer(self._path, topics, positions, self._consumers, topic_prefix=self._prefix)
        self._consumers.append(consumer)
        return consumer


def _append(conn: sqlite3.Connection, rows: Sequence[tuple[str, str, bytes, bool]]) -> None:
    next_offsets: dict[str, int] = {}
    now = time.time()
    for topic, key, value, packed in rows:
        if topic not in next_offsets:
            row = conn.execute("SELECT MAX(offset) FROM records WHERE topic = ?", (topic,)).fetchone()
            next_offsets[topic] = -1 if row[0] is None else row[0]
        next_offsets[topic] += 1
        conn.execute(
            "INSERT INTO records (topic, offset, key, value, appended_at, packed) VALUES (?, ?, ?, ?, ?, ?)",
            (topic, next_offsets[topic], key, value, now, packed),
        )


class SqliteConsumer(Consumer):
    def __init__(
        self,
        path: Path | str,
        topics: Sequence[str],
        positions: PositionLoader,
        registry: list[SqliteConsumer],
        *,
        topic_prefix: str = "",
    ) -> None:
        # Its own connection: consumers may live in another process than the producers.
        self._db = Database(path, SCHEMA)
        # Logical names; what is stored is prefixed. Deliveries and positions use the logical names.
        self._topics = list(topics)
        self._prefix = topic_prefix
        self._loader = positions
        self._next: dict[str, int] = {}
        self._registry = registry
        self._closed = False
        self._watch = FileWatch(path)
        self._caught_up = False

    async def start(self) -> None:
        await self._db.open()
        # Its producer may not have started yet, or may be of a release before the column.
        await self._db.transaction(migrate)
        self._watch.start()
        await self.rewind()

    async def rewind(self) -> None:
        self._caught_up = False
        for topic in self._topics:
            last = await self._loader(topic, 0)
            self._next[topic] = 0 if last is None else last + 1

    async def poll(self, max_records: int = 500, timeout: float = 0.5) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while True:
            # A drain (timeout 0) always reads: it promises everything committed before it.
            if timeout <= 0 or self._must_read():
                # Cleared before the read: a commit after the read's snapshot sets it again.
                self._watch.changed.clear()
                # Until this read completes: a poll cancelled during it reads again the next time.
                self._caught_up = False
                batch = await self._db.read(lambda conn: self._fetch(conn, max_records))
                if batch:
                    for delivery in batch:
                        self._next[delivery.topic] = delivery.offset + 1
                    self._watch.found()
                    return batch
                self._caught_up = not self._watch.settling()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closed:
                return []
            if self._caught_up:
                await self._watch.wait(remaining)
            else:
                await asyncio.sleep(min(remaining, POLL_MIN_S))

    def _must_read(self) -> bool:
        """False only when a read found nothing and the file has not been written since."""
        return not (self._caught_up and self._watch.watching and not self._watch.changed.is_set())

    def _fetch(self, conn: sqlite3.Connection, max_records: int) -> list[Delivery]:
        out: list[Delivery] = []
        for topic in self._topics:
            rows = conn.execute(
                "SELECT offset, key, value, appended_at, packed FROM records WHERE topic = ? AND offset >= ? "
                "ORDER BY offset LIMIT ?",
                (self._prefix + topic, self._next[topic], max_records - len(out)),
            ).fetchall()
            out.extend(
                Delivery(
                    topic, 0, row["offset"], row["key"], unpack(bytes(row["value"]), row["packed"]), row["appended_at"]
                )
                for row in rows
            )
            if len(out) >= max_records:
                break
        return out

    async def commit(self, deliveries: Sequence[Delivery]) -> None:
        return None

    async def lag(self) -> dict[tuple[str, int], int]:
        ends = await self._db.read(self._ends)
        out: dict[tuple[str, int], int] = {}
        for topic in self._topics:
            applied = await self._loader(topic, 0)
            out[(topic, 0)] = max(0, ends.get(topic, 0) - (0 if applied is None else applied + 1))
        return out

    def _ends(self, conn: sqlite3.Connection) -> dict[str, int]:
        ends: dict[str, int] = {}
        for topic in self._topics:
            row = conn.execute("SELECT MAX(offset) FROM records WHERE topic = ?", (self._prefix + topic,)).fetchone()
            ends[topic] = 0 if row[0] is None else int(row[0]) + 1
        return ends

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._watch.close()
            await self._db.close()
            if self in self._registry:
                self._registry.remove(self)
