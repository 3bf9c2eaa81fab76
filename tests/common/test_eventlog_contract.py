"""One contract for the event log port; the embedded SQLite log and Apache Kafka both pass it."""

from __future__ import annotations

import abc
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from normreg_common.eventlog.port import MAX_RECORD_BYTES, Consumer, Delivery, EventLog, Record, RecordRefused
from normreg_common.eventlog.sqlite_log import SqliteEventLog

pytestmark = pytest.mark.asyncio


class Positions:
    """A consumer's own store of processed positions, as a service database would keep it."""

    def __init__(self) -> None:
        self.last: dict[tuple[str, int], int] = {}

    async def load(self, topic: str, partition: int) -> int | None:
        return self.last.get((topic, partition))

    def save(self, deliveries: list[Delivery]) -> None:
        for d in deliveries:
            self.last[(d.topic, d.partition)] = max(d.offset, self.last.get((d.topic, d.partition), -1))


async def collect(consumer: Consumer, n: int, timeout: float = 60.0) -> list[Delivery]:
    """Polls until n records arrived; a broker needs a moment to assign partitions to a new group."""
    out: list[Delivery] = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        out.extend(await consumer.poll(max_records=n - len(out), timeout=0.5))
    return out


class EventLogContract(abc.ABC):
    @abc.abstractmethod
    @pytest.fixture
    async def log(self, tmp_path: Path) -> AsyncIterator[EventLog]: ...

    @abc.abstractmethod
    @pytest.fixture
    def prefixed(self, tmp_path: Path) -> Callable[[str], EventLog]:
        """Logs of one cluster (one file) under a topic prefix each: several deployments."""
        raise NotImplementedError(f"{type(self).__name__} runs the event log contract without a `prefixed` fixture")

    async def test_a_topic_prefix_keeps_deployments_apart(self, prefixed: Callable[[str], EventLog]) -> None:
        tag = uuid.uuid4().hex[:8]
        a, b, reader = prefixed(f"a{tag}."), prefixed(f"b{tag}."), prefixed(f"a{tag}.")
        for log in (a, b, reader):
            await log.start()
        try:
            await a.ensure_topics(["docs"])
            await b.ensure_topics(["docs"])
            await a.publish([Record("docs", "k", b"from-a")])
            await b.publish([Record("docs", "k", b"from-b")])
            for log, expected in ((b, b"from-b"), (reader, b"from-a")):
                consumer = log.consumer(["docs"], f"g-{tag}", Positions().load)
                await consumer.start()
                try:
                    got = await collect(consumer, 1)
                    got += await consumer.poll(timeout=1.0)
                    lag = await consumer.lag()
                finally:
                    await consumer.close()
                # Deliveries and positions carry the logical topic name, whatever the prefix.
                assert [(d.topic, d.value) for d in got] == [("docs", expected)]
                assert lag == {("docs", got[0].partition): 1}
        finally:
            for log in (a, b, reader):
                await log.close()

    @pytest.fixture
    async def topic(self, log: EventLog) -> str:
        name = f"test.{uuid.uuid4().hex[:10]}"
        await log.ensure_topics([name])
        return name

    async def test_records_come_back_in_order_per_key(self, log: EventLog, topic: str) -> None:
        records = [Record(topic, f"documents/{i % 3}", f"{i}".encode()) for i in range(30)]
        await log.publish(records)
        consumer = log.consumer([topic], f"g-{uuid.uuid4().hex[:8]}", Positions().load)
        await consumer.start()
        try:
            got = await collect(consumer, 30)
        finally:
            await consumer.close()
        assert len(got) == 30
        for key in ("documents/0", "documents/1", "documents/2"):
            values = [int(d.value) for d in got if d.key == key]
            assert values == sorted(values) and len(values) == 10

    async def test_a_consumer_resumes_after_the_positions_its_own_store_holds(self, log: EventLog, topic: str) -> None:
        await log.publish([Record(topic, "k", f"{i}".encode()) for i in range(10)])
        positions = Positions()
        group = f"g-{uuid.uuid4().hex[:8]}"
        first = log.consumer([topic], group, positions.load)
        await first.start()
        try:
            got = await collect(first, 4)
            got = got[:4]
            positions.save(got)
        finally:
            await first.close()
        second = log.consumer([topic], group, positions.load)
        await second.start()
        try:
            rest = await collect(second, 6)
        finally:
            await second.close()
        assert [int(d.value) for d in rest] == [4, 5, 6, 7, 8, 9]

    async def test_lag_counts_the_records_after_the_saved_positions(self, log: EventLog, topic: str) -> None:
        before = time.time()
        await log.publish([Record(topic, f"documents/{i % 2}", f"{i}".encode()) for i in range(6)])
        positions = Positions()
        consumer = log.consumer([topic], f"g-{uuid.uuid4().hex[:8]}", positions.load)
        await consumer.start()
        try:
            got = await collect(consumer, 6)
            assert all(d.timestamp >= before - 5 for d in got)  # the log's own append time
            assert sum((await consumer.lag()).values()) == 6
            positions.save(got[:4])
            lag = await consumer.lag()
            assert all(t == topic for t, _ in lag) and sum(lag.values()) == 2
            positions.save(got)
            assert sum((await consumer.lag()).values()) == 0
        finally:
            await consumer.close()

    async def test_rewind_redelivers_what_was_not_saved(self, log: EventLog, topic: str) -> None:
        await log.publish([Record(topic, "k", f"{i}".encode()) for i in range(5)])
        positions = Positions()
        consumer = log.consumer([topic], f"g-{uuid.uuid4().hex[:8]}", positions.load)
        await consumer.start()
        try:
            first = await collect(consumer, 5)
            # The handler failed: nothing was saved, so everything comes again.
            await consumer.rewind()
            again = await collect(consumer, 5)
        finally:
            await consumer.close()
        assert [d.value for d in again] == [d.value for d in first]

    async def test_a_consumer_sees_records_published_after_it_started(self, log: EventLog, topic: str) -> None:
        consumer = log.consumer([topic], f"g-{uuid.uuid4().hex[:8]}", Positions().load)
        await consumer.start()
        try:
            await collect(consumer, 1, timeout=2.0)
            await log.publish([Record(topic, "k", b"late")])
            got = await collect(consumer, 1)
        finally:
            await consumer.close()
        assert [d.value for d in got] == [b"late"]


class TestSqliteEventLog(EventLogContract):
    @pytest.fixture
    async def log(self, tmp_path: Path) -> AsyncIterator[EventLog]:
        log = SqliteEventLog(tmp_path / "log.db")
        await log.start()
        yield log
        await log.close()

    @pytest.fixture
    def prefixed(self, tmp_path: Path) -> Callable[[str], EventLog]:
        return lambda prefix: SqliteEventLog(tmp_path / "shared.db", topic_prefix=prefix)

    async def test_the_log_is_shared_by_processes_through_its_file(self, tmp_path: Path) -> None:
        writer = SqliteEventLog(tmp_path / "shared.db")
        reader = SqliteEventLog(tmp_path / "shared.db")
        await writer.start()
        await reader.start()
        try:
            await writer.publish([Record("t", "k", b"x")])
            consumer = reader.consumer(["t"], "g", Positions().load)
            await consumer.start()
            assert [d.value for d in await collect(consumer, 1)] == [b"x"]
        finally:
            await reader.close()
            await writer.close()


@pytest.mark.kafka
class TestKafkaEventLog(EventLogContract):
    @pytest.fixture
    async def log(self, tmp_path: Path, kafka_bootstrap: str) -> AsyncIterator[EventLog]:
        from normreg_common.eventlog.kafka_log import KafkaEventLog

        log = KafkaEventLog(kafka_bootstrap, client_id="contract-test", partitions=3)
        await log.start()
        yield log
        await log.close()

    @pytest.fixture
    def prefixed(self, kafka_bootstrap: str) -> Callable[[str], EventLog]:
        from normreg_common.eventlog.kafka_log import KafkaEventLog

        return lambda prefix: KafkaEventLog(kafka_bootstrap, client_id="prefix-test", partitions=1, topic_prefix=prefix)

    async def test_a_record_larger_than_the_topic_takes_is_refused_by_name_and_the_next_goes_on(
        self, log: EventLog, topic: str
    ) -> None:
        """The broker's refusal of a record for its size is RecordRefused, naming the record (the relay
        holds it and goes on); the records after it are published as ever."""
        await log.ensure_topics([topic])
        too_large = Record(topic, "k", b"x" * (MAX_RECORD_BYTES + 1))
        with pytest.raises(RecordRefused) as refused:
            await log.publish([too_large])
        assert refused.value.record is too_large
        await log.publish([Record(topic, "k", b"after")])
        consumer = log.consumer([topic], f"g-{uuid.uuid4().hex[:8]}", Positions().load)
        await consumer.start()
        try:
            got = [d.value for d in await collect(consumer, 1)]
        finally:
            await consumer.close()
        assert got == [b"after"]
