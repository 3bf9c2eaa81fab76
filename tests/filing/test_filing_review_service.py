"""FilingReviewService on its SQLite store, fed with the events a city's registry really publishes."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from normreg_common import metrics
from normreg_common.clock import FakeClock
from normreg_common.errors import FailedPrecondition, PermissionDenied
from normreg_common.eventlog.port import Delivery
from normreg_common.events import CloudEvent
from normreg_common.federation import CROSSING_REGISTRY_EVENTS, Untrusted, public_key_text, sign
from normreg_common.principal import PUBLIC, SCHEDULER, Role
from normreg_common.profile import PROFILES
from normreg_common.sqlite import Database
from normreg_filing.adapters.sqlite_store import SCHEMA, SqliteFilingStore
from normreg_filing.application.inbound import Inbound, VersionState, read_trusted, translate
from normreg_filing.application.service import FilingReviewService
from normreg_filing.domain.lifecycle import FilingState, Outcome
from normreg_filing.entrypoints.subordinate_events import subordinate_events_handler
from normreg_registry.application.events import to_records
from normreg_registry.domain.filing_outcomes import RecipientReport, Said
from normreg_registry.domain.lifecycle import Kind
from normreg_registry.domain.model import Document

from tests.conftest import principal
from tests.registry.test_domain_lifecycle import DRAFTER, PROFILE, REGISTRAR, at, promulgate, to_adopted

PROVINCE = PROFILES["neimenggu"]
PROVINCE_KEY = Ed25519PrivateKey.generate()
REVIEWER = principal("wu", Role.REVIEWER, org="内蒙古自治区司法厅")
SOME_MATERIALS = {"text": True, "drafting_explanation": False, "legal_basis": True, "legality_review_opinion": True}


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[FilingReviewService]:
    db = Database(tmp_path / "filing.db", SCHEMA)
    await db.open()
    yield FilingReviewService(SqliteFilingStore(db), FakeClock(at(12)), PROVINCE, key=PROVINCE_KEY)
    await db.close()


def city_document(id: str, kind: Kind, issuing_body: str = "赤峰市人民政府") -> Document:
    doc = Document.create(
        id=id,
        kind=kind,
        title=f"赤峰市测试办法{id}",
        body="第一条 为了测试，制定本办法。",
        issuing_body=issuing_body,
        number_prefix="赤政规",
        provisional=False,
        principal=DRAFTER,
        at=at(),
    )
    to_adopted(doc)
    promulgate(doc, at(4))
    return doc


def stream(doc: Document, service: FilingReviewService) -> list[Inbound]:
    """The document's events as they leave the registry, read back as the recipient reads them."""
    return [
        translate(CloudEvent.from_bytes(record.value), "chifeng", service.bodies)
        for _, record in to_records(doc, doc.pop_changes())
    ]


async def test_a_filing_sent_to_the_province_arrives_once_and_the_unfiled_one_is_missing(
    service: FilingReviewService,
) -> None:
    rule = city_document("rule1", Kind.GOVERNMENT_RULE)
    other = city_document("nd1", Kind.NORMATIVE_DOCUMENT)
    rule.record_filing(
        REGISTRAR,
        at(10),
        PROFILE,
        version=None,
        filed_date=at(10).date(),
        recipient="内蒙古自治区人民政府",
        materials=SOME_MATERIALS,
    )
    events = stream(rule, service) + stream(other, service)
    # Delivered twice (a replay, or a record re-sent after a crash): applied once, each copy counted.
    copies = metrics.REPLAYED_EVENTS.labels("chifeng")._value.get()
    assert await service.apply("chifeng", events) > 0
    assert metrics.REPLAYED_EVENTS.labels("chifeng")._value.get() == copies
    assert await service.apply("chifeng", events) == 0
    assert metrics.REPLAYED_EVENTS.labels("chifeng")._value.get() == copies + len(events)
    [filing] = await service.list_received(REVIEWER, sender="chifeng")
    assert (filing.document, filing.recipient, filing.complete_on_arrival) == (
        "documents/rule1/versions/1",
        "内蒙古自治区人民政府",
        False,
    )
    missing = await service.missing(REVIEWER)
    # The rule also goes to the province's standing committee; the normative document to the
    # province's government: neither has arrived.
    assert {(m.promulgation.document, m.promulgation.recipient, m.overdue) for m in missing} == {
        ("documents/rule1/versions/1", "内蒙古自治区人大常委会", False),
        ("documents/nd1/versions/1", "内蒙古自治区人民政府", False),
    }


async def test_the_province_registers_requests_materials_decides_and_reports_exactly(
    service: FilingReviewService,
) -> None:
    rule = city_document("rule1", Kind.GOVERNMENT_RULE)
    rule.record_filing(
        REGISTRAR,
        at(10),
        PROFILE,
        version=None,
        filed_date=at(10).date(),
        recipient="内蒙古自治区人民政府",
        materials=SOME_MATERIALS,
    )
    await service.apply("chifeng", stream(rule, service))
    [filing] = await service.list_received(REVIEWER)
    filing = await service.register(REVIEWER, filing.id, [], "缺起草说明")
    assert filing.state == FilingState.MATERIALS_REQUESTED and filing.materials_requested == ["drafting_explanation"]
    with pytest.raises(FailedPrecondition) as refused:
        await service.decide(REVIEWER, filing.id, Outcome.ACCEPTED, "", [], "")
    assert refused.value.reason == "FILING_MATERIALS_MISSING"
    suggestion = await service.submit_suggestion(
        document="documents/rule1",
        sender="chifeng",
        provisions=["第一条"],
        reasons="与上位法抵触",
        contact="citizen@example.cn",
        requester_kind="citizen",
    )
    with pytest.raises(PermissionDenied):
        await service.list_suggestions(PUBLIC)
    await service.reply_to_suggestion(REVIEWER, suggestion.id, "已研究并答复")
    report = await service.report(REVIEWER, "chifeng", 2026)
    assert (report.required, report.filed, report.filed_on_time, report.filed_conforming) == (2, 1, 1, 0)
    assert (report.suggestions_received, report.suggestions_answered_on_time) == (1, 1)
    with pytest.raises(PermissionDenied):
        await service.report(SCHEDULER, "chifeng", 2026)


async def test_a_forged_filing_on_a_citys_stream_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    chifeng, intruder = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    profile = dataclasses.replace(PROVINCE, federation_keys=(("chifeng", (public_key_text(chifeng),)),))
    db = Database(tmp_path / "filing.db", SCHEMA)
    await db.open()
    try:
        service = FilingReviewService(SqliteFilingStore(db), FakeClock(at(12)), profile, key=PROVINCE_KEY)
        rule = city_document("rule1", Kind.GOVERNMENT_RULE)
        rule.record_filing(
            REGISTRAR,
            at(10),
            PROFILE,
            version=None,
            filed_date=at(10).date(),
            recipient="内蒙古自治区人民政府",
            materials=SOME_MATERIALS,
        )
        records = [CloudEvent.from_bytes(r.value) for _, r in to_records(rule, rule.pop_changes())]
        forged = [sign(e, "chifeng", intruder).to_bytes() for e in records]
        crossing = [raw for raw, e in zip(forged, records, strict=True) if e.type in CROSSING_REGISTRY_EVENTS]
        assert len(crossing) == 2  # the promulgation and the filing
        for raw in crossing:
            with pytest.raises(Untrusted):
                read_trusted(raw, "chifeng", profile, service.bodies)
        # The others are never read here, signed or not: skipped before any check, they change nothing.
        assert [read_trusted(raw, "chifeng", profile, service.bodies) for raw in forged if raw not in crossing] == [
            None
        ] * (len(forged) - 2)
        with pytest.raises(ValueError):
            read_trusted(b"{not an event", "chifeng", profile, service.bodies)
        assert await service.list_received(REVIEWER) == []
        read = [
            read_trusted(sign(e, "chifeng", chifeng).to_bytes(), "chifeng", profile, service.bodies) for e in records
        ]
        genuine = [i for i in read if i is not None]
        assert len(genuine) == 2
        await service.apply("chifeng", genuine)
        # Replayed: dropped by the stream's sequence, applied once.
        assert await service.apply("chifeng", genuine) == 0
        assert len(await service.list_received(REVIEWER)) == 1
    finally:
        await db.close()


async def test_the_subordinate_consumer_sets_forged_records_aside_as_dead_letters_and_applies_the_rest(
    tmp_path: Path,
) -> None:
    chifeng, intruder = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    profile = dataclasses.replace(PROVINCE, federation_keys=(("chifeng", (public_key_text(chifeng),)),))
    db = Database(tmp_path / "filing.db", SCHEMA)
    await db.open()
    try:
        service = FilingReviewService(SqliteFilingStore(db), FakeClock(at(12)), profile, key=PROVINCE_KEY)
        handler = subordinate_events_handler(service, db, "chifeng", profile)
        rule = city_document("rule1", Kind.GOVERNMENT_RULE)
        rule.record_filing(
            REGISTRAR,
            at(10),
            PROFILE,
            version=None,
            filed_date=at(10).date(),
            recipient="内蒙古自治区人民政府",
            materials=SOME_MATERIALS,
        )
        events = [CloudEvent.from_bytes(r.value) for _, r in to_records(rule, rule.pop_changes())]
        # A forged copy of the filing itself (the first crossing event), then bytes that are no event.
        first_crossing = next(e for e in events if e.type in CROSSING_REGISTRY_EVENTS)
        values = [sign(first_crossing, "chifeng", intruder).to_bytes(), b"\xff not json"]
        values += [sign(e, "chifeng", chifeng).to_bytes() for e in events]
        batch = [Delivery("chifeng.normreg.documents", 0, i, rule.name, v) for i, v in enumerate(values)]
        await handler(batch)
        letters = await handler.dead_letters.list(10)
        assert sorted(letter.offset for letter in letters) == [0, 1]
        assert any("BAD_SIGNATURE" in letter.error for letter in letters)
        assert len(await service.list_received(REVIEWER)) == 1
    finally:
        await db.close()


async def test_materials_sent_in_parts_leave_the_rest_asked_for_on_both_sides_and_the_rest_can_follow(
    service: FilingReviewService,
) -> None:
    """Asked for three materials, the city sent one: its registry then forgot the request (nothing
    due, the text no longer counted as sent) and refused to send the other two (FILING_ALREADY_RECORDED),
    while the province waited for them and told the city nothing. Now both sides keep the rest asked
    for, by the same date, the province tells the city what is left, and the rest can be sent."""
    rule = city_document("rule1", Kind.NORMATIVE_DOCUMENT)
    text_only = {"text": True, "drafting_explanation": False, "legal_basis": False, "legality_review_opinion": False}
    _file(rule, 10, text_only)
    await service.apply("chifeng", stream(rule, service))
    [filing] = await service.list_received(REVIEWER)
    filing = await service.register(REVIEWER, filing.id, [], "")
    asked = ["drafting_explanation", "legal_basis", "legality_review_opinion"]
    assert filing.materials_requested == asked and filing.completion_due is not None
    # The city hears of the request (as its consumer of the province's events applies it) ...
    said = RecipientReport(
        Said.MATERIALS_REQUESTED,
        "neimenggu",
        PROVINCE_GOV,
        filing.name,
        1,
        missing=tuple(asked),
        completion_due=filing.completion_due,
    )
    rule.apply_recipient_report(said, at(12), at(12).date())
    # ... and sends one of the three.
    _file(rule, 13, {"drafting_explanation": True})
    mine = rule.versions[0].obligation(PROVINCE_GOV).filing  # type: ignore[union-attr]
    assert mine is not None
    assert (mine.recipient_status, mine.missing, mine.completion_due) == (
        "MATERIALS_REQUESTED",
        ["legal_basis", "legality_review_opinion"],
        filing.completion_due,
    )
    assert mine.materials["text"] and mine.materials["drafting_explanation"] and not mine.complete
    await service.apply("chifeng", stream(rule, service))
    filing = await service.get_received(REVIEWER, filing.id)
    assert filing.state == FilingState.MATERIALS_REQUESTED
    assert filing.materials_requested == ["legal_basis", "legality_review_opinion"]
    # The city is told what is left: a request for materials, by the same date.
    told = [CloudEvent.from_bytes(e.record.value) for e in await service._store.read(lambda r: r.outbox(0, 100))]
    assert [e.type.removeprefix("normreg.filing.v1.") for e in told] == ["materials_requested", "materials_requested"]
    assert told[-1].data["missing"] == ["legal_basis", "legality_review_opinion"]
    assert (await service.verify_received_filings(REVIEWER)).problems == []
    # The rest follows, and the filing is complete at last.
    _file(rule, 14, {"legal_basis": True, "legality_review_opinion": True})
    await service.apply("chifeng", stream(rule, service))
    filing = await service.get_received(REVIEWER, filing.id)
    assert filing.state == FilingState.REGISTERED and filing.complete


async def test_a_filing_whose_materials_the_province_asked_for_is_not_conforming(service: FilingReviewService) -> None:
    """Complete on arrival, but the reviewers asked for the legality opinion again: the province
    counted it conforming (规范), the city's own report did not. Both now count it not conforming."""
    rule = city_document("rule1", Kind.NORMATIVE_DOCUMENT)
    _file(rule, 10, ALL)
    await service.apply("chifeng", stream(rule, service))
    [filing] = await service.list_received(REVIEWER)
    await service.register(REVIEWER, filing.id, ["legality_review_opinion"], "意见不完整")
    report = await service.report(REVIEWER, "chifeng", 2026)
    assert (report.filed, report.filed_conforming) == (1, 0)


def _file(doc: Document, day: int, materials: dict[str, bool]) -> None:
    """`doc`'s filing with the province's government on day `day`, sending `materials`."""
    when = at(day)
    doc.record_filing(
        REGISTRAR, when, PROFILE, version=None, filed_date=when.date(), recipient=PROVINCE_GOV, materials=materials
    )


PROVINCE_GOV = "内蒙古自治区人民政府"
ALL = {"text": True, "drafting_explanation": True, "legal_basis": True, "legality_review_opinion": True}


def test_a_subordinates_repeal_is_believed_signed_by_it_passed_unsigned_and_set_aside_forged(
    service: FilingReviewService,
) -> None:
    """The steps out of force cross signed, as promulgations do. One written before registries
    signed them carries no signature: passed, it says nothing. One signed by another key is forged."""
    chifeng, intruder = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    profile = dataclasses.replace(PROVINCE, federation_keys=(("chifeng", (public_key_text(chifeng),)),))
    rule = city_document("rule9", Kind.GOVERNMENT_RULE)
    rule.run_clock(SCHEDULER, at(40), PROFILE)
    rule.pop_changes()
    rule.repeal(REGISTRAR, at(41), "上位法已废止", today=at(41).date())
    [repealed] = [CloudEvent.from_bytes(r.value) for _, r in to_records(rule, rule.pop_changes())]
    assert repealed.type == "normreg.registry.v1.repealed" and repealed.type in CROSSING_REGISTRY_EVENTS
    assert read_trusted(repealed.to_bytes(), "chifeng", profile, service.bodies) is None
    with pytest.raises(Untrusted):
        read_trusted(sign(repealed, "chifeng", intruder).to_bytes(), "chifeng", profile, service.bodies)
    read = read_trusted(sign(repealed, "chifeng", chifeng).to_bytes(), "chifeng", profile, service.bodies)
    assert read is not None
    [state] = read.messages
    assert isinstance(state, VersionState)
    assert (state.document, state.version, state.state, state.kind) == (
        "documents/rule9",
        1,
        "REPEALED",
        "GOVERNMENT_RULE",
    )


async def test_a_rule_needs_no_legality_review_opinion_and_a_normative_document_does(
    service: FilingReviewService,
) -> None:
    """What a filing carries depends on what is filed: the legality review opinion is for normative
    documents (filing-review.md). A rule filed without one was asked for it and counted not 规范."""
    without = {**ALL, "legality_review_opinion": False}
    rule, normative = city_document("rule7", Kind.GOVERNMENT_RULE), city_document("nd7", Kind.NORMATIVE_DOCUMENT)
    for doc in (rule, normative):
        _file(doc, 10, without)
        assert doc.versions[0].obligation(PROVINCE_GOV).filing.complete == (doc is rule)  # type: ignore[union-attr]
        await service.apply("chifeng", stream(doc, service))
    received = {f.document: f for f in await service.list_received(REVIEWER)}
    registered = await service.register(REVIEWER, received["documents/rule7/versions/1"].id, [], "")
    assert registered.state == FilingState.REGISTERED
    asked = await service.register(REVIEWER, received["documents/nd7/versions/1"].id, [], "")
    assert (asked.state, asked.materials_requested) == (FilingState.MATERIALS_REQUESTED, ["legality_review_opinion"])
    report = await service.report(REVIEWER, "chifeng", 2026)
    assert (report.filed, report.filed_conforming) == (2, 1)
