"""FilingReviewService under hostile input: every field of every request drawn by hypothesis (any
text, control and invisible characters, out-of-range numbers and enum values, impossible dates,
forged names and page tokens), sent by the recipient's reviewer, the sender's registrar and the
public. No answer is INTERNAL or UNKNOWN, an INVALID_ARGUMENT names one field, and a refused call
changes nothing the reviewers can read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from google.type import date_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normreg.v1 import filing_review_service_pb2 as pb

from tests.filing.support import deliver, filed, reviewer, start_province
from tests.harness import Stub, System, field_violations

FORBIDDEN = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
WRITES = {"RegisterReceivedFiling", "DecideFilingReview", "RecordCorrectionResponse", "ReplyToReviewSuggestion"}

_TEXT = st.text(st.characters(codec="utf-8"), max_size=300) | st.sampled_from(
    ["", " ", "\u200b", "a\x00b", "第五条\n第六条", "x" * 6000, "规" * 21_000, "\u202e规政赤"]
)
_INT = st.integers(-(2**31), 2**31 - 1)
_ENUM = st.integers(0, 3) | st.integers(-3, 8)
_DATE = st.builds(
    date_pb2.Date, year=st.integers(0, 10_000), month=st.integers(0, 14), day=st.integers(0, 40)
) | st.just(date_pb2.Date())


def _or(*plausible: Any) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, so that calls get past validation to the rules."""
    return st.one_of(st.sampled_from(plausible), st.sampled_from(plausible), st.sampled_from(plausible), _TEXT)


def _name(real: list[str]) -> st.SearchStrategy[str]:
    forged = [
        "receivedFilings/0123456789abcdef",
        "reviewSuggestions/0123456789abcdef",
        "receivedFilings/",
        "receivedFilings/../x",
        "receivedFilings/" + "9" * 80,
        "reviewSuggestions/x y",
    ]
    return st.one_of(
        st.sampled_from(real), st.sampled_from(real), st.sampled_from(real), st.sampled_from(forged), _TEXT
    )


def _requests(filings: list[str], suggestions: list[str]) -> dict[str, st.SearchStrategy[Any]]:
    names = _name(filings)
    provisions = st.lists(_or("第五条", "第一条"), max_size=4)
    token = st.sampled_from(["", "t1.", "t1.eyJrIjoieCJ9", "%%%"]) | _TEXT
    size = st.integers(0, 5) | _INT
    sender = _or("", "chifeng")
    empty = _or("")
    date = st.just(date_pb2.Date()) | st.just(date_pb2.Date(year=2026, month=5, day=1)) | _DATE
    return {
        "ListReceivedFilings": st.builds(
            pb.ListReceivedFilingsRequest,
            page_size=size,
            page_token=token,
            sender=sender,
            state=_ENUM,
            due_before=date,
            recipient=_or("", "内蒙古自治区人民政府"),
        ),
        "GetReceivedFiling": st.builds(pb.GetReceivedFilingRequest, name=names),
        "RegisterReceivedFiling": st.builds(
            pb.RegisterReceivedFilingRequest,
            name=names,
            missing_materials=st.lists(st.sampled_from(["text", "legal_basis", "photo"]) | _TEXT, max_size=3),
            note=empty,
            etag=empty,
        ),
        "DecideFilingReview": st.builds(
            pb.DecideFilingReviewRequest,
            name=names,
            outcome=_ENUM,
            reasons=_or("超出上位法规定的幅度"),
            provisions=provisions,
            note=empty,
            etag=empty,
        ),
        "RecordCorrectionResponse": st.builds(
            pb.RecordCorrectionResponseRequest, name=names, response=_or("已修改"), etag=empty
        ),
        "SubmitReviewSuggestion": st.builds(
            pb.SubmitReviewSuggestionRequest,
            review_suggestion=st.builds(
                pb.ReviewSuggestion,
                document=_or("documents/rule1", "documents/rule1/versions/1"),
                sender=sender,
                provisions=provisions,
                reasons=_or("与行政处罚法抵触"),
                contact=_or("13800000000"),
                requester_kind=_ENUM,
                name=empty,
                reply=empty,
            ),
        ),
        "ListReviewSuggestions": st.builds(
            pb.ListReviewSuggestionsRequest,
            page_size=size,
            page_token=token,
            sender=sender,
            unanswered_only=st.booleans(),
        ),
        "ReplyToReviewSuggestion": st.builds(
            pb.ReplyToReviewSuggestionRequest, name=_name(suggestions), reply=_or("已答复")
        ),
        "GetSubordinateFilingReport": st.builds(
            pb.GetSubordinateFilingReportRequest, sender=sender, year=st.integers(2020, 2030) | _INT
        ),
        "ListMissingFilings": st.builds(
            pb.ListMissingFilingsRequest, page_size=size, page_token=token, sender=sender, status=_ENUM
        ),
        "VerifyReceivedFilings": st.just(pb.VerifyReceivedFilingsRequest()),
    }


async def _on_loop(make: Callable[[], Stub]) -> Stub:
    return make()


async def _snapshot(stub: Stub) -> tuple[bytes, bytes]:
    filings = await stub.ListReceivedFilings(pb.ListReceivedFilingsRequest(page_size=500))
    suggestions = await stub.ListReviewSuggestions(pb.ListReviewSuggestionsRequest(page_size=500))
    return filings.SerializeToString(deterministic=True), suggestions.SerializeToString(deterministic=True)


def test_no_request_to_the_filing_service_gets_internal_and_a_refusal_changes_nothing(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    # grpc.aio binds a channel to the loop current when it is made: make them all on this one.
    asyncio.set_event_loop(loop)
    system: System = loop.run_until_complete(start_province(tmp_path, filing_suggestion_limit=10_000))
    try:
        loop.run_until_complete(deliver(system, filed("rule1"), filed("rule2")))
        staff = loop.run_until_complete(_on_loop(lambda: reviewer(system)))
        listed = loop.run_until_complete(staff.ListReceivedFilings(pb.ListReceivedFilingsRequest()))
        filings = [f.name for f in listed.received_filings]
        suggestion = loop.run_until_complete(
            staff.SubmitReviewSuggestion(
                pb.SubmitReviewSuggestionRequest(
                    review_suggestion=pb.ReviewSuggestion(
                        document="documents/rule1", sender="chifeng", reasons="抵触", contact="a@b.cn"
                    )
                )
            )
        )
        callers = {
            "reviewer": staff,
            "sender": loop.run_until_complete(
                _on_loop(lambda: system.stub("filing", system.token("zhao", "registrar", org="赤峰市人民政府")))
            ),
            "public": loop.run_until_complete(_on_loop(lambda: system.stub("filing"))),
        }
        # A well-formed name of nothing stands beside the real ones.
        strategies = _requests(
            [*filings, "receivedFilings/0123456789abcdef"], [suggestion.name, "reviewSuggestions/0123456789abcdef"]
        )
        seen: dict[str, set[str]] = {}

        @settings(
            max_examples=400,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(method=st.sampled_from(sorted(strategies)), caller=st.sampled_from(sorted(callers)), data=st.data())
        def call(method: str, caller: str, data: st.DataObject) -> None:
            request = data.draw(strategies[method], label=method)
            invoke: Callable[[Any], Any] = getattr(callers[caller], method)
            before = loop.run_until_complete(_snapshot(staff))
            try:
                loop.run_until_complete(invoke(request))
            except grpc.aio.AioRpcError as error:
                code = error.code()
                seen.setdefault(method, set()).add(code.name)
                assert code not in FORBIDDEN, f"{method} by {caller}: {code.name} {error.details()}"
                if code == grpc.StatusCode.INVALID_ARGUMENT:
                    assert len(field_violations(error)) == 1, error.details()
                if method in WRITES or method == "SubmitReviewSuggestion":
                    assert loop.run_until_complete(_snapshot(staff)) == before, f"refused {method} changed data"
            else:
                seen.setdefault(method, set()).add("OK")

        call()
        # Every method was called, and the calls reached past validation to the rules.
        assert set(seen) == set(strategies)
        assert sum(bool(codes - {"INVALID_ARGUMENT"}) for codes in seen.values()) >= len(strategies) - 2, seen
        assert {"OK", "PERMISSION_DENIED", "NOT_FOUND", "FAILED_PRECONDITION"} <= set().union(*seen.values()), seen
    finally:
        loop.run_until_complete(system.stop())
        asyncio.set_event_loop(None)
        loop.close()
