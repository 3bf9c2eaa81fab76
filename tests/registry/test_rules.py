"""The rules of issue "the core made exact", each by its name, on the pure aggregate and over gRPC."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock
from normreg_common.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied
from normreg_common.principal import SCHEDULER, Principal, Role, review_decision_actor
from normreg_common.profile import JurisdictionProfile
from normreg_registry.adapters.memory import InMemoryUnitOfWork
from normreg_registry.application.service import RegistryService, ReviewDecision
from normreg_registry.domain.lifecycle import Kind, State
from normreg_registry.domain.model import Document, ImportedVersion
from normreg_registry.domain.numbers import UniformNumber

from tests.conftest import SHANGHAI, principal
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
    doc.deliberate(who, at(when), PROFILE, adopt=True, meeting="m", meeting_date=at(when).date(), reason="")


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
    doc.deliberate(SECRETARY, at(3), PROFILE, adopt=False, meeting="m", meeting_date=at(3).date(), reason="再议")
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


# ---- 2. numbers are never reused; 3. imported documents are whole; 6. dates keep their order -----

REGISTRAR_P = principal("reg", Role.REGISTRAR, org="政府办")
SECRETARY_P = principal("sam", Role.SECRETARY, org="政府办")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def registry() -> tuple[RegistryService, FakeClock]:
    clock = FakeClock(T0)
    ids = iter(f"d{i}" for i in range(1, 1000))
    return RegistryService(InMemoryUnitOfWork(), clock, JurisdictionProfile(), new_id=lambda: next(ids)), clock


async def adopted(svc: RegistryService, body: str = "赤峰市审计局", prefix: str = "赤审规") -> str:
    doc = await svc.create_document(
        DRAFTER,
        request_id="",
        kind=Kind.NORMATIVE_DOCUMENT,
        title="办法",
        body="第一条 为了规范管理，制定本办法。",
        issuing_body=body,
        number_prefix=prefix,
        provisional=False,
    )
    await svc.submit_for_review(DRAFTER, doc.id, "")
    decision = ReviewDecision(
        "normreg.review",
        f"reviews/{doc.id}",
        1,
        doc.id,
        "APPROVE",
        1,
        1,
        review_decision_actor("rita", "司法局"),
        "r",
        T0,
    )
    await svc.apply_review_decisions("registry", [], [decision])
    await svc.record_deliberation(SECRETARY_P, doc.id, adopt=True, meeting="m", meeting_date=T0.date(), reason="")
    return doc.id


async def promulgated_number(svc: RegistryService, doc_id: str, sequence: int = 0) -> str:
    doc = await svc.promulgate(
        REGISTRAR_P,
        doc_id,
        promulgation_date=None,
        effective_date=None,
        early_effect_reason="",
        number_sequence=sequence,
        validity_years=0,
    )
    p = doc.latest.promulgation
    assert p is not None and p.number is not None
    return str(p.number)


def existing(
    number: str, day: dt.date = dt.date(2026, 1, 5), state: State = State.IN_FORCE, **kw: object
) -> ImportedVersion:
    return ImportedVersion(
        title="旧办法",
        body="第一条 旧。",
        state=state,
        promulgation_date=day,
        number=UniformNumber.parse(number) if number else None,
        **kw,  # type: ignore[arg-type]
    )


async def import_(
    svc: RegistryService, request_id: str, *versions: ImportedVersion, kind: Kind = Kind.NORMATIVE_DOCUMENT
) -> Document:
    return await svc.import_document(
        REGISTRAR_P, request_id=request_id, kind=kind, issuing_body="赤峰市审计局", versions=list(versions)
    )


async def test_imported_numbers_are_reserved_and_the_next_number_skips_them() -> None:
    svc, _ = registry()
    await import_(svc, "i1", existing("赤审规〔2026〕1号"))
    await import_(svc, "i2", existing("赤审规〔2026〕5号"))
    first = await promulgated_number(svc, await adopted(svc))
    # Every number ever held is skipped: not 1 (imported), not 2..4 (may exist outside the registry).
    assert first == "赤审规〔2026〕6号"
    with pytest.raises(AlreadyExists) as err:
        await promulgated_number(svc, await adopted(svc), sequence=1)
    assert err.value.reason == "UNIFORM_NUMBER_TAKEN"


async def test_a_duplicate_imported_number_is_already_exists_and_changes_nothing() -> None:
    svc, _ = registry()
    await import_(svc, "i1", existing("赤审规〔2026〕3号"))
    with pytest.raises(AlreadyExists) as err:
        await import_(svc, "i2", existing("赤审规[2026]3号"))  # the same number, printed with other brackets
    assert err.value.reason == "UNIFORM_NUMBER_TAKEN"
    with pytest.raises(AlreadyExists):
        await import_(svc, "i3", existing("赤审规〔2025〕1号", state=State.AMENDED), existing("赤审规〔2025〕1号"))
    listed, _ = await svc.list_documents(
        REGISTRAR_P, after="", page_size=50, state="", kind="", issuing_body="", drafting_org=""
    )
    assert len(listed) == 1


async def test_bodies_sharing_a_prefix_never_get_the_same_printed_number() -> None:
    svc, _ = registry()
    a = await promulgated_number(svc, await adopted(svc, body="赤峰市审计局"))
    b = await promulgated_number(svc, await adopted(svc, body="赤峰市审计局办公室"))
    c = await promulgated_number(svc, await adopted(svc, body="赤峰市 审计局"))
    assert len({a, b, c}) == 3


def test_a_number_prefix_with_an_invisible_character_is_refused() -> None:
    for prefix in ("赤审\u200b规", "赤审规\u202e", "赤\u3000审规"):
        with pytest.raises(ValueError):
            UniformNumber(prefix, 2026, 1)


async def test_an_imported_normative_document_gets_its_validity_period() -> None:
    svc, _ = registry()
    doc = await import_(svc, "i1", existing("赤审规〔2024〕2号", effective_date=dt.date(2024, 2, 1)))
    p = doc.latest.promulgation
    assert p is not None and p.validity_end == dt.date(2029, 1, 31)
    stated = await import_(svc, "i2", existing("", validity_end=dt.date(2027, 6, 30)))
    assert stated.latest.promulgation is not None and stated.latest.promulgation.validity_end == dt.date(2027, 6, 30)
    law = await import_(svc, "i3", existing(""), kind=Kind.NATIONAL_LAW)
    assert law.latest.promulgation is not None and law.latest.promulgation.validity_end is None


async def test_an_imported_document_whose_validity_has_ended_is_expired_by_the_import_itself() -> None:
    # No read may show, even until the scheduler's next run, a rule whose validity period ended as in force.
    svc, _ = registry()
    doc = await import_(
        svc, "i1", existing("赤审规〔2015〕3号", day=dt.date(2015, 3, 1), validity_end=dt.date(2020, 2, 28))
    )
    assert doc.latest.state == State.EXPIRED
    history = await svc.get_history(REGISTRAR_P, doc.id)
    assert [(e.action, e.reason) for e in history][:2] == [
        ("imported", history[0].reason),
        ("expired", "validity period ended on 2020-02-28"),
    ]
    stored = await svc.get_document(REGISTRAR_P, doc.id)
    assert stored.latest.state == State.EXPIRED
    # One still valid is left in force.
    valid = await import_(svc, "i2", existing("赤审规〔2024〕4号", day=dt.date(2024, 3, 1)))
    assert valid.latest.state == State.IN_FORCE


async def test_a_filing_recorded_for_an_imported_document_counts_in_its_year() -> None:
    svc, clock = registry()
    doc = await import_(svc, "i1", existing("赤审规〔2026〕1号", day=dt.date(2026, 2, 20)))
    unfiled = await import_(svc, "i2", existing("赤审规〔2026〕2号", day=dt.date(2026, 2, 21)))
    assert unfiled.latest.state == State.IN_FORCE
    rows = await svc.filing_report(REGISTRAR_P, 2026, "")
    # Not known to be required until a filing is recorded: an import does not lower the filing rate.
    assert rows == []
    await svc.record_filing(
        REGISTRAR_P,
        doc.id,
        None,
        filed_date=dt.date(2026, 3, 2),
        recipient="赤峰市人民政府",
        materials=dict.fromkeys(("text", "drafting_explanation", "legal_basis", "legality_review_opinion"), True),
    )
    (row,) = await svc.filing_report(REGISTRAR_P, 2026, "")
    assert (row.year, row.issuing_body, row.required, row.filed, row.filed_on_time) == (2026, "赤峰市审计局", 1, 1, 1)
    assert clock.now() == T0


def test_a_promulgation_dated_before_the_document_was_created_is_refused() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    approve(doc, at(2))
    adopt(doc, when=3)
    with pytest.raises(FailedPrecondition) as err:
        doc.promulgate(
            principal("reg", Role.REGISTRAR),
            at(4),
            PROFILE,
            number=UniformNumber("赤政规", 2026, 1),
            registration_number="CFDR-2026-0001",
            promulgation_date=at(-95).date(),
            effective_date=None,
            early_effect_reason="",
            validity_years=0,
        )
    assert err.value.reason == "DATE_BEFORE_PREVIOUS_STEP"
    assert "ImportDocument" in err.value.message
    assert doc.latest.state.value == "ADOPTED"


def test_a_promulgation_dated_before_the_meeting_that_adopted_it_is_refused() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    approve(doc, at(2))
    doc.deliberate(SECRETARY, at(5), PROFILE, adopt=True, meeting="m", meeting_date=at(5).date(), reason="")
    with pytest.raises(FailedPrecondition) as err:
        doc.promulgate(
            principal("reg", Role.REGISTRAR),
            at(6),
            PROFILE,
            number=UniformNumber("赤政规", 2026, 1),
            registration_number="CFDR-2026-0001",
            promulgation_date=at(4).date(),
            effective_date=None,
            early_effect_reason="",
            validity_years=0,
        )
    assert err.value.reason == "DATE_BEFORE_PREVIOUS_STEP"
    assert err.value.metadata["previous"] == at(5).date().isoformat()


def test_a_meeting_dated_before_the_legality_approval_is_refused() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    approve(doc, at(10))
    with pytest.raises(FailedPrecondition) as err:
        doc.deliberate(SECRETARY, at(11), PROFILE, adopt=True, meeting="m", meeting_date=at(9).date(), reason="")
    assert err.value.reason == "DATE_BEFORE_PREVIOUS_STEP"
    assert doc.latest.state.value == "AWAITING_DELIBERATION"


async def test_an_imported_document_says_in_its_history_it_was_promulgated_before_registration() -> None:
    svc, _ = registry()
    doc = await import_(svc, "i1", existing("赤审规〔2020〕1号", day=dt.date(2020, 5, 1)))
    rows = await svc.filing_report(REGISTRAR_P, 2020, "")
    assert rows == []
    history = await svc.get_history(REGISTRAR_P, doc.id)
    # What was due the day it landed follows, done by the clock in the import's write: its five years
    # of validity ended in 2025. Its filing is not marked overdue: whether it was filed before the
    # registry knew it is not known here.
    assert [e.action for e in history] == ["imported", "expired"]
    assert {e.actor for e in history[1:]} == {SCHEDULER.subject}


# ---- audit: hidden fields, future windows, hidden amendments -----------------------------------

PUBLIC_P = principal("", org="")
EVALUATOR_P = principal("eve", Role.EVALUATOR, org="某大学")
OTHER_P = principal("bob", Role.DRAFTER, org="市教育局")


async def list_by_org(svc: RegistryService, who: Principal, org: str) -> list[str]:
    docs, _ = await svc.list_documents(
        who, after="", page_size=50, state="", kind="", issuing_body="", drafting_org=org
    )
    return [d.id for d in docs]


async def test_filters_on_hidden_fields_are_refused_for_callers_who_cannot_see_them() -> None:
    svc, _ = registry()
    doc_id = await adopted(svc)
    await promulgated_number(svc, doc_id)
    for who in (PUBLIC_P, EVALUATOR_P, OTHER_P):
        with pytest.raises(PermissionDenied) as err:
            await list_by_org(svc, who, DRAFTER.org)
        assert err.value.reason == "HIDDEN_FIELD_FILTER"
    assert await list_by_org(svc, DRAFTER, DRAFTER.org) == [doc_id]
    assert await list_by_org(svc, REGISTRAR_P, DRAFTER.org) == [doc_id]
    # Without the filter the public still finds the promulgated document.
    assert await list_by_org(svc, PUBLIC_P, "") == [doc_id]


async def test_a_draft_announced_for_a_later_comment_window_is_not_public_yet() -> None:
    svc, clock = registry()
    doc = await svc.create_document(
        DRAFTER,
        request_id="",
        kind=Kind.NORMATIVE_DOCUMENT,
        title="办法",
        body="第一条 为了规范管理，制定本办法。",
        issuing_body="赤峰市审计局",
        number_prefix="赤审规",
        provisional=False,
    )
    start = T0.date() + dt.timedelta(days=3)
    await svc.open_public_comment(DRAFTER, doc.id, start, start + dt.timedelta(days=14))
    for who in (PUBLIC_P, OTHER_P, EVALUATOR_P):
        with pytest.raises(NotFound):
            await svc.get_document(who, doc.id)
        assert await list_by_org(svc, who, "") == []
    assert (await svc.get_document(DRAFTER, doc.id)).latest.state == State.PUBLIC_COMMENT
    clock.advance(days=3)
    assert (await svc.get_document(PUBLIC_P, doc.id)).id == doc.id
    assert await list_by_org(svc, PUBLIC_P, "") == [doc.id]


async def in_force_with_hidden_amendment(svc: RegistryService, clock: FakeClock) -> str:
    doc_id = await adopted(svc)
    await promulgated_number(svc, doc_id)
    clock.advance(days=31)
    await svc.run_scheduler()
    assert (await svc.get_document(PUBLIC_P, doc_id)).latest.state == State.IN_FORCE
    await svc.start_amendment(DRAFTER, doc_id, None, "")
    return doc_id


async def test_a_hidden_amendment_does_not_move_the_public_etag() -> None:
    from normreg_registry.domain import access

    svc, clock = registry()
    doc_id = await in_force_with_hidden_amendment(svc, clock)
    before = await svc.get_document(PUBLIC_P, doc_id)
    public_etag = access.etag_for(PUBLIC_P, before)
    drafter_etag = access.etag_for(DRAFTER, before)
    await svc.update_draft(DRAFTER, doc_id, title=None, body="第一条 修改后。", etag="")
    after = await svc.get_document(PUBLIC_P, doc_id)
    assert access.etag_for(PUBLIC_P, after) == public_etag
    assert access.etag_for(EVALUATOR_P, after) == public_etag
    assert access.etag_for(DRAFTER, after) != drafter_etag
    assert [v.number for v in access.visible_versions(PUBLIC_P, after)] == [1]


async def test_history_shows_only_entries_of_versions_the_caller_may_see() -> None:
    svc, clock = registry()
    doc_id = await in_force_with_hidden_amendment(svc, clock)
    await svc.update_draft(DRAFTER, doc_id, title=None, body="第一条 修改后。", etag="")
    for who in (EVALUATOR_P, SECRETARY_P, principal("rita", Role.REVIEWER, org="司法局")):
        entries = await svc.get_history(who, doc_id)
        assert entries and {e.version for e in entries} == {1}
        assert all(e.action not in ("amendment_started", "draft_updated") for e in entries)
    full = await svc.get_history(REGISTRAR_P, doc_id)
    assert {e.version for e in full} == {1, 2}
    assert any(e.actor == "alice" and e.version == 2 for e in full)


# ---- 4. evaluations are due, visibly ------------------------------------------------------------


async def test_evaluations_are_due_visibly_six_months_before_the_validity_ends() -> None:
    svc, clock = registry()
    doc_id = await adopted(svc)
    await promulgated_number(svc, doc_id)
    clock.advance(days=31)
    await svc.run_scheduler()
    doc = await svc.get_document(REGISTRAR_P, doc_id)
    p = doc.latest.promulgation
    assert p is not None and p.validity_end is not None
    assert await svc.due_evaluations(REGISTRAR_P) == []
    # The day the six-month window opens, the document is due, and stays due until evaluated.
    clock.set(dt.datetime.combine(p.validity_end, T0.timetz()) - dt.timedelta(days=190))
    assert await svc.due_evaluations(REGISTRAR_P) == []
    clock.advance(days=10)
    (due,) = await svc.due_evaluations(EVALUATOR_P)
    assert due.version == f"documents/{doc_id}/versions/1"
    assert due.validity_end == p.validity_end
    assert due.due_from <= clock.now().date() < p.validity_end
    with pytest.raises(PermissionDenied):
        await svc.due_evaluations(DRAFTER)
    _, evaluation = await svc.record_evaluation(
        EVALUATOR_P,
        doc_id,
        evaluator="某大学法学院",
        method="问卷调查",
        findings="部分条款已不适应",
        conclusion="AMEND",
    )
    assert await svc.due_evaluations(REGISTRAR_P) == []
    await svc.start_amendment(DRAFTER, doc_id, evaluation.id, "")
    _, listed = await svc.list_evaluations(DRAFTER, doc_id)
    assert [(e.id, e.led_to) for e in listed] == [(evaluation.id, f"documents/{doc_id}/versions/2")]
    with pytest.raises(PermissionDenied):
        await svc.list_evaluations(PUBLIC_P, doc_id)


async def test_list_evaluations_and_due_evaluations_over_grpc(system: System) -> None:
    a = Actors(system)
    doc = await create(a)
    registrar = a.registrar
    due = await registrar.ListDueEvaluations(rpb.ListDueEvaluationsRequest())
    assert list(due.evaluations) == []
    listed = await a.drafter.ListEvaluations(rpb.ListEvaluationsRequest(parent=doc.name))
    assert list(listed.evaluations) == []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.public.ListDueEvaluations(rpb.ListDueEvaluationsRequest())
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.drafter.ListEvaluations(rpb.ListEvaluationsRequest(parent="documents/No"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
