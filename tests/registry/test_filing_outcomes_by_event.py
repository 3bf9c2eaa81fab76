"""The recipient's registration, requests for materials, decisions and deadlines reach the sender's
filing obligation as signed events on the recipient jurisdiction's topic, without anyone retyping
them; a revocation declares the document invalid; forged, foreign, unsigned, malformed and replayed
events are set aside as dead letters and never applied.

The province here is the real recipient side: its intake (`read_trusted`) believes the city's
filing only with the city's signature, its domain (`ReceivedFiling`) takes each step, and its event
builder (`normreg_filing.application.events.to_records`) signs what it tells the city."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from normreg.v1 import dead_letter_service_pb2 as dpb
from normreg.v1 import dead_letter_service_pb2_grpc as dgrpc
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import search_service_pb2 as spb
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock
from normreg_common.eventlog.kafka_log import KafkaEventLog
from normreg_common.eventlog.port import EventLog, Record
from normreg_common.events import DOCUMENTS_TOPIC, CloudEvent
from normreg_common.federation import CROSSING_REGISTRY_EVENTS, Untrusted, public_key_text, sign
from normreg_common.principal import Role
from normreg_common.profile import PROFILES
from normreg_filing.application.events import to_records
from normreg_filing.application.inbound import FilingSent, read_trusted
from normreg_filing.domain.lifecycle import Outcome
from normreg_filing.domain.received import ReceivedFiling

from tests.conftest import principal
from tests.e2e.flows import People
from tests.harness import Stub, System, error_reason

pytestmark = pytest.mark.asyncio

PROVINCE_KEY = Ed25519PrivateKey.generate()
WUHAI_KEY = Ed25519PrivateKey.generate()
INTRUDER_KEY = Ed25519PrivateKey.generate()
GOV = "内蒙古自治区人民政府"
REVIEWER = principal("wu", Role.REVIEWER, org="内蒙古自治区司法厅")
ALL = dict.fromkeys(("text", "drafting_explanation", "legal_basis", "legality_review_opinion"), True)
NO_EXPLANATION = {**ALL, "drafting_explanation": False}


class Province:
    """The province's filing review, as far as the city sees it: its signed events on its topic.
    `city_log` is the city's own log (the province reads the filing the city sent from it)."""

    def __init__(self, s: System, city_log: EventLog, log: EventLog, topic: str) -> None:
        self.s = s
        self.city_log = city_log
        self.log = log
        self.topic = topic
        self.physical_topic = topic
        self.profile = dataclasses.replace(
            PROFILES["neimenggu"], federation_keys=(("chifeng", (public_key_text(s.settings.federation_signer()),)),)
        )
        self.sequences: dict[str, int] = {}

    async def city_events(self, document: str) -> list[bytes]:
        """Every record the city published for `document`, in order."""
        consumer = self.city_log.consumer([DOCUMENTS_TOPIC], f"province-{uuid.uuid4().hex[:6]}", _from_start)
        await consumer.start()
        found: list[bytes] = []
        try:
            for _ in range(100):
                batch = await consumer.poll(timeout=0.5)
                found += [d.value for d in batch if d.key == document]
                if found and not batch:
                    return found
        finally:
            await consumer.close()
        raise AssertionError(f"nothing of {document} on the city's stream")

    async def filing_of(self, document: str) -> bytes:
        """The newest filing_recorded record the city published for `document`."""
        events = await self.city_events(document)
        return [e for e in events if CloudEvent.from_bytes(e).type.endswith("filing_recorded")][-1]

    async def receive(self, document: str) -> ReceivedFiling:
        """The city's filing as the province's real intake reads it: believed only with its signature."""
        raw = await self.filing_of(document)
        inbound = read_trusted(raw, "chifeng", self.profile, frozenset({GOV}))
        assert inbound is not None
        [sent] = inbound.messages
        assert isinstance(sent, FilingSent)
        return ReceivedFiling.receive(
            id=uuid.uuid4().hex[:16],
            sender=sent.sender,
            issuing_body=sent.issuing_body,
            document=sent.document,
            title=sent.title,
            kind=sent.kind,
            uniform_number=sent.uniform_number,
            promulgation_date=sent.promulgation_date,
            due_date=sent.due_date,
            filed_date=sent.filed_date,
            recipient=sent.recipient,
            materials=sent.materials,
            at=sent.at,
        )

    async def tell(self, f: ReceivedFiling) -> list[bytes]:
        """Publishes, signed, what `f` changed since it was last told."""
        first = self.sequences.get(f.id, 0) + 1
        values = [r.value for r in to_records(f, f.changes, first, "neimenggu", PROVINCE_KEY)]
        f.changes.clear()
        self.sequences[f.id] = first - 1 + len(values)
        await self.publish(values, f.document)
        return values

    async def publish(self, values: list[bytes], key: str) -> None:
        await self.log.publish([Record(self.topic, key, v) for v in values])

    def now(self) -> dt.datetime:
        return self.s.clock.now()


async def _from_start(topic: str, partition: int) -> int | None:
    return None


@pytest.fixture(params=["embedded"])
async def city(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Province]:
    async for province in _city(request, tmp_path, clock):
        yield province


@pytest.fixture(params=["embedded", "kafka"])
async def city_on_both_logs(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Province]:
    async for province in _city(request, tmp_path, clock):
        yield province


async def _city(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Province]:
    """Chifeng's registry, review and search services, and the province's topic on the same log
    (on Kafka: the same cluster, under the province's own prefix)."""
    keys = f"neimenggu={public_key_text(PROVINCE_KEY)},wuhai={public_key_text(WUHAI_KEY)}"
    settings: dict[str, str] = {"federation_keys": keys, "federation_peers": "neimenggu=neimenggu."}
    log: EventLog | None = None
    province_log: EventLog | None = None
    province_prefix = "neimenggu."
    if request.param == "kafka":
        bootstrap = request.getfixturevalue("kafka_bootstrap")
        suffix = uuid.uuid4().hex[:8]
        province_prefix = f"n{suffix}."
        log = KafkaEventLog(bootstrap, client_id=f"city-{suffix}", partitions=1, topic_prefix=f"c{suffix}.")
        province_log = KafkaEventLog(
            bootstrap, client_id=f"province-{suffix}", partitions=1, topic_prefix=province_prefix
        )
        settings |= {
            "kafka_bootstrap": bootstrap,
            "kafka_topic_prefix": f"c{suffix}.",
            "federation_peers": f"neimenggu={province_prefix}",
        }
        await province_log.start()
        await province_log.ensure_topics(["normreg.filings"])
    s = System(tmp_path, clock, services=("registry", "review", "search"), event_log=log, settings=settings)
    if request.param == "kafka":
        s.quiet_rounds, s.pause_s = 4, 0.25
    await s.start()
    if province_log is None:
        province = Province(s, s.event_log, s.event_log, f"{province_prefix}normreg.filings")
    else:
        province = Province(s, s.event_log, province_log, "normreg.filings")
        province.physical_topic = f"{province_prefix}normreg.filings"
    yield province
    await s.stop()
    if province_log is not None:
        await province_log.close()


async def promulgated(people: People, title: str) -> pb.Document:
    """A normative document of 赤峰市人民政府, promulgated today: filed with the province's government
    and the city's standing committee."""
    doc = await people.create(title, "第一条 为了规范管理，制定本办法。\n第二条 本办法自公布之日起施行。")
    doc = await people.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    from normreg.v1 import review_service_pb2 as vpb

    await people.review(doc, vpb.REVIEW_DECISION_APPROVE)
    await people.secretary.RecordDeliberation(
        rpb.RecordDeliberationRequest(
            name=doc.name,
            decision=rpb.DELIBERATION_DECISION_ADOPT,
            meeting="市政府第8次常务会议",
            meeting_date=day(str(people.clock.now().date())),
        )
    )
    return await people.registrar.Promulgate(rpb.PromulgateRequest(name=doc.name))


async def file(people: People, doc: pb.Document, materials: dict[str, bool]) -> pb.Filing:
    return await people.registrar.RecordFiling(
        rpb.RecordFilingRequest(
            name=doc.name,
            filed_date=day(str(people.clock.now().date())),
            recipient=GOV,
            materials=pb.FilingMaterials(**materials),
        )
    )


async def filing_with(people: People, doc: pb.Document, recipient: str = GOV) -> pb.Filing:
    got = await people.registrar.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    [obligation] = [o for o in got.versions[-1].filing_obligations if o.recipient == recipient]
    return obligation.filing


def dead_letters(s: System) -> Stub:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{s.apps['registry'].port}")
    s._channels.append(channel)
    return Stub(dgrpc.DeadLetterServiceStub(channel), s.token("root", "admin", org="市政府"))


def version_of(doc: pb.Document) -> str:
    return f"{doc.name}/versions/1"


async def test_registration_materials_correction_and_acceptance_reach_the_obligation_without_retyping(
    city: Province,
) -> None:
    s, people = city.s, People(city.s)
    doc = await promulgated(people, "赤峰市共享单车停放管理办法")
    await file(people, doc, NO_EXPLANATION)
    await people.settle()
    f = await city.receive(doc.name)
    assert (f.sender, f.recipient, f.complete_on_arrival) == ("chifeng", GOV, False)

    # 补充报送: the province asks for the drafting explanation, by a deadline of its profile.
    people.clock.advance(days=2)
    f.register(REVIEWER, city.now(), city.profile, missing=[], note="内部：起草说明缺失")
    await city.tell(f)
    await people.settle()
    filing = await filing_with(people, doc)
    assert (filing.reported_by, filing.received_filing, filing.recipient_status) == (
        "neimenggu",
        f.name,
        "MATERIALS_REQUESTED",
    )
    assert list(filing.missing_materials) == ["drafting_explanation"]
    completion_due = city.now().date() + dt.timedelta(days=city.profile.completion_days)
    assert (filing.completion_due.year, filing.completion_due.month, filing.completion_due.day) == (
        completion_due.year,
        completion_due.month,
        completion_due.day,
    )
    due = await people.registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=30))
    # Soonest first: the materials are due in 15 days, the filing with the standing committee in 30.
    assert [(d.recipient, d.step) for d in due.filings if d.document == version_of(doc)] == [
        (GOV, "COMPLETE_MATERIALS"),
        ("赤峰市人大常委会", "FILE"),
    ]
    # The reviewers' own notes never reach the sender.
    history = await people.registrar.GetHistory(rpb.GetHistoryRequest(name=doc.name))
    assert "内部" not in str(history)

    # The city sends the explanation (a refiling); the province completes, then requires a correction.
    await file(people, doc, ALL)
    await people.settle()
    f.complete_materials(city.now(), city.profile, ALL)
    people.clock.advance(days=5)
    f.decide(
        REVIEWER,
        city.now(),
        city.profile,
        outcome=Outcome.CORRECTION_REQUIRED,
        reasons="罚款数额超过上位法规定",
        provisions=["第二条"],
        note="内部：请处长阅",
    )
    await city.tell(f)
    await people.settle()
    filing = await filing_with(people, doc)
    assert (filing.recipient_status, filing.outcome, filing.outcome_note, list(filing.provisions)) == (
        "CORRECTION_REQUIRED",
        pb.FILING_OUTCOME_CORRECTION_REQUIRED,
        "罚款数额超过上位法规定",
        ["第二条"],
    )
    correction_due = city.now().date() + dt.timedelta(days=city.profile.correction_days)
    due = await people.registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=60))
    [correct] = [d for d in due.filings if d.document == version_of(doc) and d.recipient == GOV]
    assert (correct.step, correct.due_date.month, correct.due_date.day) == (
        "CORRECT",
        correction_due.month,
        correction_due.day,
    )
    # An outcome the recipient reports itself is not typed in by hand.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await people.registrar.RecordFilingReview(
            rpb.RecordFilingReviewRequest(name=doc.name, outcome=pb.FILING_OUTCOME_ACCEPTED, recipient=GOV)
        )
    assert (refused.value.code(), error_reason(refused.value)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "FILING_OUTCOME_REPORTED_BY_RECIPIENT",
    )

    # The city answers (refiles the corrected document); the province records it and accepts.
    await file(people, doc, ALL)
    await people.settle()
    f.answer_correction(city.now(), "已修改第二条")
    f.decide(REVIEWER, city.now(), city.profile, outcome=Outcome.ACCEPTED, reasons="", provisions=[], note="")
    await city.tell(f)
    await people.settle()
    filing = await filing_with(people, doc)
    assert (filing.recipient_status, filing.outcome, filing.reported_by) == (
        "ACCEPTED",
        pb.FILING_OUTCOME_ACCEPTED,
        "neimenggu",
    )
    due = await people.registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=60))
    assert [d.recipient for d in due.filings if d.document == version_of(doc)] == ["赤峰市人大常委会"]
    history = await people.registrar.GetHistory(rpb.GetHistoryRequest(name=doc.name))
    by_province = [(e.action, e.actor) for e in history.entries if e.actor.startswith("neimenggu:")]
    assert by_province == [
        ("filing_materials_requested", f"neimenggu:{GOV}"),
        ("filing_materials_completed", f"neimenggu:{GOV}"),
        ("filing_reviewed", f"neimenggu:{GOV}"),
        ("filing_correction_answered", f"neimenggu:{GOV}"),
        ("filing_reviewed", f"neimenggu:{GOV}"),
    ]
    # The report judges the first filing: on time, but its materials were incomplete and a
    # correction was required, so not conforming.
    report = await people.registrar.GetFilingReport(rpb.GetFilingReportRequest(year=2026, recipient=GOV))
    [row] = report.rows
    assert (row.required, row.filed, row.filed_on_time, row.filed_complete) == (1, 1, 1, 0)
    assert (await dead_letters(s).ListDeadLetters(dpb.ListDeadLettersRequest())).dead_letters == []


async def test_the_report_counts_a_filing_the_recipient_accepted_by_event_as_conforming(city: Province) -> None:
    people = People(city.s)
    doc = await promulgated(people, "赤峰市城市绿化管理办法")
    await file(people, doc, ALL)
    await people.settle()
    f = await city.receive(doc.name)
    f.register(REVIEWER, city.now(), city.profile, missing=[], note="")
    f.decide(REVIEWER, city.now(), city.profile, outcome=Outcome.ACCEPTED, reasons="", provisions=[], note="")
    await city.tell(f)
    await people.settle()
    filing = await filing_with(people, doc)
    assert (filing.recipient_status, filing.outcome) == ("ACCEPTED", pb.FILING_OUTCOME_ACCEPTED)
    assert filing.registered_date.year == 2026 and filing.review_due.year == 2026
    report = await people.registrar.GetFilingReport(rpb.GetFilingReportRequest(year=2026, recipient=GOV))
    [row] = report.rows
    assert (row.required, row.filed, row.filed_on_time, row.filed_complete) == (1, 1, 1, 1)


async def test_a_revocation_by_event_declares_the_document_invalid_with_its_reason_and_search_says_so(
    city: Province,
) -> None:
    people = People(city.s)
    doc = await promulgated(people, "赤峰市户外广告设置管理办法")
    people.clock.advance(days=30)
    await city.s.apps["registry"].service.run_scheduler()
    await file(people, doc, ALL)
    await people.settle()
    f = await city.receive(doc.name)
    f.register(REVIEWER, city.now(), city.profile, missing=[], note="")
    f.decide(
        REVIEWER,
        city.now(),
        city.profile,
        outcome=Outcome.REVOKED,
        reasons="设定行政许可，超越权限",
        provisions=["第二条"],
        note="",
    )
    await city.tell(f)
    await people.settle()
    got = await people.registrar.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert got.state == pb.VERSION_STATE_DECLARED_INVALID
    history = await people.registrar.GetHistory(rpb.GetHistoryRequest(name=doc.name))
    [ended] = [e for e in history.entries if e.action == "declared_invalid"]
    assert ended.actor == f"neimenggu:{GOV}"
    assert GOV in ended.reason and "设定行政许可，超越权限" in ended.reason and "第二条" in ended.reason
    public = await people.search.GetPublicDocument(spb.GetPublicDocumentRequest(name=doc.name))
    assert public.state == pb.VERSION_STATE_DECLARED_INVALID
    assert await people.search_names("户外广告") == []
    assert await people.search_names("户外广告", states=[pb.VERSION_STATE_DECLARED_INVALID]) == [doc.name]


async def test_a_document_revoked_before_it_takes_effect_never_does(city: Province) -> None:
    people = People(city.s)
    doc = await promulgated(people, "赤峰市临时停车收费办法")
    await file(people, doc, ALL)
    await people.settle()
    f = await city.receive(doc.name)
    f.register(REVIEWER, city.now(), city.profile, missing=[], note="")
    f.decide(
        REVIEWER,
        city.now(),
        city.profile,
        outcome=Outcome.REVOKED,
        reasons="违反上位法",
        provisions=["第一条"],
        note="",
    )
    await city.tell(f)
    await people.settle()
    people.clock.advance(days=31)
    await city.s.apps["registry"].service.run_scheduler()
    await people.settle()
    got = await people.registrar.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert got.state == pb.VERSION_STATE_DECLARED_INVALID


async def test_forged_foreign_unsigned_malformed_and_replayed_outcomes_are_set_aside_and_never_applied(
    city_on_both_logs: Province,
) -> None:
    city = city_on_both_logs
    s, people = city.s, People(city.s)
    doc = await promulgated(people, "赤峰市犬只管理办法")
    await file(people, doc, ALL)
    await people.settle()
    real = await city.receive(doc.name)
    real.register(REVIEWER, city.now(), city.profile, missing=[], note="")
    [registered] = await city.tell(real)
    await people.settle()
    assert (await filing_with(people, doc)).recipient_status == "REGISTERED"

    revoked = CloudEvent.from_bytes(registered).model_copy(
        update={
            "id": str(uuid.uuid4()),
            "jurisdiction": None,
            "jurisdictionsig": None,
            "type": "normreg.filing.v1.revoked",
            "sequence": 2,
            "dataschema": "type.googleapis.com/normreg.events.v1.FilingDecided",
            "data": {
                "filing": CloudEvent.from_bytes(registered).data["filing"],
                "outcome": "REVOKED",
                "decided_date": {"year": 2026, "month": 3, "day": 3},
                "reasons": "伪造的撤销",
                "provisions": [],
                "correction_due": {"year": 0, "month": 0, "day": 0},
            },
        }
    )
    other_sender = {**revoked.data, "filing": {**revoked.data["filing"], "sender": "wuhai"}}
    not_the_recipient = {**revoked.data, "filing": {**revoked.data["filing"], "recipient": "国务院"}}
    never_filed = {**revoked.data, "filing": {**revoked.data["filing"], "recipient": "内蒙古自治区人大常委会"}}
    attempts = {
        "UNSIGNED": revoked.to_bytes(),
        "BAD_SIGNATURE": sign(revoked, "neimenggu", INTRUDER_KEY).to_bytes(),
        "WRONG_JURISDICTION": sign(revoked, "wuhai", WUHAI_KEY).to_bytes(),
        "MALFORMED_SIGNATURE": sign(revoked, "neimenggu", PROVINCE_KEY)
        .model_copy(update={"jurisdictionsig": "not base64!"})
        .to_bytes(),
        "NOT_THE_RECIPIENT": sign(
            revoked.model_copy(update={"data": not_the_recipient}), "neimenggu", PROVINCE_KEY
        ).to_bytes(),
        "UnreadableData": sign(
            revoked.model_copy(update={"data": {**revoked.data, "outcome": "ACCEPTED"}}), "neimenggu", PROVINCE_KEY
        ).to_bytes(),
        "not an event": b"\x00 not an event",
        # The province's own registration, published again: it was applied once already.
        "REPLAYED": registered,
        "NOT_FILED": sign(
            revoked.model_copy(update={"data": never_filed, "subject": "receivedFilings/other"}),
            "neimenggu",
            PROVINCE_KEY,
        ).to_bytes(),
    }
    # Another city's filing on the same topic is none of this registry's business: skipped.
    wuhai_outcome = sign(
        revoked.model_copy(update={"data": other_sender, "subject": "receivedFilings/w"}), "neimenggu", PROVINCE_KEY
    ).to_bytes()
    await city.publish([*attempts.values(), wuhai_outcome], version_of(doc))
    await people.settle()

    filing = await filing_with(people, doc)
    assert (filing.recipient_status, filing.outcome) == ("REGISTERED", pb.FILING_OUTCOME_UNSPECIFIED)
    got = await people.registrar.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert got.state == pb.VERSION_STATE_PROMULGATED
    letters = (await dead_letters(s).ListDeadLetters(dpb.ListDeadLettersRequest(page_size=50))).dead_letters
    assert [d.value for d in letters] == list(attempts.values())
    for (expected, _), letter in zip(attempts.items(), letters, strict=True):
        assert expected in letter.error or expected == "not an event", (expected, letter.error)
    assert {d.topic for d in letters} == {city.physical_topic}

    # The real revocation, signed by the province, applies after all of them.
    real.decide(
        REVIEWER,
        city.now(),
        city.profile,
        outcome=Outcome.REVOKED,
        reasons="违反上位法",
        provisions=["第一条"],
        note="",
    )
    await city.tell(real)
    await people.settle()
    got = await people.registrar.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert got.state == pb.VERSION_STATE_DECLARED_INVALID
    # Retrying a forged one changes nothing: it is refused again.
    again = await dead_letters(s).RetryDeadLetter(dpb.RetryDeadLetterRequest(name=letters[1].name))
    assert not again.applied and "BAD_SIGNATURE" in again.dead_letter.error


async def test_a_registry_restarted_before_its_positions_reached_the_log_applies_nothing_twice(
    city: Province, tmp_path: Path
) -> None:
    s, people = city.s, People(city.s)
    doc = await promulgated(people, "赤峰市餐厨垃圾管理办法")
    await file(people, doc, ALL)
    await people.settle()
    f = await city.receive(doc.name)
    f.register(REVIEWER, city.now(), city.profile, missing=[], note="")
    await city.tell(f)
    await people.settle()
    before = await people.registrar.GetHistory(rpb.GetHistoryRequest(name=doc.name))
    app = s.apps["registry"]
    await app.stop(0)
    from normreg_registry.bootstrap import create_app

    s.apps["registry"] = await create_app(
        s.settings, clock=s.clock, event_log=s.event_log, background=False, codec=s.authenticator
    )
    await s.apps["registry"].start()
    people = People(s)
    await people.settle()
    after = await people.registrar.GetHistory(rpb.GetHistoryRequest(name=doc.name))
    assert len(after.entries) == len(before.entries)
    assert (await dead_letters(s).ListDeadLetters(dpb.ListDeadLettersRequest())).dead_letters == []


async def test_the_provinces_intake_believes_only_the_citys_signed_filing(city: Province) -> None:
    people = People(city.s)
    doc = await promulgated(people, "赤峰市物业管理办法")
    await file(people, doc, ALL)
    await people.settle()
    raw = await city.filing_of(doc.name)
    event = CloudEvent.from_bytes(raw)
    assert event.jurisdiction == "chifeng" and event.jurisdictionsig
    read_trusted(raw, "chifeng", city.profile, frozenset({GOV}))
    unsigned = event.model_copy(update={"jurisdiction": None, "jurisdictionsig": None}).to_bytes()
    altered = event.model_copy(update={"data": {**event.data, "materials": {}}})
    for raw_bad, reason in ((unsigned, "UNSIGNED"), (altered.to_bytes(), "BAD_SIGNATURE")):
        with pytest.raises(Untrusted) as err:
            read_trusted(raw_bad, "chifeng", city.profile, frozenset({GOV}))
        assert err.value.reason == reason
    # What crosses to the province (the promulgation, the filing) is signed; the rest of the stream is
    # not, and the province's intake skips it unread, so an unsigned copy of it changes nothing there.
    every = [CloudEvent.from_bytes(e) for e in await city.city_events(doc.name)]
    signed = sorted(e.type.rsplit(".", 1)[1] for e in every if e.jurisdiction == "chifeng" and e.jurisdictionsig)
    assert signed == ["filing_recorded", "promulgated"] and len(every) > 5
    for e in every:
        if e.type not in CROSSING_REGISTRY_EVENTS:
            assert read_trusted(e.to_bytes(), "chifeng", city.profile, frozenset({GOV})) is None
