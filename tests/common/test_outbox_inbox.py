"""The outbox never loses an accepted event when the log is down; the inbox applies each event once."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from normreg_common import inbox, outbox_relay
from normreg_common.eventlog import filewatch, port, sqlite_log
from normreg_common.eventlog.port import Consumer, Delivery, EventLog, PositionLoader, Record
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.inbox import INBOX_SCHEMA, ConsumerRunner, accept_sequence, position_loader, save_positions
from normreg_common.outbox import OUTBOX_SCHEMA, OutboxRelay, enqueue
from normreg_common.packing import pack
from normreg_common.sqlite import Database

from tests.common import require_file_watch

pytestmark = pytest.mark.asyncio


class UnreachableLog(EventLog):
    """A log whose broker is down: every publish fails."""

    def __init__(self) -> None:
        self.attempts = 0

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ensure_topics(self, topics: Sequence[str]) -> None: ...

    async def publish(self, records: Sequence[Record]) -> None:
        self.attempts += 1
        raise ConnectionError("broker unreachable")

    def consumer(self, topics: Sequence[str], group: str, positions: PositionLoader) -> Consumer:
        raise NotImplementedError


async def test_rows_stay_unsent_while_the_log_is_down_and_leave_when_it_returns(tmp_path: Path) -> None:
    db = Database(tmp_path / "svc.db", OUTBOX_SCHEMA)
    await db.open()
    await db.transaction(lambda conn: enqueue(conn, [Record("t", "k", f"{i}".encode()) for i in range(3)]))
    down = UnreachableLog()
    relay = OutboxRelay(db, down)
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    assert down.attempts == 1
    assert await relay.pending() == 3
    up = SqliteEventLog(tmp_path / "log.db")
    await up.start()
    relay = OutboxRelay(db, up)
    assert await relay.drain() == 3
    assert await relay.pending() == 0
    consumer = up.consumer(["t"], "g", position_loader_none)
    await consumer.start()
    assert [d.value for d in await consumer.poll(timeout=0)] == [b"0", b"1", b"2"]
    await up.close()
    await db.close()


async def position_loader_none(topic: str, partition: int) -> int | None:
    return None


class PartlyTakingLog(EventLog):
    """A broker that acknowledges the first `take` records of the first batch, then fails it."""

    def __init__(self, inner: EventLog, take: int) -> None:
        self.inner = inner
        self.take = take
        self.failures = 0

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ensure_topics(self, topics: Sequence[str]) -> None: ...

    async def publish(self, records: Sequence[Record]) -> None:
        if self.failures == 0:
            self.failures += 1
            await self.inner.publish(records[: self.take])
            raise ConnectionError("the broker went away halfway through the batch")
        await self.inner.publish(records)

    def consumer(self, topics: Sequence[str], group: str, positions: PositionLoader) -> Consumer:
        raise NotImplementedError


async def test_a_batch_the_log_took_only_in_part_is_sent_again_whole_and_nothing_is_lost(tmp_path: Path) -> None:
    db = Database(tmp_path / "svc.db", OUTBOX_SCHEMA)
    await db.open()
    # Packed rows too, as the registry writes its events.
    large = [("第一条 " + "规范性文件备案审查" * 80 + str(i)).encode() for i in range(6)]
    records = [Record("t", f"k{i % 2}", v) for i, v in enumerate(large)]
    await db.transaction(
        lambda conn: conn.executemany(
            "INSERT INTO outbox (topic, key, value, packed) VALUES (?, ?, ?, ?)",
            [(r.topic, r.key, *pack(r.value)) for r in records],
        )
    )
    log = SqliteEventLog(tmp_path / "log.db")
    await log.start()
    broker = PartlyTakingLog(log, take=3)
    relay = OutboxRelay(db, broker, batch_size=500)
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    assert await relay.pending() == 6
    assert await relay.drain() == 6
    assert await relay.pending() == 0
    consumer = log.consumer(["t"], "g", position_loader_none)
    await consumer.start()
    delivered = [(d.key, d.value) for d in await consumer.poll(timeout=0)]
    # The three taken before the failure come again (consumers drop them by sequence); none is missing,
    # and each key's records arrive in their order after the copies.
    assert delivered[:3] == [(r.key, r.value) for r in records[:3]]
    assert delivered[3:] == [(r.key, r.value) for r in records]
    await log.close()
    await db.close()


async def test_a_failed_batch_is_rolled_back_and_redelivered_whole(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    await log.start()
    await log.publish([Record("t", "k", f"{i}".encode()) for i in range(4)])
    db = Database(tmp_path / "consumer.db", INBOX_SCHEMA + "CREATE TABLE seen (v TEXT);")
    await db.open()
    fail = {"once": True}

    async def handler(batch: list[Delivery]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for d in batch:
                conn.execute("INSERT INTO seen VALUES (?)", (d.value.decode(),))
                if fail["once"] and d.value == b"2":
                    fail["once"] = False
                    raise RuntimeError("handler crashed mid-batch")
            save_positions(conn, "g", batch)

        await db.transaction(work)

    runner = ConsumerRunner(log.consumer(["t"], "g", position_loader(db, "g")), handler, "test")
    await runner.start()
    with pytest.raises(RuntimeError):
        await runner.step()
    assert await runner.drain() == 4
    seen = await db.read(lambda conn: [r[0] for r in conn.execute("SELECT v FROM seen ORDER BY rowid")])
    assert seen == ["0", "1", "2", "3"]
    # A restarted consumer resumes after the saved position: nothing is applied twice.
    await runner.close()
    again = ConsumerRunner(log.consumer(["t"], "g", position_loader(db, "g")), handler, "test")
    await again.start()
    assert await again.drain() == 0
    await again.close()
    await log.close()
    await db.close()


async def test_accept_sequence_drops_duplicates_and_older_copies(tmp_path: Path) -> None:
    db = Database(tmp_path / "inbox.db", INBOX_SCHEMA)
    await db.open()

    results = []
    for seq in (1, 2, 2, 1, 3):
        results.append(await db.transaction(lambda conn, s=seq: accept_sequence(conn, "/src", "documents/a", s)))
    assert results == [True, True, False, False, True]
    await db.close()


async def test_rows_go_into_the_embedded_log_as_the_outbox_keeps_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The embedded log packs as the outbox does: the relay hands the stored bytes over without
    # unpacking and packing them again, and a consumer reads back exactly what was enqueued.
    db = Database(tmp_path / "svc.db", OUTBOX_SCHEMA)
    await db.open()
    large = [("第一条 " + "规范性文件备案审查" * 80 + str(i)).encode() for i in range(3)]
    records = [Record("t", "k", v) for v in [*large, b"small", b""]]
    await db.transaction(
        lambda conn: conn.executemany(
            "INSERT INTO outbox (topic, key, value, packed) VALUES (?, ?, ?, ?)",
            [(r.topic, r.key, *pack(r.value)) for r in records[:4]] + [("t", "k", b"", 0)],
        )
    )
    log = SqliteEventLog(tmp_path / "log.db", topic_prefix="p.")
    await log.start()

    def repacked(*args: object) -> None:
        raise AssertionError("the relay unpacked or packed a row again")

    monkeypatch.setattr(outbox_relay, "unpack", repacked)
    monkeypatch.setattr(port, "unpack", repacked)
    monkeypatch.setattr(sqlite_log, "pack", repacked)
    assert await OutboxRelay(db, log, batch_size=2).drain() == 5
    monkeypatch.undo()
    conn = sqlite3.connect(tmp_path / "svc.db")
    kept = conn.execute("SELECT value, packed FROM outbox ORDER BY id").fetchall()
    conn.close()
    conn = sqlite3.connect(tmp_path / "log.db")
    logged = conn.execute("SELECT value, packed FROM records WHERE topic = 'p.t' ORDER BY offset").fetchall()
    conn.close()
    assert logged == kept
    assert [packed for _, packed in logged] == [1, 1, 1, 0, 0]
    consumer = log.consumer(["t"], "g", position_loader_none)
    await consumer.start()
    assert [(d.topic, d.key, d.value) for d in await consumer.poll(timeout=0)] == [
        (r.topic, r.key, r.value) for r in records
    ]
    await log.close()
    await db.close()


async def test_the_consumer_loop_applies_records_as_they_come_and_stops_without_waiting_out_its_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An idle loop waits in one poll as long as this; records and stopping must both end the wait.
    monkeypatch.setattr(inbox, "IDLE_POLL_S", 3600.0)
    log = SqliteEventLog(tmp_path / "log.db")
    await log.start()
    db = Database(tmp_path / "consumer.db", INBOX_SCHEMA)
    await db.open()
    seen: list[bytes] = []
    arrived = asyncio.Event()

    async def handler(batch: list[Delivery]) -> None:
        await db.transaction(lambda conn: save_positions(conn, "g", batch))
        seen.extend(d.value for d in batch)
        arrived.set()

    runner = ConsumerRunner(log.consumer(["t"], "g", position_loader(db, "g")), handler, "test")
    await runner.start()
    stop = asyncio.Event()
    running = asyncio.create_task(runner.run(stop))
    try:
        await log.publish([Record("t", "k", b"first")])
        # The bounds of these waits only end a broken test; a working loop returns at once.
        await asyncio.wait_for(arrived.wait(), timeout=30)
        assert seen == [b"first"]
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
    assert running.exception() is None
    await runner.close()
    await log.close()
    await db.close()


async def test_an_embedded_poll_cancelled_while_it_reads_leaves_the_records_for_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filewatch, "SETTLE_S", 0.0)
    log = SqliteEventLog(tmp_path / "log.db")
    await log.start()
    consumer = log.consumer(["t"], "g", no_position)
    await consumer.start()
    try:
        assert isinstance(consumer, sqlite_log.SqliteConsumer)
        require_file_watch(consumer._watch.watching)
        assert await consumer.poll(timeout=0.0) == []  # caught up: the next poll waits for a change
        await log.publish([Record("t", "k", b"v")])
        await asyncio.wait_for(consumer._watch.changed.wait(), timeout=30)
        reading = asyncio.Event()
        read = consumer._db.read

        async def stuck_read(fn: Callable[[sqlite3.Connection], object]) -> object:
            reading.set()
            await asyncio.Event().wait()  # until cancelled
            return await read(fn)

        monkeypatch.setattr(consumer._db, "read", stuck_read)
        polling = asyncio.create_task(consumer.poll(timeout=30))
        await asyncio.wait_for(reading.wait(), timeout=30)
        polling.cancel()
        with pytest.raises(asyncio.CancelledError):
            await polling
        monkeypatch.setattr(consumer._db, "read", read)
        # Without reading again the poll would wait for a change that already happened.
        got = await consumer.poll(timeout=10)
        assert [d.value for d in got] == [b"v"]
    finally:
        await consumer.close()
        await log.close()


async def no_position(topic: str, partition: int) -> int | None:
    return None


class SmallTopicLog(EventLog):
    """A log whose topic takes records of at most `limit` bytes (a topic created with a smaller
    max.message.bytes than ours): it refuses a larger one for what it is, and takes the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.records: list[Record] = []

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ensure_topics(self, topics: Sequence[str]) -> None: ...

    async def publish(self, records: Sequence[Record]) -> None:
        for r in records:
            if len(r.value) > self.limit:
                raise port.RecordRefused(r, f"{len(r.value)} bytes, more than the topic takes")
        self.records.extend(records)

    def consumer(self, topics: Sequence[str], group: str, positions: PositionLoader) -> Consumer:
        raise NotImplementedError


async def test_an_event_the_log_refuses_for_its_size_is_held_and_the_events_behind_it_go_on(tmp_path: Path) -> None:
    """An event the log will never take stopped every event behind it: the relay publishes the oldest
    rows first and retried the batch for ever. It is now held (kept unsent, counted, passed over) and
    the rest, of its key too, are published in order."""
    db = Database(tmp_path / "svc.db", OUTBOX_SCHEMA)
    await db.open()
    values = [b"a1", b"x" * 100, b"a2", b"b1"]
    keys = ["a", "a", "a", "b"]
    await db.transaction(lambda conn: enqueue(conn, [Record("t", k, v) for k, v in zip(keys, values, strict=True)]))
    log = SmallTopicLog(limit=10)
    relay = OutboxRelay(db, log, batch_size=2)
    assert await relay.drain() == 3
    assert [r.value for r in log.records] == [b"a1", b"a2", b"b1"]
    assert len(relay.held) == 1
    assert await relay.pending() == 1  # kept, not lost: still in the outbox, and in the backlog's count
    assert await relay.relay_once() == 0  # passed over, not retried for ever
