"""The registry's use cases on the in-memory unit of work: each owns its transaction, inbound review
decisions included."""

from __future__ import annotations

import datetime as dt

from normreg_common.clock import FakeClock
from normreg_common.eventlog.port import Delivery
from normreg_common.principal import Role, review_decision_actor
from normreg_common.profile import JurisdictionProfile
from normreg_registry.adapters.memory import InMemoryUnitOfWork
from normreg_registry.application.service import RegistryService, ReviewDecision
from normreg_registry.domain.lifecycle import Kind, State

from tests.conftest import SHANGHAI, principal

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
DRAFTER = principal("alice", Role.DRAFTER, org="市司法局")


def service() -> tuple[RegistryService, InMemoryUnitOfWork]:
    uow = InMemoryUnitOfWork()
    ids = iter(f"d{i}" for i in range(1, 100))
    return RegistryService(uow, FakeClock(T0), JurisdictionProfile(), new_id=lambda: next(ids)), uow


async def submitted(svc: RegistryService) -> str:
    doc = await svc.create_document(
        DRAFTER,
        request_id="",
        kind=Kind.NORMATIVE_DOCUMENT,
        title="办法",
        body="第一条 为了规范管理，制定本办法。",
        issuing_body="赤峰市人民政府",
        number_prefix="赤政规",
        provisional=False,
    )
    await svc.submit_for_review(DRAFTER, doc.id, "")
    return doc.id


def decision(doc_id: str, sequence: int, decision: str = "APPROVE", review_round: int = 1) -> ReviewDecision:
    return ReviewDecision(
        source="normreg.review",
        subject=f"reviews/{doc_id}-v1-r{review_round}",
        sequence=sequence,
        document_id=doc_id,
        decision=decision,
        version=1,
        review_round=review_round,
        reviewer=review_decision_actor("rita", "司法局"),
        review=f"reviews/{doc_id}-v1-r{review_round}",
        at=T0,
    )


async def test_review_decisions_are_applied_once_with_their_positions_in_one_unit() -> None:
    svc, uow = service()
    doc_id = await submitted(svc)
    batch = [Delivery("normreg.reviews", 0, 11, doc_id, b""), Delivery("normreg.reviews", 0, 12, doc_id, b"")]
    commits = uow.commits
    applied = await svc.apply_review_decisions("registry", batch, [decision(doc_id, 3), decision(doc_id, 3)])
    assert applied == 1
    assert uow.commits == commits + 1
    assert await uow.read(lambda s: s.position("registry", "normreg.reviews", 0)) == 12
    doc = await svc.get_document(DRAFTER, doc_id)
    assert doc.latest.state == State.AWAITING_DELIBERATION
    history = await uow.read(lambda s: s.history(f"documents/{doc_id}"))
    assert [(e.action, e.actor) for e in history][-1] == ("review_approved", "rita")


async def test_a_decision_for_an_older_round_changes_nothing_but_moves_the_position() -> None:
    svc, uow = service()
    doc_id = await submitted(svc)
    batch = [Delivery("normreg.reviews", 0, 5, doc_id, b"")]
    assert await svc.apply_review_decisions("registry", batch, [decision(doc_id, 1, review_round=7)]) == 0
    assert (await svc.get_document(DRAFTER, doc_id)).latest.state == State.LEGALITY_REVIEW
    assert await uow.read(lambda s: s.position("registry", "normreg.reviews", 0)) == 5
