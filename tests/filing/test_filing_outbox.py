"""What the filing review service tells senders leaves through its outbox: written in the same
transaction as the change, never for a change that was refused, relayed to the event log (embedded and
Kafka) in order, signed, numbered without gaps."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from normreg.events.v1 import filing_events_pb2 as ev
from normreg_common.clock import FakeClock
from normreg_common.databases import outbox_relay
from normreg_common.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from normreg_common.event_data import read
from normreg_common.eventlog.port import EventLog, Record
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.events import FILINGS_TOPIC, CloudEvent
from normreg_common.federation import public_key_text, sign, verify
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database
from normreg_filing.adapters.memory import InMemoryUnitOfWork
from normreg_filing.adapters.postgres_store import MIGRATIONS
from normreg_filing.adapters.sqlite_store import SCHEMA
from normreg_filing.adapters.stores import unit_of_work
from normreg_filing.application import service as service_module
from normreg_filing.application.inbound import FilingSent, Inbound
from normreg_filing.application.service import FilingReviewService
from normreg_filing.application.verification import Problem
from normreg_filing.domain.lifecycle import FilingState, Outcome

from tests.common.test_eventlog_contract import Positions, collect
from tests.filing.test_filing_review_domain import ALL, CITY_REGISTRAR, PROVINCE, REVIEWER, at

KEY = Ed25519PrivateKey.generate()
DOCUMENT = "documents/rule1/versions/1"


def sent(materials: dict[str, bool], sequence: int, filed: float = 10, refiling: bool = False) -> Inbound:
    """A filing as the city's registry sends it (already translated at the edge)."""
    return Inbound(
        "/normreg/registry",
        "documents/rule1",
        sequence,
        (
            FilingSent(
                sender="chifeng",
                document=DOCUMENT,
                title="赤峰市城市绿化管理办法",
                issuing_body="赤峰市人民政府",
                kind="GOVERNMENT_RULE",
                uniform_number="赤峰市人民政府令第1号",
                promulgation_date=at(0).date(),
                due_date=at(30).date(),
                filed_date=at(filed).date(),
                recipient="内蒙古自治区人民政府",
                materials=materials,
                refiling=refiling,
                at=at(filed),
            ),
        ),
    )


def events(records: list[Record]) -> list[CloudEvent]:
    out = [CloudEvent.from_bytes(r.value) for r in records]
    for e in out:
        verify(e, "neimenggu", [public_key_text(KEY)])
    return out


def kinds(records: list[Record]) -> list[str]:
    return [e.type.rsplit(".", 1)[1] for e in events(records)]


async def test_every_step_the_sender_is_told_of_is_in_the_outbox_of_its_own_transaction() -> None:
    uow = InMemoryUnitOfWork()
    service = FilingReviewService(uow, FakeClock(at(11)), PROVINCE, key=KEY)
    await service.apply("chifeng", [sent({**ALL, "drafting_explanation": False}, 5)])
    # The arrival itself is not told back.
    assert uow.outbox == []
    [filing] = await service.list_received(REVIEWER)
    await service.register(REVIEWER, filing.id, [], "内部：先看起草说明")
    assert kinds(uow.outbox) == ["materials_requested"]
    # A refused step writes nothing, its event least of all.
    with pytest.raises(FailedPrecondition):
        await service.decide(REVIEWER, filing.id, Outcome.ACCEPTED, "", [], "")
    with pytest.raises(InvalidArgument):
        await service.register(REVIEWER, filing.id, ["no_such_material"], "")
    assert kinds(uow.outbox) == ["materials_requested"]
    # The city sends what was missing: the completion is told back, then the decisions.
    await service.apply("chifeng", [sent({"drafting_explanation": True}, 6, filed=13, refiling=True)])
    await service.decide(REVIEWER, filing.id, Outcome.CORRECTION_REQUIRED, "罚款超过上位法", ["第十二条"], "")
    await service.record_correction_response(REVIEWER, filing.id, "已修改第十二条")
    await service.decide(REVIEWER, filing.id, Outcome.ACCEPTED, "", [], "")
    # A replayed completion is dropped by the stream's sequence: no second event.
    await service.apply("chifeng", [sent({"drafting_explanation": True}, 6, filed=13, refiling=True)])
    assert kinds(uow.outbox) == [
        "materials_requested",
        "materials_completed",
        "correction_required",
        "correction_answered",
        "accepted",
    ]
    published = events(uow.outbox)
    assert [e.sequence for e in published] == [1, 2, 3, 4, 5]
    assert {e.subject for e in published} == {f"receivedFilings/{filing.id}"}
    assert {(r.topic, r.key) for r in uow.outbox} == {(FILINGS_TOPIC, DOCUMENT)}
    assert all("先看起草说明".encode() not in r.value for r in uow.outbox)
    decided = read(published[2], ev.FilingDecided)
    assert (decided.outcome, list(decided.provisions)) == ("CORRECTION_REQUIRED", ["第十二条"])
    stored = await service.get_received(REVIEWER, filing.id)
    assert stored.state == FilingState.ACCEPTED and stored.published_sequence == 5


@pytest.fixture(params=["embedded", "kafka"])
async def event_log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventLog]:
    log: EventLog
    if request.param == "kafka":
        from normreg_common.eventlog.kafka_log import KafkaEventLog

        bootstrap = request.getfixturevalue("kafka_bootstrap")
        log = KafkaEventLog(bootstrap, client_id="filing-test", topic_prefix=f"t{uuid.uuid4().hex[:8]}.")
    else:
        log = SqliteEventLog(tmp_path / "eventlog.db")
    await log.start()
    await log.ensure_topics([FILINGS_TOPIC])
    yield log
    await log.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Database | PostgresDatabase]:
    """Opens the service's database anew each call (a restart), SQLite or PostgreSQL."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        schema = f"{request.getfixturevalue('postgres_schema_prefix')}filing"
        return lambda: PostgresDatabase(url, schema, MIGRATIONS, pool_size=2)
    return lambda: Database(tmp_path / "filing.db", SCHEMA)


async def test_the_relay_sends_the_outbox_in_order_and_once_after_a_restart(
    database: Callable[[], Database | PostgresDatabase], event_log: EventLog
) -> None:
    db = database()
    await db.open()
    try:
        relay = outbox_relay(db, event_log, service="filing")
        service = FilingReviewService(unit_of_work(db, relay.notify), FakeClock(at(11)), PROVINCE, key=KEY)
        await service.apply("chifeng", [sent(ALL, 1)])
        [filing] = await service.list_received(REVIEWER)
        await service.register(REVIEWER, filing.id, [], "")
        await service.decide(REVIEWER, filing.id, Outcome.CORRECTION_REQUIRED, "越权", ["第三条"], "")
        # Committed, not yet sent: the log is not asked inside the transaction.
        assert await relay.pending() == 2
        assert await relay.drain() == 2
        await service.record_correction_response(REVIEWER, filing.id, "已废止第三条")
    finally:
        await db.close()
    # Reopened (a restart): only what was never sent leaves, once.
    db = database()
    await db.open()
    try:
        relay = outbox_relay(db, event_log, service="filing")
        assert await relay.pending() == 1
        assert await relay.drain() == 1
        assert await relay.drain() == 0
    finally:
        await db.close()
    consumer = event_log.consumer([FILINGS_TOPIC], f"reader-{uuid.uuid4().hex[:6]}", Positions().load)
    await consumer.start()
    try:
        got = await collect(consumer, 3)
    finally:
        await consumer.close()
    published = events([Record(d.topic, d.key, d.value) for d in got])
    assert [(e.type.rsplit(".", 1)[1], e.sequence) for e in published] == [
        ("registered", 1),
        ("correction_required", 2),
        ("correction_answered", 3),
    ]
    assert {d.key for d in got} == {DOCUMENT}


async def accepted_after_correction() -> tuple[InMemoryUnitOfWork, FilingReviewService, str]:
    uow = InMemoryUnitOfWork()
    service = FilingReviewService(uow, FakeClock(at(11)), PROVINCE, key=KEY)
    await service.apply("chifeng", [sent({**ALL, "drafting_explanation": False}, 5)])
    [filing] = await service.list_received(REVIEWER)
    await service.register(REVIEWER, filing.id, [], "")
    await service.apply("chifeng", [sent({"drafting_explanation": True}, 6, filed=13, refiling=True)])
    await service.decide(REVIEWER, filing.id, Outcome.CORRECTION_REQUIRED, "越权", ["第三条"], "")
    await service.apply("chifeng", [sent(ALL, 7, filed=20, refiling=True)])
    await service.decide(REVIEWER, filing.id, Outcome.ACCEPTED, "", [], "")
    return uow, service, filing.id


async def test_verify_finds_what_the_sender_was_told_agrees_with_every_filing() -> None:
    uow, service, _ = await accepted_after_correction()
    result = await service.verify_received_filings(REVIEWER)
    assert (result.filings_checked, result.events_checked, result.events_unsent, result.problems) == (1, 5, 5, [])
    uow.tables.sent = 5
    assert (await service.verify_received_filings(REVIEWER)).events_unsent == 0
    with pytest.raises(PermissionDenied):
        await service.verify_received_filings(CITY_REGISTRAR)


async def test_verify_reads_the_outbox_and_the_filings_a_page_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of two: five events of one filing over three pages, three filings over two; what spans
    a page's edge is still one filing's numbered story, and an event lost at an edge is still seen."""
    monkeypatch.setattr(service_module, "VERIFY_PAGE", 2)
    uow, service, id = await accepted_after_correction()
    for n in (2, 3):
        first = sent(ALL, 1).messages[0]
        assert isinstance(first, FilingSent)
        other = replace(first, document=f"documents/rule{n}/versions/1")
        await service.apply("chifeng", [Inbound("/normreg/registry", f"documents/rule{n}", 1, (other,))])
    for filing in await service.list_received(REVIEWER):
        if filing.id != id:
            await service.register(REVIEWER, filing.id, [], "")
    result = await service.verify_received_filings(REVIEWER)
    assert (result.filings_checked, result.events_checked, result.problems) == (3, 7, [])
    del uow.outbox[2]
    [lost] = (await service.verify_received_filings(REVIEWER)).problems
    assert lost == Problem(f"receivedFilings/{id}", "events numbered [1, 2, 4, 5], expected 1..5 once each")


async def test_verify_reports_a_forged_a_lost_and_an_untold_change() -> None:
    uow, service, id = await accepted_after_correction()
    name = f"receivedFilings/{id}"
    # An event rewritten in the outbox and signed with another key.
    forged = CloudEvent.from_bytes(uow.outbox[1].value).model_copy(update={"jurisdictionsig": None})
    uow.outbox[1] = Record(FILINGS_TOPIC, DOCUMENT, sign(forged, "neimenggu", Ed25519PrivateKey.generate()).to_bytes())
    problems = (await service.verify_received_filings(REVIEWER)).problems
    assert [p.filing for p in problems] == ["", name]
    assert "BAD_SIGNATURE" in problems[0].problem and "expected 1..5" in problems[1].problem
    # An event lost.
    uow, service, id = await accepted_after_correction()
    del uow.outbox[2]
    [lost] = (await service.verify_received_filings(REVIEWER)).problems
    assert "[1, 2, 4, 5]" in lost.problem
    # A state changed in the store without telling the sender.
    uow, service, id = await accepted_after_correction()
    uow.tables.filings[id].state = FilingState.REVOKED
    [untold] = (await service.verify_received_filings(REVIEWER)).problems
    assert untold.problem == "the sender was told ACCEPTED, the filing is REVOKED"
    # Events of a filing the service does not hold.
    name = f"receivedFilings/{id}"
    del uow.tables.filings[id]
    [orphan] = (await service.verify_received_filings(REVIEWER)).problems
    assert orphan == Problem(name, "5 events of a filing this service does not hold")
