"""Apache Kafka behind the event log port (aiokafka).

Producer: idempotent (acks=all), so a retried send never duplicates within a session and a record
is acknowledged only when every in-sync replica has it. Topics have several partitions keyed by
document, which keeps each document's events in order.

Consumer: auto-commit off. On every assignment the rebalance listener seeks each partition to the
position the consumer's own database holds, so the group offsets in Kafka are only advisory. The
consumer also drops any record at or below that position: aiokafka refreshes committed offsets in a
task of its own that can land after the listener's seek, and a stale Kafka offset must never make
us apply a record twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import MessageSizeTooLargeError, RecordTooLargeError, TopicAlreadyExistsError

from normreg_common.eventlog.kafka_security import PLAINTEXT, KafkaSecurity
from normreg_common.eventlog.port import (
    MAX_RECORD_BYTES,
    Consumer,
    Delivery,
    EventLog,
    PositionLoader,
    Record,
    RecordRefused,
)

log = logging.getLogger(__name__)

PARTITIONS = 6
# What the producer buffers per partition before send() waits for the batch to leave.
BATCH_BYTES = 1024 * 1024
# How often consumers refresh the cluster's metadata (aiokafka's default is five minutes).
METADATA_MAX_AGE_MS = 10_000
# aiokafka's fetch routine keeps its 200 ms look-again (`consumer_timeout_ms`): at 5 s an idle consumer
# woke less, but a record could wait seconds after a seek or a reset left no fetch in flight (a
# dead-lettering test on Kafka failed 1 run in 3, none in 5 at 200 ms).
# How long a service waits at start for the topics it created to have leaders.
TOPIC_READY_S = 30.0


class KafkaEventLog(EventLog):
    """`topic_prefix` namespaces the physical topics (several deployments or test runs on one
    cluster); services keep using the logical names."""

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str,
        partitions: int = PARTITIONS,
        topic_prefix: str = "",
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self._bootstrap = bootstrap
        self._security = security
        self._client_id = client_id
        self._partitions = partitions
        self._prefix = topic_prefix
        self._producer: AIOKafkaProducer | None = None
        self._started = False

    async def start(self) -> None:
        self._started = True
        self._producer = await self._new_producer()

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            # zstd at the broker's default level: gzip (aiokafka writes it at level 9) cost the relay
            # more and saved less.
            compression_type="zstd",
            max_request_size=MAX_RECORD_BYTES,
            # A relay batch (up to 500 events of ~14 KB) goes in a few requests per partition: at
            # aiokafka's 16 KiB each event was a request of its own, and send() waited for each.
            max_batch_size=BATCH_BYTES,
            linger_ms=2,
            request_timeout_ms=15000,
            **self._security.client_options(),
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        return producer

    async def close(self) -> None:
        self._started = False
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-admin",
            **self._security.client_options(),
        )
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [self._prefix + t for t in topics if self._prefix + t not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(
                        [
                            NewTopic(
                                t,
                                num_partitions=self._partitions,
                                replication_factor=1,
                                topic_configs={"max.message.bytes": str(MAX_RECORD_BYTES)},
                            )
                            for t in missing
                        ]
                    )
                await _until_led(admin, missing)
        finally:
            await admin.close()

    async def publish(self, records: Sequence[Record]) -> None:
        if not self._started:
            raise RuntimeError("the Kafka event log is not started")
        if self._producer is None:
            # The last one failed: a new producer (new producer id, sequences from 0). This fails
            # while the broker is unreachable; the caller retries later.
            self._producer = await self._new_producer()
        producer = self._producer
        try:
            futures = []
            for r in records:
                try:
                    futures.append(await producer.send(self._prefix + r.topic, value=r.value, key=r.key.encode()))
                except (MessageSizeTooLargeError, RecordTooLargeError) as exc:
                    raise RecordRefused(r, str(exc)) from exc
            # Every record must be acknowledged; the first failure raises and the caller retries them all,
            # but one the broker refused for its size (a topic created with a smaller limit) is named.
            for r, outcome in zip(records, await asyncio.gather(*futures, return_exceptions=True), strict=True):
                if isinstance(outcome, (MessageSizeTooLargeError, RecordTooLargeError)):
                    raise RecordRefused(r, str(outcome)) from outcome
                if isinstance(outcome, BaseException):
                    raise outcome
        except Exception:
            # aiokafka's idempotent producer does not survive every failure: a batch that expired while
            # the broker was away leaves a gap in its sequence numbers, the broker answers
            # OutOfOrderSequenceNumber, and the sender task dies for good. Start afresh next time;
            # records sent twice are dropped by the consumers' sequence check.
            self._producer = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout=5.0)
            raise

    def consumer(self, topics: Sequence[str], group: str, positions: PositionLoader) -> Consumer:
        return KafkaConsumer(
            self._bootstrap,
            topics,
            group,
            positions,
            client_id=self._client_id,
            topic_prefix=self._prefix,
            security=self._security,
        )


class _SeekToStoredPositions(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: KafkaConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._consumer.forget(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._consumer.seek_to_stored(assigned)


class KafkaConsumer(Consumer):
    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        group: str,
        positions: PositionLoader,
        *,
        client_id: str,
        topic_prefix: str = "",
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self._prefix = topic_prefix
        self._topics = [topic_prefix + t for t in topics]
        # Positions are kept under the logical topic name, whatever the prefix.
        self._loader = positions
        # Last offset our own store holds per partition; records at or below it are already applied.
        self._applied: dict[TopicPartition, int] = {}
        # Partitions whose position the listener has set; records fetched before that are not ours to use.
        self._ready: set[TopicPartition] = set()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            # Deployments sharing a cluster must not rebalance each other's consumers.
            group_id=topic_prefix + group,
            client_id=f"{client_id}-{group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_bytes=4 * MAX_RECORD_BYTES,
            max_partition_fetch_bytes=MAX_RECORD_BYTES,
            isolation_level="read_committed",
            # A topic another deployment creates later (a province's outcomes, a city's documents)
            # is found within this, not at aiokafka's default five minutes.
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
            **security.client_options(),
        )

    async def start(self) -> None:
        await self._consumer.start()
        self._consumer.subscribe(self._topics, listener=_SeekToStoredPositions(self))

    async def seek_to_stored(self, partitions: Sequence[TopicPartition]) -> None:
        stored = {tp: await self._loader(self._logical(tp.topic), tp.partition) for tp in partitions}
        for tp, last in stored.items():
            if last is None:
                self._applied.pop(tp, None)
                await self._consumer.seek_to_beginning(tp)
            else:
                self._applied[tp] = last
                self._consumer.seek(tp, last + 1)
            self._ready.add(tp)

    def forget(self, partitions: Sequence[TopicPartition]) -> None:
        for tp in partitions:
            self._ready.discard(tp)
            self._applied.pop(tp, None)

    async def rewind(self) -> None:
        await self.seek_to_stored(list(self._consumer.assignment()))

    async def poll(self, max_records: int = 500, timeout: float = 0.5) -> list[Delivery]:
        batches = await self._consumer.getmany(timeout_ms=int(timeout * 1000), max_records=max_records)
        out: list[Delivery] = []
        for tp, records in batches.items():
            if tp not in self._ready:
                continue
            floor = self._applied.get(tp, -1)
            out.extend(
                Delivery(
                    self._logical(tp.topic),
                    tp.partition,
                    r.offset,
                    (r.key or b"").decode(),
                    r.value or b"",
                    r.timestamp / 1000 if r.timestamp and r.timestamp > 0 else 0.0,
                )
                for r in records
                if r.offset > floor
            )
        return out

    async def commit(self, deliveries: Sequence[Delivery]) -> None:
        last: dict[TopicPartition, int] = {}
        for d in deliveries:
            tp = TopicPartition(self._prefix + d.topic, d.partition)
            last[tp] = max(last.get(tp, -1), d.offset)
        for tp, offset in last.items():
            # Called after the handler's own transaction committed these records.
            self._applied[tp] = max(self._applied.get(tp, -1), offset)
        if last:
            try:
                await self._consumer.commit({tp: offset + 1 for tp, offset in last.items()})
            except Exception:
                # Advisory only: our own store holds the truth. A rebalance may make this fail.
                log.info("kafka offset commit skipped", exc_info=True)

    async def lag(self) -> dict[tuple[str, int], int]:
        """For the partitions assigned to this member of the group (one request to the broker)."""
        assigned = list(self._consumer.assignment())
        if not assigned:
            return {}
        ends = await self._consumer.end_offsets(assigned)
        out: dict[tuple[str, int], int] = {}
        for tp in assigned:
            applied = await self._loader(self._logical(tp.topic), tp.partition)
            out[(self._logical(tp.topic), tp.partition)] = max(0, ends[tp] - (0 if applied is None else applied + 1))
        return out

    def _logical(self, topic: str) -> str:
        return topic.removeprefix(self._prefix)

    async def close(self) -> None:
        await self._consumer.stop()


async def _until_led(admin: AIOKafkaAdminClient, topics: list[str]) -> None:
    """Returns once every partition of `topics` has a leader in the cluster's metadata.

    A consumer that subscribes to a topic created a moment ago may find it missing from the metadata
    and be assigned nothing; it would learn of the topic only at its next metadata refresh, minutes
    later. So a service that creates its topics waits for them before its consumers join."""
    deadline = time.monotonic() + TOPIC_READY_S
    while True:
        described = await admin.describe_topics(topics)
        if all(
            t.get("error_code") == 0 and t.get("partitions") and all(p.get("leader", -1) >= 0 for p in t["partitions"])
            for t in described
        ):
            return
        if time.monotonic() > deadline:
            log.warning("topics %s still have no leader after %.0fs; going on", topics, TOPIC_READY_S)
            return
        await asyncio.sleep(0.1)
