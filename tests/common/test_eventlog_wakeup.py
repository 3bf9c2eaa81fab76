"""Consumers of the embedded log sleep while it is quiet and wake when another process writes it."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from pathlib import Path

import pytest
from normreg_common.eventlog import filewatch, sqlite_log
from normreg_common.eventlog.port import Record
from normreg_common.eventlog.sqlite_log import SqliteConsumer, SqliteEventLog

from tests.common import require_file_watch

pytestmark = pytest.mark.asyncio


async def no_position(topic: str, partition: int) -> int | None:
    return None


async def test_a_write_by_another_connection_wakes_the_watch(tmp_path: Path) -> None:
    producer = SqliteEventLog(tmp_path / "events.db")
    await producer.start()
    # The consumer's side is a second log object on the same file, as in another process.
    reader = SqliteEventLog(tmp_path / "events.db")
    await reader.start()
    consumer = reader.consumer(["t"], "g", no_position)
    await consumer.start()
    try:
        assert isinstance(consumer, SqliteConsumer)
        if sys.platform.startswith("linux"):
            assert consumer._watch.watching
        assert await consumer.poll(timeout=0.0) == []
        consumer._watch.changed.clear()
        await producer.publish([Record("t", "k", b"v")])
        # Without notification this would wait for ever (wait_for's bound only ends a broken test).
        await asyncio.wait_for(consumer._watch.changed.wait(), timeout=30)
        got = await consumer.poll(timeout=30)
        assert [(d.key, d.value) for d in got] == [("k", b"v")]
    finally:
        await consumer.close()
        await reader.close()
        await producer.close()


async def test_a_caught_up_consumer_does_not_query_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = SqliteEventLog(tmp_path / "events.db")
    await log.start()
    consumer = log.consumer(["t"], "g", no_position)
    await consumer.start()
    try:
        assert isinstance(consumer, SqliteConsumer)
        require_file_watch(consumer._watch.watching)
        reads = 0
        fetch = consumer._fetch

        def counting(conn: sqlite3.Connection, max_records: int) -> list[sqlite_log.Delivery]:
            nonlocal reads
            reads += 1
            return fetch(conn, max_records)

        monkeypatch.setattr(consumer, "_fetch", counting)
        assert await consumer.poll(timeout=0.0) == []
        assert reads == 1
        for _ in range(3):
            assert await consumer.poll(timeout=0.01) == []
        assert reads == 1, "an idle consumer queried the log"
        await log.publish([Record("t", "k", b"v")])
        got = await consumer.poll(timeout=30)
        assert [d.value for d in got] == [b"v"]
        assert reads >= 2
    finally:
        await consumer.close()
        await log.close()


async def test_without_notification_consumers_poll_and_still_see_every_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(self: filewatch.FileWatch) -> None:
        return None

    monkeypatch.setattr(filewatch.FileWatch, "start", unavailable)
    log = SqliteEventLog(tmp_path / "events.db")
    await log.start()
    consumer = log.consumer(["t"], "g", no_position)
    await consumer.start()
    try:
        assert isinstance(consumer, SqliteConsumer)
        assert not consumer._watch.watching
        assert await consumer.poll(timeout=0.05) == []

        async def later() -> None:
            await asyncio.sleep(0.05)
            await log.publish([Record("t", str(i), b"x") for i in range(5)])

        task = asyncio.create_task(later())
        got: list[sqlite_log.Delivery] = []
        while len(got) < 5:
            got.extend(await consumer.poll(timeout=1.0))
        await task
        assert [d.key for d in got] == [str(i) for i in range(5)]
    finally:
        await consumer.close()
        await log.close()


def write_database(path: Path, rows: int) -> None:
    """Another service's database beside the log, written the way the services write theirs."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS t (x BLOB)")
        for _ in range(rows):
            with conn:
                conn.execute("INSERT INTO t VALUES (?)", (b"x" * 5000,))


async def test_writes_of_other_databases_beside_the_log_do_not_wake_its_consumers(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "eventlog.db")
    await log.start()
    consumer = log.consumer(["t"], "g", no_position)
    await consumer.start()
    try:
        assert isinstance(consumer, SqliteConsumer)
        require_file_watch(consumer._watch.watching)
        watch = consumer._watch
        with (
            contextlib.closing(sqlite3.connect(tmp_path / "search.db")) as other,
            (tmp_path / "search.log").open("a") as text,
        ):
            # Another service's database and log file beside the log, open as a running service holds them.
            other.execute("PRAGMA journal_mode=WAL")
            other.execute("CREATE TABLE t (x BLOB)")
            watch._on_events()  # their creation is reported: a new -wal of the log would be one
            watch.changed.clear()
            for _ in range(20):
                with other:
                    other.execute("INSERT INTO t VALUES (?)", (b"x" * 5000,))
                text.write("a line\n")
                text.flush()
            # The kernel queues a write's notification before the write returns: reading the queue
            # right after the writes sees every one of them. Each would wake the consumer's process
            # (to be read and looked at) even if it then changed nothing.
            assert list(watch._inotify.read(timeout=0)) == [], "writes of other files reached the log's consumer"
        assert not watch.changed.is_set()
        await log.publish([Record("t", "k", b"v")])
        watch._on_events()
        assert watch.changed.is_set()
    finally:
        await consumer.close()
        await log.close()


async def test_the_watch_follows_a_log_made_after_it_and_a_wal_made_again(tmp_path: Path) -> None:
    path = tmp_path / "eventlog.db"
    watch = filewatch.FileWatch(path)
    watch.start()
    try:
        require_file_watch(watch.watching)
        for round_ in range(3):
            # Each round opens the log, writes and closes it: the last connection's close removes
            # the -wal, and the next round's writer makes a new one.
            watch.changed.clear()
            write_database(path, 1)
            assert not (tmp_path / "eventlog.db-wal").exists()
            watch._on_events()
            assert watch.changed.is_set(), f"round {round_}: a write of the log did not wake the watch"
        # Held open, the -wal stays, and each commit to it wakes the watch through its own watch.
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            with conn:
                conn.execute("INSERT INTO t VALUES (?)", (b"y",))
            watch._on_events()
            watch.changed.clear()
            with conn:
                conn.execute("INSERT INTO t VALUES (?)", (b"z",))
            watch._on_events()
            assert watch.changed.is_set()
    finally:
        watch.close()
