"""Who may do what at the recipient: every FilingReviewService RPC × every kind of caller, through gRPC.

The expected table is written out by hand from filing-review.md, independently of the code: the
recipient's filing reviewers (and admin) act; the sender's people (a registrar or drafter of the
issuing body) read their own filings and nothing else; anyone may submit a review suggestion.
OK = allowed, NF = NOT_FOUND (another body's filing: not even its existence), PD = PERMISSION_DENIED.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from normreg.v1 import filing_review_service_pb2 as pb

from tests.filing.support import CITY_GOVERNMENT, deliver, filed, reviewer, start_province
from tests.harness import Stub, System

CALLERS = {
    "reviewer": ("wu", ("reviewer",), "内蒙古自治区司法厅"),
    "admin": ("root", ("admin",), ""),
    "sender_registrar": ("zhao", ("registrar",), CITY_GOVERNMENT),
    "sender_drafter": ("qian", ("drafter",), CITY_GOVERNMENT),
    "other_registrar": ("sun", ("registrar",), "乌海市人民政府"),
    "secretary": ("sam", ("secretary",), "内蒙古自治区人民政府办公厅"),
    "evaluator": ("eve", ("evaluator",), "某大学"),
    "public": None,
}
OK, NF, PD = "OK", grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED


def row(*codes: Any) -> dict[str, Any]:
    assert len(codes) == len(CALLERS)
    return dict(zip(CALLERS, codes, strict=True))


#                   reviewer admin sender_reg sender_dr other_reg secretary evaluator public
REVIEWERS_ONLY = row(OK, OK, PD, PD, PD, PD, PD, PD)
MATRIX: dict[str, dict[str, Any]] = {
    "ListReceivedFilings": row(OK, OK, OK, OK, OK, PD, PD, PD),
    "GetReceivedFiling": row(OK, OK, OK, OK, NF, PD, PD, PD),
    "RegisterReceivedFiling": REVIEWERS_ONLY,
    "DecideFilingReview": REVIEWERS_ONLY,
    "RecordCorrectionResponse": REVIEWERS_ONLY,
    "SubmitReviewSuggestion": row(OK, OK, OK, OK, OK, OK, OK, OK),
    "ListReviewSuggestions": REVIEWERS_ONLY,
    "ReplyToReviewSuggestion": REVIEWERS_ONLY,
    "GetSubordinateFilingReport": REVIEWERS_ONLY,
    "ListMissingFilings": REVIEWERS_ONLY,
    "VerifyReceivedFilings": REVIEWERS_ONLY,
}
_ids = itertools.count()


async def _prepared(system: System, method: str) -> pb.SubmitReviewSuggestionRequest | Any:
    """A fresh filing (or suggestion) in the state the method acts on, and the request for it."""
    staff = reviewer(system)
    await deliver(system, filed(f"doc{next(_ids)}"))
    listed = await staff.ListReceivedFilings(pb.ListReceivedFilingsRequest(state=pb.RECEIVED_FILING_STATE_RECEIVED))
    name = listed.received_filings[-1].name
    if method in ("DecideFilingReview", "RecordCorrectionResponse"):
        await staff.RegisterReceivedFiling(pb.RegisterReceivedFilingRequest(name=name))
    if method == "RecordCorrectionResponse":
        await staff.DecideFilingReview(
            pb.DecideFilingReviewRequest(
                name=name,
                outcome=pb.FILING_REVIEW_OUTCOME_CORRECTION_REQUIRED,
                reasons="超出权限",
                provisions=["第三条"],
            )
        )
    suggestion = pb.ReviewSuggestion(document="documents/doc0", sender="chifeng", reasons="抵触", contact="a@b.cn")
    requests: dict[str, Callable[[], Any]] = {
        "ListReceivedFilings": lambda: pb.ListReceivedFilingsRequest(),
        "GetReceivedFiling": lambda: pb.GetReceivedFilingRequest(name=name),
        "RegisterReceivedFiling": lambda: pb.RegisterReceivedFilingRequest(name=name),
        "DecideFilingReview": lambda: pb.DecideFilingReviewRequest(
            name=name, outcome=pb.FILING_REVIEW_OUTCOME_ACCEPTED
        ),
        "RecordCorrectionResponse": lambda: pb.RecordCorrectionResponseRequest(name=name, response="已修改"),
        "SubmitReviewSuggestion": lambda: pb.SubmitReviewSuggestionRequest(review_suggestion=suggestion),
        "ListReviewSuggestions": lambda: pb.ListReviewSuggestionsRequest(),
        "GetSubordinateFilingReport": lambda: pb.GetSubordinateFilingReportRequest(year=2026),
        "ListMissingFilings": lambda: pb.ListMissingFilingsRequest(),
        "VerifyReceivedFilings": lambda: pb.VerifyReceivedFilingsRequest(),
    }
    if method == "ReplyToReviewSuggestion":
        submitted = await staff.SubmitReviewSuggestion(pb.SubmitReviewSuggestionRequest(review_suggestion=suggestion))
        return pb.ReplyToReviewSuggestionRequest(name=submitted.name, reply="已研究")
    return requests[method]()


def _stub(system: System, caller: str) -> Stub:
    identity = CALLERS[caller]
    if identity is None:
        return system.stub("filing")
    subject, roles, org = identity
    return system.stub("filing", system.token(subject, *roles, org=org))


async def test_every_rpc_against_every_caller(tmp_path: Path) -> None:
    system = await start_province(tmp_path)
    try:
        assert set(MATRIX) == set(pb.DESCRIPTOR.services_by_name["FilingReviewService"].methods_by_name)
        mismatches = []
        for method, expected in MATRIX.items():
            for caller, outcome in expected.items():
                request = await _prepared(system, method)
                call: Callable[[Any], Awaitable[Any]] = getattr(_stub(system, caller), method)
                try:
                    await call(request)
                    got: Any = OK
                except grpc.aio.AioRpcError as error:
                    got = error.code()
                if got != outcome:
                    mismatches.append(f"{method} by {caller}: expected {outcome}, got {got}")
        assert mismatches == [], "\n".join(mismatches)
    finally:
        await system.stop()


@pytest.mark.parametrize("caller", ["sender_registrar", "sender_drafter"])
async def test_the_senders_people_see_only_their_own_bodys_filings_and_never_the_notes(
    tmp_path: Path, caller: str
) -> None:
    system = await start_province(tmp_path)
    try:
        staff = reviewer(system)
        await deliver(system, filed("mine"))
        [f] = (await staff.ListReceivedFilings(pb.ListReceivedFilingsRequest())).received_filings
        await staff.RegisterReceivedFiling(pb.RegisterReceivedFilingRequest(name=f.name, note="仅供内部"))
        await staff.DecideFilingReview(
            pb.DecideFilingReviewRequest(
                name=f.name,
                outcome=pb.FILING_REVIEW_OUTCOME_CORRECTION_REQUIRED,
                reasons="超出权限",
                provisions=["第三条"],
                note="再议",
            )
        )
        seen = await _stub(system, caller).GetReceivedFiling(pb.GetReceivedFilingRequest(name=f.name))
        # What the sender is told: the outcome, reasons, provisions and deadline; never the notes.
        assert (seen.reasons, list(seen.provisions), seen.correction_due.day) == ("超出权限", ["第三条"], 13)
        assert list(seen.internal_notes) == []
        listed = await _stub(system, caller).ListReceivedFilings(pb.ListReceivedFilingsRequest())
        assert [list(x.internal_notes) for x in listed.received_filings] == [[]]
    finally:
        await system.stop()
