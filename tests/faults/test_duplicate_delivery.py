"""Every registry event delivered twice and out of order builds the same index as one clean delivery
in order, on the embedded log and index and on Kafka and Elasticsearch.

The events come from real flows through the three services (drafts, comment, review, promulgation,
entry into force, repeal, amendment, bulk import); then a fresh search service reads them once in
order (the clean build) and another reads them twice, shuffled (each Kafka partition then holds its
documents' events out of order).
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock
from normreg_common.eventlog.kafka_log import KafkaEventLog
from normreg_common.eventlog.port import EventLog, Record
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.events import DOCUMENTS_TOPIC, CloudEvent
from normreg_common.packing import unpack
from normreg_common.profile import get_profile
from normreg_common.settings import Settings
from normreg_search.bootstrap import create_app
from normreg_search.index.elasticsearch import ElasticsearchIndex
from normreg_search.projection import project

from tests.conftest import TEST_KEY
from tests.e2e import flows
from tests.faults.cluster import drop_topics, eventually
from tests.faults.conftest import Plan
from tests.harness import System

Entries = dict[str, tuple[int, Any]]


async def registry_events(root: Path, clock: FakeClock) -> list[Record]:
    """The documents topic as the registry wrote it, after a bit of everything."""
    system = System(root, clock)
    await system.start()
    try:
        await flows.full_lifecycle_reaches_public_search(system)
        await flows.repeal_removes_from_default_search(system)
        await flows.amendment_keeps_the_old_text_findable_by_date(system)
        p = flows.People(system)
        for i in range(12):
            await p.registrar.ImportDocument(_import(i))
        await p.settle()
    finally:
        await system.stop()
    with sqlite3.connect(root / "registry.db") as conn:
        rows = conn.execute(
            "SELECT topic, key, value, packed FROM outbox WHERE topic = ? ORDER BY id", (DOCUMENTS_TOPIC,)
        )
        return [Record(topic, key, unpack(bytes(value), packed)) for topic, key, value, packed in rows]


def _import(i: int) -> rpb.ImportDocumentRequest:
    title = f"中华人民共和国重放测试第{i}号法"
    return rpb.ImportDocumentRequest(
        request_id=f"replay-{i}",
        kind=pb.DOCUMENT_KIND_NATIONAL_LAW,
        issuing_body="全国人民代表大会",
        versions=[
            rpb.ImportedVersion(
                title=title, body="第一条 旧。", state=pb.VERSION_STATE_AMENDED, promulgation_date=day("2000-01-01")
            ),
            rpb.ImportedVersion(
                title=title,
                body="第一条 新。",
                state=pb.VERSION_STATE_REPEALED if i % 3 == 0 else pb.VERSION_STATE_IN_FORCE,
                promulgation_date=day("2010-01-01"),
            ),
        ],
    )


def expected_sequences(records: Sequence[Record]) -> dict[str, int]:
    """The newest event of each version: what any correct build ends with."""
    tz = get_profile("chifeng").tz
    newest: dict[str, int] = {}
    for record in records:
        change = project(CloudEvent.from_bytes(record.value), tz)
        if change is not None:
            newest[change.name] = max(change.sequence, newest.get(change.name, 0))
    return newest


async def build(
    root: Path, clock: FakeClock, log: EventLog, records: Sequence[Record], settings: dict[str, Any], timeout: float
) -> Entries:
    """A fresh search service fed `records`; its index once it holds the newest event of every version."""
    expected = expected_sequences(records)
    app = await create_app(
        Settings(data_dir=root, search_addr="127.0.0.1:0", jwt_key=TEST_KEY, **settings),
        clock=clock,
        event_log=log,
        background=False,
    )
    await log.start()
    await app.start()
    try:
        await log.publish(records)

        async def complete() -> bool:
            await app.sync()
            entries = await app.index.entries()
            return {name: seq for name, (seq, _) in entries.items()} == expected

        await eventually(complete, timeout, f"the index holds the newest event of {len(expected)} versions")
        entries: Entries = await app.index.entries()
        if isinstance(app.index, ElasticsearchIndex):
            await app.index.drop_everything()
        return entries
    finally:
        await app.stop(0)
        await log.close()


def twice_shuffled(records: Sequence[Record], seed: int) -> list[Record]:
    doubled = [*records, *records]
    random.Random(seed).shuffle(doubled)
    return doubled


async def test_events_twice_and_out_of_order_build_the_same_embedded_index(
    tmp_path: Path, clock: FakeClock, faults: Plan
) -> None:
    records = await registry_events(tmp_path / "registry", clock)
    assert len(records) > 40
    shuffled = twice_shuffled(records, faults.seed)
    assert shuffled[: len(records)] != list(records)

    clean = await build(tmp_path / "clean", clock, SqliteEventLog(tmp_path / "clean.db"), records, {}, 30)
    replayed = await build(tmp_path / "again", clock, SqliteEventLog(tmp_path / "again.db"), shuffled, {}, 30)
    assert replayed == clean


@pytest.mark.kafka
@pytest.mark.elasticsearch
async def test_events_twice_and_out_of_order_build_the_same_index_on_kafka_and_elasticsearch(
    tmp_path: Path, clock: FakeClock, faults: Plan, kafka_bootstrap: str, elasticsearch_url: str
) -> None:
    records = await registry_events(tmp_path / "registry", clock)
    embedded = await build(tmp_path / "embedded", clock, SqliteEventLog(tmp_path / "embedded.db"), records, {}, 30)
    builds: list[Entries] = []
    for name, feed in (("clean", records), ("again", twice_shuffled(records, faults.seed))):
        suffix = uuid.uuid4().hex[:8]
        log = KafkaEventLog(kafka_bootstrap, client_id=f"replay-{suffix}", partitions=3, topic_prefix=f"r{suffix}.")
        settings = {
            "kafka_bootstrap": kafka_bootstrap,
            "kafka_topic_prefix": f"r{suffix}.",
            "elasticsearch_url": elasticsearch_url,
            "elasticsearch_index_prefix": f"normreg-replay-{suffix}",
        }
        try:
            builds.append(await build(tmp_path / name, clock, log, feed, settings, 90))
        finally:
            await drop_topics(kafka_bootstrap, f"r{suffix}.")
    clean, replayed = builds
    assert replayed == clean
    # One contract for two backends: Elasticsearch holds what the embedded index holds.
    assert clean == embedded
