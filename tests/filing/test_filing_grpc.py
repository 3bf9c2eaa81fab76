"""FilingReviewService over gRPC: the province's reviewers take a city's filing from arrival to its
outcome; the sender's people read their filings without the reviewers' notes; anyone may ask for a
review, and only the reviewers learn who asked."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.type import date_pb2
from normreg.v1 import filing_review_service_pb2 as pb
from normreg_common.paging import IntCursor, PageTokens
from normreg_registry.domain.lifecycle import Kind

from tests.filing.support import (
    PROVINCE_GOVERNMENT,
    SOME_MATERIALS,
    city_registrar,
    deliver,
    filed,
    province,
    reviewer,
    start_province,
)
from tests.filing.test_filing_review_service import city_document
from tests.harness import System, error_reason, field_violations

__all__ = ["province"]


def day(d: date_pb2.Date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


async def test_a_filing_goes_from_arrival_through_correction_to_acceptance(province: System) -> None:
    await deliver(province, filed("rule1"))
    stub = reviewer(province)
    listed = await stub.ListReceivedFilings(pb.ListReceivedFilingsRequest(sender="chifeng"))
    [f] = listed.received_filings
    assert (f.document, f.recipient, f.state, f.on_time, f.complete_on_arrival) == (
        "documents/rule1/versions/1",
        PROVINCE_GOVERNMENT,
        pb.RECEIVED_FILING_STATE_RECEIVED,
        True,
        True,
    )
    assert day(f.promulgation_date) == "2026-03-06" and day(f.filing_due_date) == "2026-04-05"
    f = await stub.RegisterReceivedFiling(pb.RegisterReceivedFilingRequest(name=f.name, note="材料齐全", etag=f.etag))
    # Registered on day 12 (2026-03-14); the province's own review is due 60 days later (profile).
    assert f.state == pb.RECEIVED_FILING_STATE_REGISTERED
    assert (day(f.registered_date), day(f.review_due)) == ("2026-03-14", "2026-05-13")
    stale = f.etag
    f = await stub.DecideFilingReview(
        pb.DecideFilingReviewRequest(
            name=f.name,
            outcome=pb.FILING_REVIEW_OUTCOME_CORRECTION_REQUIRED,
            reasons="第五条设定的罚款超出上位法规定的幅度",
            provisions=["第五条"],
            note="请处里复核",
            etag=f.etag,
        )
    )
    assert f.state == pb.RECEIVED_FILING_STATE_CORRECTION_REQUIRED and f.correction_required_once
    assert list(f.provisions) == ["第五条"] and day(f.correction_due) == "2026-04-13"
    with pytest.raises(grpc.aio.AioRpcError) as aborted:
        await stub.RecordCorrectionResponse(
            pb.RecordCorrectionResponseRequest(name=f.name, response="已修改", etag=stale)
        )
    assert aborted.value.code() == grpc.StatusCode.ABORTED and error_reason(aborted.value) == "ETAG_MISMATCH"
    f = await stub.RecordCorrectionResponse(
        pb.RecordCorrectionResponseRequest(name=f.name, response="已修改第五条，罚款幅度与上位法一致")
    )
    assert f.state == pb.RECEIVED_FILING_STATE_REGISTERED
    assert list(f.correction_responses) == ["已修改第五条，罚款幅度与上位法一致"]
    f = await stub.DecideFilingReview(
        pb.DecideFilingReviewRequest(name=f.name, outcome=pb.FILING_REVIEW_OUTCOME_ACCEPTED)
    )
    assert f.state == pb.RECEIVED_FILING_STATE_ACCEPTED and f.outcome == pb.FILING_REVIEW_OUTCOME_ACCEPTED
    assert list(f.internal_notes) == ["材料齐全", "请处里复核"]
    with pytest.raises(grpc.aio.AioRpcError) as closed:
        await stub.DecideFilingReview(
            pb.DecideFilingReviewRequest(
                name=f.name, outcome=pb.FILING_REVIEW_OUTCOME_REVOKED, reasons="x", provisions=["第一条"]
            )
        )
    assert closed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(closed.value) == "FILING_REVIEW_CLOSED"
    again = await stub.GetReceivedFiling(pb.GetReceivedFilingRequest(name=f.name))
    assert again == f


async def test_incomplete_materials_are_requested_and_a_decision_waits_for_them(province: System) -> None:
    await deliver(province, filed("rule1", materials=SOME_MATERIALS))
    stub = reviewer(province)
    [f] = (await stub.ListReceivedFilings(pb.ListReceivedFilingsRequest())).received_filings
    assert not f.complete_on_arrival and not f.materials.drafting_explanation
    f = await stub.RegisterReceivedFiling(pb.RegisterReceivedFilingRequest(name=f.name))
    assert f.state == pb.RECEIVED_FILING_STATE_MATERIALS_REQUESTED
    assert list(f.materials_requested) == ["drafting_explanation"] and day(f.completion_due) == "2026-03-29"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.DecideFilingReview(
            pb.DecideFilingReviewRequest(name=f.name, outcome=pb.FILING_REVIEW_OUTCOME_ACCEPTED)
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(refused.value) == "FILING_MATERIALS_MISSING"
    waiting = await stub.ListReceivedFilings(
        pb.ListReceivedFilingsRequest(
            state=pb.RECEIVED_FILING_STATE_MATERIALS_REQUESTED, due_before=date_pb2.Date(year=2026, month=3, day=29)
        )
    )
    assert [w.name for w in waiting.received_filings] == [f.name]
    later = await stub.ListReceivedFilings(
        pb.ListReceivedFilingsRequest(due_before=date_pb2.Date(year=2026, month=3, day=28))
    )
    assert list(later.received_filings) == []


async def test_the_senders_people_never_see_the_recipients_internal_notes(province: System) -> None:
    await deliver(province, filed("rule1"))
    stub = reviewer(province)
    [f] = (await stub.ListReceivedFilings(pb.ListReceivedFilingsRequest())).received_filings
    f = await stub.RegisterReceivedFiling(pb.RegisterReceivedFilingRequest(name=f.name, note="内部：起草单位曾被约谈"))
    assert list(f.internal_notes) == ["内部：起草单位曾被约谈"]

    sender = city_registrar(province)
    seen = await sender.GetReceivedFiling(pb.GetReceivedFilingRequest(name=f.name))
    assert seen.state == pb.RECEIVED_FILING_STATE_REGISTERED and list(seen.internal_notes) == []
    assert "约谈" not in str(seen)
    [listed] = (await sender.ListReceivedFilings(pb.ListReceivedFilingsRequest())).received_filings
    assert list(listed.internal_notes) == [] and listed.name == f.name

    other = city_registrar(province, org="乌海市人民政府")
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await other.GetReceivedFiling(pb.GetReceivedFilingRequest(name=f.name))
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    assert list((await other.ListReceivedFilings(pb.ListReceivedFilingsRequest())).received_filings) == []
    with pytest.raises(grpc.aio.AioRpcError) as public:
        await province.stub("filing").GetReceivedFiling(pb.GetReceivedFilingRequest(name=f.name))
    assert public.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as acting:
        await sender.DecideFilingReview(
            pb.DecideFilingReviewRequest(name=f.name, outcome=pb.FILING_REVIEW_OUTCOME_ACCEPTED)
        )
    assert acting.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_suggestions_contact_reaches_the_recipients_reviewers_only(province: System) -> None:
    await deliver(province, filed("rule1"))
    anonymous = province.stub("filing")
    submitted = await anonymous.SubmitReviewSuggestion(
        pb.SubmitReviewSuggestionRequest(
            review_suggestion=pb.ReviewSuggestion(
                document="documents/rule1",
                sender="chifeng",
                provisions=["第五条"],
                reasons="第五条的罚款幅度超过行政处罚法的规定",
                contact="张三 13800000000",
            )
        )
    )
    assert submitted.name.startswith("reviewSuggestions/") and submitted.contact == ""
    assert submitted.requester_kind == pb.REQUESTER_KIND_CITIZEN and day(submitted.reply_due) == "2026-05-13"
    assert "13800000000" not in str(submitted)

    for outsider in (anonymous, city_registrar(province)):
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await outsider.ListReviewSuggestions(pb.ListReviewSuggestionsRequest())
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await outsider.ReplyToReviewSuggestion(
                pb.ReplyToReviewSuggestionRequest(name=submitted.name, reply="已答复")
            )
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    stub = reviewer(province)
    [listed] = (
        await stub.ListReviewSuggestions(pb.ListReviewSuggestionsRequest(unanswered_only=True))
    ).review_suggestions
    assert listed.contact == "张三 13800000000" and not listed.answered
    answered = await stub.ReplyToReviewSuggestion(
        pb.ReplyToReviewSuggestionRequest(name=submitted.name, reply="已要求赤峰市人民政府纠正第五条")
    )
    assert answered.answered and day(answered.replied_date) == "2026-03-14"
    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await stub.ReplyToReviewSuggestion(pb.ReplyToReviewSuggestionRequest(name=submitted.name, reply="再次答复"))
    assert error_reason(twice.value) == "SUGGESTION_ALREADY_ANSWERED"
    assert (
        list(
            (await stub.ListReviewSuggestions(pb.ListReviewSuggestionsRequest(unanswered_only=True))).review_suggestions
        )
        == []
    )


async def test_suggestions_from_one_client_without_a_token_are_limited(tmp_path: Path) -> None:
    system = await start_province(tmp_path, filing_suggestion_limit=2)
    try:
        await deliver(system, filed("rule1"))
        anonymous = system.stub("filing")
        request = pb.SubmitReviewSuggestionRequest(
            review_suggestion=pb.ReviewSuggestion(
                document="documents/rule1", reasons="与上位法抵触", contact="a@b.cn", sender="chifeng"
            )
        )
        await anonymous.SubmitReviewSuggestion(request)
        await anonymous.SubmitReviewSuggestion(request)
        with pytest.raises(grpc.aio.AioRpcError) as limited:
            await anonymous.SubmitReviewSuggestion(request)
        assert limited.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error_reason(limited.value) == "TOO_MANY_SUGGESTIONS"
        # A state body with a token is not counted against the public's allowance.
        organ = system.stub("filing", system.token("li", "registrar", org="赤峰市人大常委会"))
        await organ.SubmitReviewSuggestion(request)
        listed = await reviewer(system).ListReviewSuggestions(pb.ListReviewSuggestionsRequest())
        assert len(listed.review_suggestions) == 3
    finally:
        await system.stop()


async def test_missing_filings_before_and_after_the_deadline_and_the_report_per_city(province: System) -> None:
    # The rule is filed with the province's government only; the normative document with nobody.
    await deliver(province, filed("rule1"))
    await deliver(province, city_document("nd1", Kind.NORMATIVE_DOCUMENT))
    stub = reviewer(province)
    missing = await stub.ListMissingFilings(pb.ListMissingFilingsRequest())
    assert {(m.document, m.recipient, m.status) for m in missing.missing_filings} == {
        ("documents/rule1/versions/1", "内蒙古自治区人大常委会", pb.MISSING_FILING_STATUS_BEFORE_DEADLINE),
        ("documents/nd1/versions/1", PROVINCE_GOVERNMENT, pb.MISSING_FILING_STATUS_BEFORE_DEADLINE),
    }
    late = await stub.ListMissingFilings(pb.ListMissingFilingsRequest(status=pb.MISSING_FILING_STATUS_AFTER_DEADLINE))
    assert list(late.missing_filings) == []
    province.clock.advance(days=30)  # day 42: past the 5 April deadline
    late = await stub.ListMissingFilings(pb.ListMissingFilingsRequest(status=pb.MISSING_FILING_STATUS_AFTER_DEADLINE))
    assert len(late.missing_filings) == 2 and all(m.filing_due_date.day == 5 for m in late.missing_filings)
    [report] = (
        await stub.GetSubordinateFilingReport(pb.GetSubordinateFilingReportRequest(sender="chifeng", year=2026))
    ).reports
    assert (report.required_count, report.filed_count, report.filed_on_time_count, report.conforming_count) == (
        3,
        1,
        1,
        1,
    )
    assert report.filing_rate == pytest.approx(1 / 3) and report.timeliness_rate == 1.0
    every = (await stub.GetSubordinateFilingReport(pb.GetSubordinateFilingReportRequest(year=2026))).reports
    assert [r.sender for r in every] == ["chifeng", "neimenggu"]
    assert every[1].required_count == 0


async def test_pages_carry_every_filing_once(province: System) -> None:
    await deliver(province, *(filed(f"rule{i}") for i in range(5)))
    stub = reviewer(province)
    names: list[str] = []
    token = ""
    while True:
        page = await stub.ListReceivedFilings(pb.ListReceivedFilingsRequest(page_size=2, page_token=token))
        assert len(page.received_filings) <= 2
        names += [f.name for f in page.received_filings]
        token = page.next_page_token
        if not token:
            break
    assert len(names) == len(set(names)) == 5
    with pytest.raises(grpc.aio.AioRpcError) as other_query:
        await stub.ListReceivedFilings(
            pb.ListReceivedFilingsRequest(
                page_size=2,
                page_token=(await stub.ListReceivedFilings(pb.ListReceivedFilingsRequest(page_size=2))).next_page_token,
                sender="wuhai",
            )
        )
    assert other_query.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(other_query.value) == ["page_token"]


async def test_missed_filings_page_by_the_last_ones_position_and_an_offset_token_of_before_is_refused(
    province: System,
) -> None:
    await deliver(province, *(city_document(f"nd{i}", Kind.NORMATIVE_DOCUMENT) for i in range(5)))
    stub = reviewer(province)
    whole = await stub.ListMissingFilings(pb.ListMissingFilingsRequest())
    assert len(whole.missing_filings) == 5 and whole.next_page_token == ""
    paged: list[pb.MissingFiling] = []
    token = ""
    while True:
        page = await stub.ListMissingFilings(pb.ListMissingFilingsRequest(page_size=2, page_token=token))
        assert len(page.missing_filings) <= 2
        paged += page.missing_filings
        token = page.next_page_token
        if not token:
            break
    assert paged == list(whole.missing_filings)
    offset = PageTokens("missingFilings", IntCursor(maximum=10**9)).encode(2, {"sender": "", "overdue": None})
    nowhere = PageTokens("missingFilings.seen", IntCursor()).encode(10**6, {"sender": "", "overdue": None})
    for stale in (offset, nowhere):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListMissingFilings(pb.ListMissingFilingsRequest(page_size=2, page_token=stale))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field_violations(refused.value) == ["page_token"]


@pytest.mark.parametrize(
    ("method", "request_", "field"),
    [
        ("GetReceivedFiling", pb.GetReceivedFilingRequest(name="filings/x"), "name"),
        (
            "RegisterReceivedFiling",
            pb.RegisterReceivedFilingRequest(name="receivedFilings/abc", missing_materials=["photo"]),
            "missing_materials.0",
        ),
        ("DecideFilingReview", pb.DecideFilingReviewRequest(name="receivedFilings/abc"), "outcome"),
        ("DecideFilingReview", pb.DecideFilingReviewRequest(name="receivedFilings/abc", outcome=9), "outcome"),
        (
            "RecordCorrectionResponse",
            pb.RecordCorrectionResponseRequest(name="receivedFilings/abc", response="  "),
            "response",
        ),
        ("ListReceivedFilings", pb.ListReceivedFilingsRequest(page_size=-1), "page_size"),
        ("ListReceivedFilings", pb.ListReceivedFilingsRequest(state=42), "state"),
        (
            "ListReceivedFilings",
            pb.ListReceivedFilingsRequest(due_before=date_pb2.Date(year=2026, month=2, day=30)),
            "due_before",
        ),
        ("GetSubordinateFilingReport", pb.GetSubordinateFilingReportRequest(year=0), "year"),
        (
            "GetSubordinateFilingReport",
            pb.GetSubordinateFilingReportRequest(sender="chifeng-typo", year=2026),
            "sender",
        ),
        ("ListMissingFilings", pb.ListMissingFilingsRequest(status=7), "overdue"),
        ("ListMissingFilings", pb.ListMissingFilingsRequest(page_token="t1.forged"), "page_token"),
        ("ReplyToReviewSuggestion", pb.ReplyToReviewSuggestionRequest(name="reviewSuggestions/abc", reply=""), "reply"),
        # Only invisible characters: they passed for a reply, and counted it answered on time.
        (
            "ReplyToReviewSuggestion",
            pb.ReplyToReviewSuggestionRequest(name="reviewSuggestions/abc", reply="\u200b"),
            "reply",
        ),
        (
            "RecordCorrectionResponse",
            pb.RecordCorrectionResponseRequest(name="receivedFilings/abc", response="\u2066\u2069"),
            "response",
        ),
    ],
)
async def test_bad_input_is_invalid_argument_naming_the_field(
    province: System, method: str, request_: object, field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await getattr(reviewer(province), method)(request_)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(refused.value) == [field]


@pytest.mark.parametrize(
    ("suggestion", "field"),
    [
        (pb.ReviewSuggestion(document="rule1", reasons="抵触", contact="a"), "document"),
        (pb.ReviewSuggestion(document="documents/rule1", reasons="", contact="a"), "reasons"),
        (pb.ReviewSuggestion(document="documents/rule1", reasons="\u202e", contact="a"), "reasons"),
        (pb.ReviewSuggestion(document="documents/rule1", reasons="抵触", contact=" "), "contact"),
        (pb.ReviewSuggestion(document="documents/rule1", reasons="抵触", contact="a", sender="atlantis"), "sender"),
        (pb.ReviewSuggestion(document="documents/rule1", reasons="x" * 5001, contact="a"), "reasons"),
        (pb.ReviewSuggestion(document="documents/rule1", reasons="抵触", contact="a\x00b"), "contact"),
        (
            pb.ReviewSuggestion(document="documents/rule1", reasons="抵触", contact="a", requester_kind=8),
            "requester_kind",
        ),
    ],
)
async def test_a_malformed_suggestion_is_refused_and_stored_nowhere(
    province: System, suggestion: pb.ReviewSuggestion, field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await province.stub("filing").SubmitReviewSuggestion(
            pb.SubmitReviewSuggestionRequest(review_suggestion=suggestion)
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(refused.value) == [field]
    assert (
        list((await reviewer(province).ListReviewSuggestions(pb.ListReviewSuggestionsRequest())).review_suggestions)
        == []
    )
