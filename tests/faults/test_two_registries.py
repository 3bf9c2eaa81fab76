"""Two registry processes over one PostgreSQL and one Kafka, under concurrent writes to both, each of
them killed with kill -9 in turn: nothing acknowledged is lost, no uniform number is given twice, and
no document's events reach the log out of order.

Each write is a document's way from draft to promulgation (create, submit, a legality decision from
the review service, deliberation, promulgation), its steps spread over both replicas as a load
balancer would; a step that finds its replica dead is sent to the other one (creates carry a request
id; a transition that the dead replica had committed is found done).
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import itertools
import json
import os
import random
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import registry_service_pb2_grpc as rgrpc
from normreg_cli.dates import to_pb as day
from normreg_common.eventlog.kafka_log import KafkaEventLog
from normreg_common.eventlog.port import Record
from normreg_common.events import DOCUMENTS_TOPIC, REVIEW_SOURCE, REVIEWS_TOPIC, CloudEvent
from psycopg import sql

from tests.conftest import TEST_KEY
from tests.faults.cluster import CHANNEL_OPTIONS, Service, drop_topics, eventually
from tests.faults.conftest import Plan

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CHIFENG = ZoneInfo("Asia/Shanghai")
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNKNOWN}
ISSUER = "赤峰市人民政府"


class Replicas:
    """Two registry processes on one schema and one set of topics; calls go round-robin, and to the
    other replica when one does not answer."""

    def __init__(self, root: Path, kafka: str, postgres_url: str, schema_prefix: str) -> None:
        self.topic_prefix = f"two{uuid.uuid4().hex[:8]}."
        self.schema = f"{schema_prefix}registry"
        self.kafka = kafka
        self.postgres_url = postgres_url
        from normreg_common.auth import TokenCodec

        self.codec = TokenCodec(TEST_KEY)
        logs = root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        base = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "NORMREG_JWT_KEY": TEST_KEY,
            # One checkpoint key for every registry process, as a deployment's Secret gives it.
            "NORMREG_CHECKPOINT_KEY": TEST_KEY,
            "NORMREG_KAFKA_BOOTSTRAP": kafka,
            "NORMREG_KAFKA_TOPIC_PREFIX": self.topic_prefix,
            "NORMREG_POSTGRES_URL": postgres_url,
            "NORMREG_POSTGRES_SCHEMA_PREFIX": schema_prefix,
            "NORMREG_POSTGRES_POOL_SIZE": "4",
            "NORMREG_SCHEDULER_INTERVAL_S": "1",
        }
        base.pop("NORMREG_TOKEN", None)
        self.services = []
        for label in ("registry-a", "registry-b"):
            service = Service("registry", {**base, "NORMREG_DATA_DIR": str(root / label)}, logs, label=label)
            service.env["NORMREG_REGISTRY_ADDR"] = service.address
            self.services.append(service)
        self.channels = [grpc.aio.insecure_channel(s.address, options=CHANNEL_OPTIONS) for s in self.services]
        self.stubs = [rgrpc.RegistryServiceStub(c) for c in self.channels]
        self._turn = itertools.count()
        self.retries: collections.Counter[str] = collections.Counter()
        self.in_flight = 0

    async def start(self) -> None:
        # One after the other: the first creates the topics and migrates the schema.
        for service in self.services:
            await service.start()

    def token(self, *roles: str, org: str = "") -> str:
        return self.codec.issue("faults", list(roles), org)

    async def call(self, method: str, request: Any, token: str) -> Any:
        metadata = (("authorization", f"Bearer {token}"),)
        first = next(self._turn) % 2
        for attempt in range(400):
            stub = self.stubs[(first + attempt) % 2]
            self.in_flight += 1
            try:
                return await getattr(stub, method)(request, metadata=metadata, timeout=10)
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in RETRYABLE:
                    raise
                self.retries[exc.code().name] += 1
            finally:
                self.in_flight -= 1
            await asyncio.sleep(0.05)
        raise AssertionError(f"{method}: neither replica answered")

    def logs(self) -> str:
        return "\n".join(f"----- {s.label} (start {s.starts}) -----\n{s.log_tail()}" for s in self.services)

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()
        for service in self.services:
            service.stop()
        await drop_topics(self.kafka, self.topic_prefix)


@dataclass
class Load:
    replicas: Replicas
    log: KafkaEventLog
    run: str
    drafter: str = ""
    secretary: str = ""
    registrar: str = ""
    promulgated: dict[str, str] = field(default_factory=dict)  # documents/{id} -> uniform number
    created: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.drafter = self.replicas.token("drafter", org="市城管局")
        self.secretary = self.replicas.token("secretary", org="市政府办")
        self.registrar = self.replicas.token("registrar", org="市政府办")

    async def get(self, name: str) -> pb.Document:
        doc = await self.replicas.call("GetDocument", rpb.GetDocumentRequest(name=name), self.registrar)
        assert isinstance(doc, pb.Document)
        return doc

    async def step(self, method: str, request: Any, token: str, done: Callable[[pb.Document], bool]) -> pb.Document:
        """A transition; refused as no longer allowed only when a replica killed mid-call had made it."""
        try:
            doc = await self.replicas.call(method, request, token)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            doc = await self.get(request.name)
            assert done(doc), f"{method} {request.name}: {exc.details()}"
        assert isinstance(doc, pb.Document)
        return doc

    async def document(self, i: int) -> None:
        today = day(dt.datetime.now(CHIFENG).date())
        doc = await self.replicas.call(
            "CreateDocument",
            rpb.CreateDocumentRequest(
                request_id=f"{self.run}-{i}",
                kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
                title=f"赤峰市故障测试第{i}号管理办法",
                body=f"第一条 为了规范第{i}号事项，制定本办法。",
                issuing_body=ISSUER,
                number_prefix="赤政规",
            ),
            self.drafter,
        )
        name = str(doc.name)
        self.created.add(name)
        doc = await self.step(
            "SubmitForReview",
            rpb.SubmitForReviewRequest(name=name),
            self.drafter,
            lambda d: d.state != pb.VERSION_STATE_DRAFTING,
        )
        await self.decide(doc)

        async def approved() -> bool:
            return (await self.get(name)).state == pb.VERSION_STATE_AWAITING_DELIBERATION

        await eventually(approved, 120, f"{name} approved by the review decision")
        await self.step(
            "RecordDeliberation",
            rpb.RecordDeliberationRequest(
                name=name, decision=rpb.DELIBERATION_DECISION_ADOPT, meeting="市政府常务会议", meeting_date=today
            ),
            self.secretary,
            lambda d: d.state == pb.VERSION_STATE_ADOPTED,
        )
        doc = await self.step(
            "Promulgate",
            rpb.PromulgateRequest(name=name),
            self.registrar,
            lambda d: d.state == pb.VERSION_STATE_PROMULGATED,
        )
        self.promulgated[name] = doc.versions[-1].promulgation.uniform_number

    async def decide(self, doc: pb.Document) -> None:
        """What the review service publishes when the legality review approves."""
        v = doc.versions[-1]
        review = f"reviews/{doc.name.removeprefix('documents/')}"
        event = CloudEvent(
            source=REVIEW_SOURCE,
            type="normreg.review.v1.decided",
            subject=review,
            time=dt.datetime.now(CHIFENG),
            sequence=1,
            data={
                "review": review,
                "document": doc.name,
                "version_number": v.version_number,
                "review_round": 1,
                "revision": v.revision,
                "decision": "APPROVE",
                "reviewer": "li",
                "reviewing_office": "司法局",
                "opinion": "",
                "problems": [],
            },
        )
        await self.log.publish([Record(REVIEWS_TOPIC, doc.name, event.to_bytes())])

    async def run_until(self, stop: asyncio.Event, workers: int) -> None:
        counter = itertools.count(1)

        async def worker() -> None:
            while not stop.is_set():
                await self.document(next(counter))

        await asyncio.gather(*(worker() for _ in range(workers)))


@pytest.fixture
async def replicas(
    tmp_path: Path, kafka_bootstrap: str, postgres_url: str, postgres_schema_prefix: str
) -> AsyncIterator[Replicas]:
    r = Replicas(tmp_path, kafka_bootstrap, postgres_url, postgres_schema_prefix)
    try:
        await r.start()
        yield r
    finally:
        print(r.logs())
        await r.close()


async def test_two_registries_on_one_postgres_lose_nothing_and_repeat_no_number_through_kill_9(
    replicas: Replicas, faults: Plan
) -> None:
    rng = random.Random(faults.seed)
    log = KafkaEventLog(replicas.kafka, client_id="faults-reviews", topic_prefix=replicas.topic_prefix)
    await log.start()
    load = Load(replicas, log, run=replicas.topic_prefix.rstrip("."))
    stop = asyncio.Event()
    writing = asyncio.create_task(load.run_until(stop, workers=6))
    kills = 2 if faults.quick else 3
    try:
        for k in range(kills):
            done = len(load.promulgated)
            await eventually(lambda n=done: _true(len(load.promulgated) >= n + 5), 180, "the load promulgates")
            await asyncio.sleep(rng.uniform(0.0, 2.0))
            await eventually(lambda: _true(replicas.in_flight > 0), 10, "a call in flight", interval=0.001)
            victim = replicas.services[k % 2]  # each replica dies at least once
            victim.kill()
            await victim.start()
        done = len(load.promulgated)
        await eventually(lambda: _true(len(load.promulgated) >= done + 5), 180, "the load goes on after the last kill")
    finally:
        stop.set()
        await writing
        await log.close()
    assert sum(replicas.retries.values()) > 0, "the kills were not felt"
    print(f"{len(load.promulgated)} documents promulgated, {kills} kills, retries {dict(replicas.retries)}")

    # Nothing lost: every document whose creation was acknowledged is there once, promulgated.
    listed = await _all_documents(load)
    assert sorted(d.name for d in listed) == sorted(load.created)
    assert all(d.state == pb.VERSION_STATE_PROMULGATED for d in listed)
    assert {d.name: d.versions[-1].promulgation.uniform_number for d in listed} == load.promulgated

    # No uniform number given twice, and none skipped.
    year = dt.datetime.now(CHIFENG).year
    assert sorted(load.promulgated.values(), key=_sequence) == [
        f"赤政规〔{year}〕{i}号" for i in range(1, len(load.promulgated) + 1)
    ]

    verified = await replicas.call("VerifyHistory", rpb.VerifyHistoryRequest(), load.registrar)
    assert verified.intact, list(verified.problems)

    # Every event reached the log, each document's in order; a repeat is only a re-send of events
    # already sent (a relay killed between the log's acknowledgement and its commit).
    await eventually(lambda: _unsent(replicas), 120, "both outboxes drained")
    outbox = await asyncio.to_thread(_outbox_rows, replicas)
    records = await _read_topic(replicas.kafka, replicas.topic_prefix + DOCUMENTS_TOPIC)
    assert set(records) >= set(outbox), "an event of the outbox never reached the log"
    assert set(records) <= set(outbox), "the log holds an event that no transaction wrote"
    repeats = 0
    for key, sequences in _sequences_by_key(records).items():
        seen = 0
        for sequence in sequences:
            assert sequence <= seen + 1, f"{key}: event {sequence} went out before event {seen + 1}: {sequences}"
            repeats += sequence <= seen
            seen = max(seen, sequence)
        assert seen == len(set(sequences)), key
    history_events = sum(len(d.versions) for d in listed)  # at least one event per version
    assert len(outbox) >= history_events
    print(f"{len(records)} records for {len(outbox)} events; {repeats} re-sent after a kill")
    # Only a relay killed mid-batch re-sends, and never more than the batch it held.
    assert repeats <= kills * 500


async def _true(value: bool) -> bool:
    return value


def _sequence(number: str) -> int:
    return int(number.split("〕")[1].removesuffix("号"))


async def _all_documents(load: Load) -> list[pb.Document]:
    out: list[pb.Document] = []
    token = ""
    while True:
        page = await load.replicas.call(
            "ListDocuments", rpb.ListDocumentsRequest(page_size=200, page_token=token), load.registrar
        )
        out.extend(page.documents)
        token = page.next_page_token
        if not token:
            return out


def _count_unsent(replicas: Replicas) -> int:
    query = sql.SQL("SELECT count(*) FROM {}.outbox WHERE sent_at IS NULL").format(sql.Identifier(replicas.schema))
    with psycopg.connect(replicas.postgres_url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


async def _unsent(replicas: Replicas) -> bool:
    return await asyncio.to_thread(_count_unsent, replicas) == 0


def _outbox_rows(replicas: Replicas) -> list[tuple[str, bytes]]:
    """(key, value) of every event the registry's transactions wrote for the documents topic."""
    query = sql.SQL("SELECT key, value FROM {}.outbox WHERE topic = %s ORDER BY id").format(
        sql.Identifier(replicas.schema)
    )
    with psycopg.connect(replicas.postgres_url) as conn:
        return [(str(k), bytes(v)) for k, v in conn.execute(query, (DOCUMENTS_TOPIC,)).fetchall()]


async def _read_topic(bootstrap: str, topic: str) -> list[tuple[str, bytes]]:
    """Every record of the topic, in partition order, read without a consumer group."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        partitions = sorted(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        out: dict[TopicPartition, list[tuple[str, bytes]]] = {tp: [] for tp in partitions}
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, messages in batch.items():
                out[tp].extend((m.key.decode() if m.key else "", m.value or b"") for m in messages)
        return [r for tp in partitions for r in out[tp]]
    finally:
        await consumer.stop()


def _sequences_by_key(records: list[tuple[str, bytes]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = collections.defaultdict(list)
    for key, value in records:
        out[key].append(int(json.loads(value)["sequence"]))
    return out
