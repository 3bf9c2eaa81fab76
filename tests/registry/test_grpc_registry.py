"""The registry through gRPC on loopback: codes, reasons, nothing changed on refusal, history, filing report."""

from __future__ import annotations

import datetime as dt
import sqlite3

import grpc
import pytest
from google.protobuf import field_mask_pb2
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli.dates import text as iso
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock
from normreg_common.eventlog.port import Record
from normreg_common.events import REVIEW_SOURCE, REVIEWS_TOPIC, CloudEvent

from tests.harness import System, error_reason, field_violations

pytestmark = pytest.mark.asyncio

ORG = "市司法局"


class Actors:
    def __init__(self, s: System) -> None:
        self.drafter = s.stub("registry", s.token("alice", "drafter", org=ORG))
        self.other_drafter = s.stub("registry", s.token("bob", "drafter", org="市教育局"))
        self.secretary = s.stub("registry", s.token("sam", "secretary", org="政府办"))
        self.registrar = s.stub("registry", s.token("reg", "registrar", org="政府办"))
        self.evaluator = s.stub("registry", s.token("eve", "evaluator", org="某大学"))
        self.reviewer = s.stub("registry", s.token("rita", "reviewer", org="司法局"))
        self.public = s.stub("registry")


async def create(a: Actors, kind: int = pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT, request_id: str = "") -> pb.Document:
    return await a.drafter.CreateDocument(
        rpb.CreateDocumentRequest(
            request_id=request_id,
            kind=kind,  # type: ignore[arg-type]
            title="赤峰市城市绿化管理办法",
            body="第一条 为了加强城市绿化管理，制定本办法。\n第二条 本办法适用于本市城市规划区。",
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
        )
    )


_review_seq = {"n": 0}


async def decide(s: System, doc: pb.Document, decision: str) -> None:
    """Stands in for the review service: a decided event on the reviews topic."""
    v = doc.versions[-1]
    _review_seq["n"] += 1
    event = CloudEvent(
        source=REVIEW_SOURCE,
        type="normreg.review.v1.decided",
        subject=f"reviews/test-{_review_seq['n']}",
        time=s.clock.now(),
        sequence=1,
        data={
            "review": f"reviews/test-{_review_seq['n']}",
            "document": doc.name,
            "version_number": v.version_number,
            "review_round": 1,
            "revision": v.revision,
            "decision": decision,
            "reviewer": "rita",
            "reviewing_office": "司法局",
            "opinion": "",
            "problems": [],
        },
    )
    await s.event_log.publish([Record(REVIEWS_TOPIC, doc.name, event.to_bytes())])
    await s.pump()


PROVINCE_GOVERNMENT = "内蒙古自治区人民政府"


async def to_adopted(s: System, a: Actors) -> pb.Document:
    doc = await create(a)
    doc = await a.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    await decide(s, doc, "APPROVE")
    doc = await a.secretary.RecordDeliberation(
        rpb.RecordDeliberationRequest(
            name=doc.name,
            decision=rpb.DELIBERATION_DECISION_ADOPT,
            meeting="市政府第5次常务会议",
            meeting_date=day(s.clock.now().date().isoformat()),
        )
    )
    assert doc.state == pb.VERSION_STATE_ADOPTED
    return doc


async def test_a_document_goes_from_draft_to_in_force_over_grpc(system: System, clock: FakeClock) -> None:
    a = Actors(system)
    doc = await to_adopted(system, a)
    doc = await a.registrar.Promulgate(rpb.PromulgateRequest(name=doc.name))
    assert doc.state == pb.VERSION_STATE_PROMULGATED
    assert doc.versions[-1].promulgation.uniform_number == "赤政规〔2026〕1号"
    clock.advance(days=30)
    assert (await system.apps["registry"].service.run_scheduler()).changed == 1
    doc = await a.public.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert doc.state == pb.VERSION_STATE_IN_FORCE
    assert doc.drafting_org == ""  # not shown to the public
    history = await a.registrar.GetHistory(rpb.GetHistoryRequest(name=doc.name))
    assert [e.action for e in history.entries] == [
        "created",
        "review_requested",
        "review_approved",
        "adopted",
        "promulgated",
        "entered_into_force",
    ]
    verified = await a.registrar.VerifyHistory(rpb.VerifyHistoryRequest())
    assert verified.intact and verified.entries_checked == 6


async def test_deliberation_without_approved_review_fails_and_changes_nothing(system: System) -> None:
    a = Actors(system)
    doc = await create(a)
    admin = system.stub("registry", system.token("root", "admin"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await admin.RecordDeliberation(
            rpb.RecordDeliberationRequest(
                name=doc.name, decision=rpb.DELIBERATION_DECISION_ADOPT, meeting="m", meeting_date=day("2026-03-02")
            )
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    # The rule of the law, not the state: a topic not approved in legality review is not deliberated.
    assert error_reason(err.value) == "LEGALITY_REVIEW_NOT_APPROVED"
    after = await admin.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert after.etag == doc.etag


async def test_the_gate_reason_reaches_the_client_for_major_decisions(system: System) -> None:
    a = Actors(system)
    doc = await create(a, kind=pb.DOCUMENT_KIND_MAJOR_DECISION)
    doc = await a.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    await decide(system, doc, "APPROVE")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.secretary.RecordDeliberation(
            rpb.RecordDeliberationRequest(
                name=doc.name, decision=rpb.DELIBERATION_DECISION_ADOPT, meeting="m", meeting_date=day("2026-03-02")
            )
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(err.value) == "MAJOR_DECISION_PROCEDURES_MISSING"
    assert "expert argumentation" in (err.value.details() or "")


async def test_create_with_the_same_request_id_returns_the_first_document(system: System) -> None:
    a = Actors(system)
    first = await create(a, request_id="req-1")
    second = await create(a, request_id="req-1")
    assert first.name == second.name
    listed = await a.drafter.ListDocuments(rpb.ListDocumentsRequest())
    assert len(listed.documents) == 1


async def test_a_stale_etag_gives_aborted_and_changes_nothing(system: System) -> None:
    a = Actors(system)
    doc = await create(a)
    mask = field_mask_pb2.FieldMask(paths=["title"])
    updated = await a.drafter.UpdateDraft(
        rpb.UpdateDraftRequest(name=doc.name, update_mask=mask, title="新标题", etag=doc.etag)
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.drafter.UpdateDraft(
            rpb.UpdateDraftRequest(name=doc.name, update_mask=mask, title="旧的想法", etag=doc.etag)
        )
    assert err.value.code() == grpc.StatusCode.ABORTED
    now = await a.drafter.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert now.title == "新标题" and now.etag == updated.etag


@pytest.mark.parametrize(
    ("title", "field"),
    [("", "title"), ("标题\x07", "title"), ("x" * 301, "title"), ("两行\n标题", "title")],
)
async def test_bad_input_names_the_field_and_creates_nothing(system: System, title: str, field: str) -> None:
    a = Actors(system)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.drafter.CreateDocument(
            rpb.CreateDocumentRequest(
                kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT, title=title, body="b", issuing_body="赤峰市人民政府"
            )
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err.value) == [field]
    assert (await a.drafter.ListDocuments(rpb.ListDocumentsRequest())).documents == []


async def test_text_is_normalised_to_nfc(system: System) -> None:
    a = Actors(system)
    doc = await a.drafter.CreateDocument(
        rpb.CreateDocumentRequest(
            kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            title="Cafe\u0301 管理办法",
            body="",
            issuing_body="赤峰市人民政府",
        )
    )
    assert doc.title == "Caf\u00e9 管理办法"


async def test_another_organisations_draft_is_not_found_exactly_like_a_missing_one(system: System) -> None:
    a = Actors(system)
    doc = await create(a)
    for name in (doc.name, "documents/doesnotexist"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await a.other_drafter.GetDocument(rpb.GetDocumentRequest(name=name))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        assert err.value.details() == f"{name} not found"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.public.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_an_invalid_token_is_unauthenticated(system: System) -> None:
    from tests.harness import Stub

    stub = system.stub("registry")
    bad = Stub(stub._raw, "not-a-jwt")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bad.ListDocuments(rpb.ListDocumentsRequest())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_uniform_numbers_are_unique_per_body_and_year_and_never_reused(system: System) -> None:
    a = Actors(system)
    first = await a.registrar.Promulgate(rpb.PromulgateRequest(name=(await to_adopted(system, a)).name))
    second_doc = await to_adopted(system, a)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.registrar.Promulgate(rpb.PromulgateRequest(name=second_doc.name, number_sequence=1))
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_reason(err.value) == "UNIFORM_NUMBER_TAKEN"
    system.clock.advance(days=30)  # type: ignore[attr-defined]
    await system.apps["registry"].service.run_scheduler()
    await a.registrar.Repeal(rpb.RepealRequest(name=first.name, reason="不再适用"))
    second = await a.registrar.Promulgate(rpb.PromulgateRequest(name=second_doc.name))
    assert second.versions[-1].promulgation.uniform_number == "赤政规〔2026〕2号"


async def test_verify_history_detects_a_change_to_the_past(system: System, tmp_path: object) -> None:
    a = Actors(system)
    doc = await to_adopted(system, a)
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    with sqlite3.connect(tmp_path / "registry.db") as conn:
        conn.execute("UPDATE history SET actor = 'mallory' WHERE sequence = 2")
    result = await a.registrar.VerifyHistory(rpb.VerifyHistoryRequest(name=doc.name))
    assert not result.intact
    assert result.problems == [f"{doc.name}: entry 2 was altered (hash mismatch)"]


async def test_comment_only_inside_the_window_and_anonymous(system: System, clock: FakeClock) -> None:
    a = Actors(system)
    doc = await create(a)
    today = clock.now().date()
    await a.drafter.OpenPublicComment(
        rpb.OpenPublicCommentRequest(
            name=doc.name,
            start_date=day(str(today + dt.timedelta(days=1))),
            end_date=day(str(today + dt.timedelta(days=15))),
        )
    )
    # Announced for tomorrow: the draft is not public yet, so the public does not see it.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.public.SubmitComment(rpb.SubmitCommentRequest(name=doc.name, text="建议增加公园"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    # Those who see it are told the window has not begun.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.drafter.SubmitComment(rpb.SubmitCommentRequest(name=doc.name, text="建议增加公园"))
    assert error_reason(err.value) == "OUTSIDE_COMMENT_WINDOW"
    clock.advance(days=1)
    comment = await a.public.SubmitComment(rpb.SubmitCommentRequest(name=doc.name, text="建议增加公园"))
    assert comment.name.startswith(f"{doc.name}/versions/1/comments/")
    listed = await a.drafter.ListComments(rpb.ListCommentsRequest(name=doc.name))
    assert [c.text for c in listed.comments] == ["建议增加公园"]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.public.ListComments(rpb.ListCommentsRequest(name=doc.name))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    clock.advance(days=15)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.public.SubmitComment(rpb.SubmitCommentRequest(name=doc.name, text="晚了"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_filing_report_is_computed_from_events(system: System, clock: FakeClock) -> None:
    """Four documents promulgated in 2026: on time & complete, late, incomplete, never filed."""
    a = Actors(system)
    docs = []
    for _ in range(4):
        adopted = await to_adopted(system, a)
        docs.append(await a.registrar.Promulgate(rpb.PromulgateRequest(name=adopted.name)))
    promulgated_on = clock.now().date()
    complete = pb.FilingMaterials(text=True, drafting_explanation=True, legal_basis=True, legality_review_opinion=True)
    missing = pb.FilingMaterials(text=True, drafting_explanation=True, legal_basis=False, legality_review_opinion=True)
    due_soon = await a.registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=30))
    # A normative document of the city government is filed with the province's government and the
    # city's standing committee: two obligations each.
    assert len(due_soon.filings) == 8 and not any(f.overdue for f in due_soon.filings)
    assert {f.recipient for f in due_soon.filings} == {PROVINCE_GOVERNMENT, "赤峰市人大常委会"}
    clock.advance(days=10)
    await a.registrar.RecordFiling(
        rpb.RecordFilingRequest(
            name=docs[0].name, filed_date=day(clock.now().date()), recipient=PROVINCE_GOVERNMENT, materials=complete
        )
    )
    await a.registrar.RecordFiling(
        rpb.RecordFilingRequest(
            name=docs[2].name, filed_date=day(clock.now().date()), recipient=PROVINCE_GOVERNMENT, materials=missing
        )
    )
    clock.advance(days=25)
    overdue = await a.registrar.ListDueFilings(rpb.ListDueFilingsRequest())
    to_province = {f.document for f in overdue.filings if f.recipient == PROVINCE_GOVERNMENT}
    assert to_province == {docs[1].name + "/versions/1", docs[3].name + "/versions/1"}
    assert len([f for f in overdue.filings if f.recipient == "赤峰市人大常委会"]) == 4
    assert all(f.overdue for f in overdue.filings)
    filing = await a.registrar.RecordFiling(
        rpb.RecordFilingRequest(
            name=docs[1].name, filed_date=day(clock.now().date()), recipient=PROVINCE_GOVERNMENT, materials=complete
        )
    )
    assert not filing.on_time and iso(filing.due_date) == str(promulgated_on + dt.timedelta(days=30))
    report = await a.registrar.GetFilingReport(rpb.GetFilingReportRequest(year=2026))
    assert {(r.recipient, r.required, r.filed) for r in report.rows} == {
        (PROVINCE_GOVERNMENT, 4, 3),
        ("赤峰市人大常委会", 4, 0),
    }
    report = await a.registrar.GetFilingReport(rpb.GetFilingReportRequest(year=2026, recipient=PROVINCE_GOVERNMENT))
    [row] = report.rows
    assert (row.required, row.filed, row.filed_on_time, row.filed_complete) == (4, 3, 2, 2)
    assert row.filing_rate == pytest.approx(0.75)
    assert row.timeliness_rate == pytest.approx(2 / 3)
    assert row.conformity_rate == pytest.approx(2 / 3)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.drafter.GetFilingReport(rpb.GetFilingReportRequest())
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_cleanup_campaign_applies_every_outcome_or_none(system: System, clock: FakeClock) -> None:
    a = Actors(system)
    names = []
    for _ in range(3):
        adopted = await to_adopted(system, a)
        names.append((await a.registrar.Promulgate(rpb.PromulgateRequest(name=adopted.name))).name)
    clock.advance(days=30)
    await system.apps["registry"].service.run_scheduler()
    campaign = await a.registrar.CreateCleanupCampaign(
        rpb.CreateCleanupCampaignRequest(title="2026年规范性文件清理", documents=names)
    )
    kinds = [pb.CLEANUP_OUTCOME_KIND_RETAIN, pb.CLEANUP_OUTCOME_KIND_REPEAL, pb.CLEANUP_OUTCOME_KIND_DECLARE_INVALID]
    for name, kind in zip(names, kinds, strict=True):
        campaign = await a.registrar.RecordCleanupOutcome(
            rpb.RecordCleanupOutcomeRequest(
                name=campaign.name, outcome=pb.CleanupOutcome(document=name, outcome=kind, reason="清理结论")
            )
        )
    # A flagged missing procedure without a remedy blocks the whole campaign.
    await a.registrar.RecordCleanupOutcome(
        rpb.RecordCleanupOutcomeRequest(
            name=campaign.name,
            outcome=pb.CleanupOutcome(
                document=names[0], outcome=pb.CLEANUP_OUTCOME_KIND_RETAIN, missing_procedure="未经合法性审查"
            ),
        )
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.registrar.ApplyCleanupCampaign(rpb.ApplyCleanupCampaignRequest(name=campaign.name))
    assert error_reason(err.value) == "CLEANUP_REMEDY_MISSING"
    states = [(await a.public.GetDocument(rpb.GetDocumentRequest(name=n))).state for n in names]
    assert states == [pb.VERSION_STATE_IN_FORCE] * 3
    await a.registrar.RecordCleanupOutcome(
        rpb.RecordCleanupOutcomeRequest(
            name=campaign.name,
            outcome=pb.CleanupOutcome(
                document=names[0],
                outcome=pb.CLEANUP_OUTCOME_KIND_RETAIN,
                missing_procedure="未经合法性审查",
                remedy="已补正合法性审查",
            ),
        )
    )
    applied = await a.registrar.ApplyCleanupCampaign(rpb.ApplyCleanupCampaignRequest(name=campaign.name))
    assert applied.applied
    states = [(await a.public.GetDocument(rpb.GetDocumentRequest(name=n))).state for n in names]
    assert states == [pb.VERSION_STATE_IN_FORCE, pb.VERSION_STATE_REPEALED, pb.VERSION_STATE_DECLARED_INVALID]


async def test_health_and_reflection_are_served(system: System) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    channel = grpc.aio.insecure_channel(f"127.0.0.1:{system.apps['registry'].port}")
    try:
        health = health_pb2_grpc.HealthStub(channel)
        reply = await health.Check(health_pb2.HealthCheckRequest(service="normreg.v1.RegistryService"), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await channel.close()


async def test_the_jurisdiction_profile_sets_the_filing_deadline(tmp_path: object, clock: FakeClock) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    s = System(tmp_path, clock, services=("registry",), settings={"profile": "filing20"})
    await s.start()
    try:
        a = Actors(s)
        doc = await a.registrar.Promulgate(rpb.PromulgateRequest(name=(await to_adopted(s, a)).name))
        due = await a.registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=30))
        assert {(f.document, f.recipient, iso(f.due_date)) for f in due.filings} == {
            (f"{doc.name}/versions/1", recipient, str(clock.now().date() + dt.timedelta(days=20)))
            for recipient in (PROVINCE_GOVERNMENT, "赤峰市人大常委会")
        }
    finally:
        await s.stop()
