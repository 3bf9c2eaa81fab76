"""The rules of issue "the core made exact", each by its name, on the pure aggregate and over gRPC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock
from normreg_common.errors import FailedPrecondition, NotFound, PermissionDenied
from normreg_common.principal import SCHEDULER, Principal, Role
from normreg_registry.domain.model import Document

from tests.conftest import principal
from tests.harness import System
from tests.registry.test_domain_lifecycle import (
    ADMIN,
    DRAFTER,
    EVALUATOR,
    OTHER_DRAFTER,
    PROFILE,
    REVIEWER,
    SECRETARY,
    approve,
    at,
    new_doc,
)
from tests.registry.test_grpc_registry import Actors, create, decide

BODY_WORDS = "为了规范行政规范性文件管理"


def adopt(doc: Document, who: Principal = SECRETARY, when: float = 3) -> None:
    doc.deliberate(who, at(when), adopt=True, meeting="m", meeting_date=at(when).date(), reason="")


def refusal(doc: Document, who: Principal = SECRETARY) -> FailedPrecondition:
    with pytest.raises(FailedPrecondition) as err:
        adopt(doc, who)
    assert err.value.reason == "LEGALITY_REVIEW_NOT_APPROVED"
    # The draft's text is never in the answer: only its name, revision and where review stands.
    assert BODY_WORDS not in err.value.message
    return err.value


def decide_domain(doc: Document, decision: str, when: float = 2) -> None:
    v = doc.latest
    assert doc.apply_review_decision(
        decision, version=v.number, review_round=v.review_round, reviewer=_review(), review="r", at=at(when)
    )


def _review() -> Principal:
    from normreg_common.principal import REVIEW_SERVICE

    return REVIEW_SERVICE


# ---- 1. the legality gate says so ---------------------------------------------------------------


def test_government_office_is_told_legality_review_not_approved() -> None:
    doc = new_doc()
    err = refusal(doc)
    assert err.metadata["situation"] == "NEVER_SUBMITTED"
    assert "never submitted" in err.message

    doc.submit_for_review(DRAFTER, at(1))
    err = refusal(doc)
    assert err.metadata["situation"] == "IN_REVIEW"
    assert err.metadata["since"] == at(1).date().isoformat()
    assert f"in legality review since {at(1).date()}" in err.message


def test_government_office_is_told_the_draft_was_returned() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    decide_domain(doc, "RETURN_FOR_REVISION", when=2)
    err = refusal(doc)
    assert err.metadata["situation"] == "RETURNED"
    assert err.metadata["since"] == at(2).date().isoformat()


def test_government_office_is_told_the_draft_was_rejected() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    decide_domain(doc, "REJECT")
    assert refusal(doc).metadata["situation"] == "REJECTED"


def test_government_office_is_told_the_approval_was_voided_by_an_edit() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    approve(doc, at(2))
    doc.deliberate(SECRETARY, at(3), adopt=False, meeting="m", meeting_date=at(3).date(), reason="再议")
    assert refusal(doc).metadata["situation"] == "SENT_BACK"
    doc.update_draft(DRAFTER, at(4), title=None, body=doc.latest.body + "\n第三条 补充。", etag="")
    err = refusal(doc)
    assert err.metadata["situation"] == "APPROVAL_VOIDED"
    assert err.metadata["revision"] == "2"
    assert "voided by the edit of revision 2" in err.message
    assert doc.latest.state.value == "DRAFTING"


def test_the_legality_refusal_changes_nothing() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    before = (doc.sequence, doc.latest.state, list(doc.changes))
    refusal(doc, ADMIN)
    assert (doc.sequence, doc.latest.state, list(doc.changes)) == before


def test_callers_without_a_deliberation_role_still_do_not_see_the_draft() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    for caller in (OTHER_DRAFTER, EVALUATOR, principal("", org="")):
        with pytest.raises(NotFound):
            adopt(doc, caller)
    # A reviewer sees the draft under review but does not deliberate.
    with pytest.raises(PermissionDenied):
        adopt(doc, REVIEWER)


def test_an_approved_topic_is_still_deliberated() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    approve(doc, at(2))
    adopt(doc)
    assert doc.latest.state.value == "ADOPTED"


# ---- 7. system actors are typed -----------------------------------------------------------------


def test_a_token_subject_starting_with_system_is_not_the_scheduler() -> None:
    impostor = principal("system:scheduler", Role.DRAFTER, org="市司法局")
    doc = new_doc()
    doc.open_comment(DRAFTER, at(), PROFILE, at(1).date(), at(14).date())
    # Closing early is refused for it as for any drafter: the announced window stands.
    with pytest.raises(FailedPrecondition) as err:
        doc.close_comment(impostor, at(5), PROFILE)
    assert err.value.reason == "COMMENT_PERIOD_NOT_OVER"
    # Time-driven steps are the clock's alone.
    in_force = new_doc()
    in_force.submit_for_review(DRAFTER, at(1))
    with pytest.raises(PermissionDenied) as denied:
        in_force.apply_review_decision(
            "APPROVE",
            version=1,
            review_round=1,
            reviewer=principal("system:review", Role.REVIEWER),
            review="r",
            at=at(2),
        )
    assert denied.value.reason == "ACTOR_NOT_ALLOWED"
    with pytest.raises(PermissionDenied):
        doc.run_clock(impostor, at(20), PROFILE)
    assert doc.latest.state.value == "PUBLIC_COMMENT"
    assert doc.run_clock(SCHEDULER, at(20), PROFILE)
    assert doc.latest.state.value == "DRAFTING"


# ---- over gRPC: the README's example refusal ----------------------------------------------------


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock, services=("registry",))
    await s.start()
    yield s
    await s.stop()


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    raise AssertionError("no ErrorInfo")


async def test_government_office_is_told_legality_review_not_approved_over_grpc(system: System) -> None:
    a = Actors(system)
    doc = await create(a)
    doc = await a.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    request = rpb.RecordDeliberationRequest(
        name=doc.name,
        decision=rpb.DELIBERATION_DECISION_ADOPT,
        meeting="市政府第9次常务会议",
        meeting_date=day(system.clock.now().date().isoformat()),
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.secretary.RecordDeliberation(request)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(err.value)
    assert info.reason == "LEGALITY_REVIEW_NOT_APPROVED"
    assert info.metadata["situation"] == "IN_REVIEW"
    details = err.value.details() or ""
    assert details.startswith(
        f"{doc.name}/versions/1 revision 1 has no approved legality review: it is in legality review"
    )
    assert "绿化" not in details
    await decide(system, doc, "APPROVE")
    adopted = await a.secretary.RecordDeliberation(request)
    assert adopted.state != doc.state
