"""Records a consumer could not decode or apply, kept in its own database with the raw bytes and the
error: the consumer skips them and goes on, an administrator lists them and retries them.

One row per record (group, topic, partition, offset): setting the same record aside again (a batch
replayed after a crash, a retry that fails again) updates its error and counts the attempt.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Any

from normreg_common.eventlog.port import Delivery
from normreg_common.postgres.database import Conn, PostgresDatabase
from normreg_common.sqlite import Database

DEAD_LETTER_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    record_key TEXT NOT NULL,
    value BLOB NOT NULL,
    stage TEXT NOT NULL,
    error TEXT NOT NULL,
    first_time TEXT NOT NULL,
    last_time TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, partition, offset)
);
"""

# What is kept of an error: enough to see the cause, bounded so a huge message cannot bloat the table.
ERROR_MAX = 2000
# Written for SQLite; `_sql` adapts the placeholders and the quoting of "offset" to PostgreSQL.
_PUT = (
    "INSERT INTO dead_letters (grp, topic, partition, {offset}, record_key, value, stage, error, first_time, "
    "last_time, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
    "ON CONFLICT (grp, topic, partition, {offset}) DO UPDATE SET stage = excluded.stage, "
    "error = excluded.error, last_time = excluded.last_time, attempts = dead_letters.attempts + 1"
)
_SELECT = (
    "SELECT topic, partition, {offset}, record_key, value, stage, error, first_time, last_time, attempts "
    "FROM dead_letters WHERE grp = ? "
)
_LIST = _SELECT + "ORDER BY topic, partition, {offset} LIMIT ? OFFSET ?"
_GET = _SELECT + "AND topic = ? AND partition = ? AND {offset} = ?"
_REMOVE = "DELETE FROM dead_letters WHERE grp = ? AND topic = ? AND partition = ? AND {offset} = ?"


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: str
    value: bytes
    # "decode": not a readable event; "apply": read, but applying it failed.
    stage: str
    error: str
    first_time: str
    last_time: str
    attempts: int

    @property
    def name(self) -> str:
        return f"deadLetters/{self.topic}:{self.partition}:{self.offset}"

    def delivery(self) -> Delivery:
        return Delivery(self.topic, self.partition, self.offset, self.key, self.value)


def describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    # A refusal with a reason (FAILED_PRECONDITION's, a federation check's) is listed by it.
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason and reason not in text:
        text = f"{type(exc).__name__}: {reason}: {exc}"
    return text[:ERROR_MAX]


class DeadLetters:
    """The dead letters of one consumer group in the consumer's own database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database | PostgresDatabase, group: str) -> None:
        self._db = db
        self.group = group
        pg = isinstance(db, PostgresDatabase)
        self._p = "%s" if pg else "?"
        self._offset = '"offset"' if pg else "offset"

    def _sql(self, text: str) -> str:
        return text.replace("?", self._p).replace("{offset}", self._offset)

    async def put(self, delivery: Delivery, stage: str, error: BaseException) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        row = (
            self.group,
            delivery.topic,
            delivery.partition,
            delivery.offset,
            delivery.key,
            delivery.value,
            stage,
            describe(error),
            now,
            now,
        )
        sql = self._sql(_PUT)

        def work(conn: sqlite3.Connection | Conn) -> None:
            conn.execute(sql, row)

        await self._db.transaction(work)

    async def list(self, limit: int, skip: int = 0) -> list[DeadLetter]:
        """In (topic, partition, offset) order, from the `skip`-th."""
        sql = self._sql(_LIST)

        def work(conn: sqlite3.Connection | Conn) -> list[Any]:
            return list(conn.execute(sql, (self.group, limit, skip)).fetchall())

        return [_letter(row) for row in await self._db.read(work)]

    async def get(self, topic: str, partition: int, offset: int) -> DeadLetter | None:
        sql = self._sql(_GET)

        def work(conn: sqlite3.Connection | Conn) -> Any:
            return conn.execute(sql, (self.group, topic, partition, offset)).fetchone()

        row = await self._db.read(work)
        return None if row is None else _letter(row)

    async def remove(self, topic: str, partition: int, offset: int) -> None:
        sql = self._sql(_REMOVE)

        def work(conn: sqlite3.Connection | Conn) -> None:
            conn.execute(sql, (self.group, topic, partition, offset))

        await self._db.transaction(work)


def _letter(row: Any) -> DeadLetter:
    topic, partition, offset, key, value, stage, error, first, last, attempts = row
    return DeadLetter(
        str(topic),
        int(partition),
        int(offset),
        str(key),
        bytes(value),
        str(stage),
        str(error),
        str(first),
        str(last),
        int(attempts),
    )
