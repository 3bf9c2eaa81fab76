"""The lifecycle of domain.md on the pure aggregate: every path and every gate, by name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from normreg_common.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from normreg_common.principal import REVIEW_SERVICE, SCHEDULER, Role
from normreg_common.profile import JurisdictionProfile
from normreg_registry.domain.lifecycle import TERMINAL, TRANSITIONS, Kind, Procedure, State
from normreg_registry.domain.model import Document
from normreg_registry.domain.numbers import UniformNumber

from tests.conftest import SHANGHAI, principal

PROFILE = JurisdictionProfile()
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday
DRAFTER = principal("alice", Role.DRAFTER, org="市司法局")
OTHER_DRAFTER = principal("bob", Role.DRAFTER, org="市教育局")
REVIEWER = principal("rita", Role.REVIEWER, org="司法局")
SECRETARY = principal("sam", Role.SECRETARY, org="政府办")
REGISTRAR = principal("reg", Role.REGISTRAR, org="政府办")
EVALUATOR = principal("eve", Role.EVALUATOR, org="第三方")
ADMIN = principal("root", Role.ADMIN)


def at(days: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def new_doc(
    kind: Kind = Kind.NORMATIVE_DOCUMENT, provisional: bool = False, created: dt.datetime | None = None
) -> Document:
    return Document.create(
        id="doc1",
        kind=kind,
        title="赤峰市行政规范性文件管理办法",
        body="第一条 为了规范行政规范性文件管理，制定本办法。\n第二条 本办法自发布之日起施行。",
        issuing_body="赤峰市人民政府",
        number_prefix="赤政规",
        provisional=provisional,
        principal=DRAFTER,
        at=created or at(),
    )


def approve(doc: Document, when: dt.datetime) -> None:
    v = doc.latest
    assert doc.apply_review_decision(
        "APPROVE", version=v.number, review_round=v.review_round, reviewer=REVIEW_SERVICE, review="r", at=when
    )


def to_adopted(doc: Document) -> Document:
    doc.submit_for_review(DRAFTER, at(1))
    approve(doc, at(2))
    if doc.kind == Kind.MAJOR_DECISION:
        for p in Procedure:
            doc.record_procedure(DRAFTER, at(2), p, "done")
    doc.deliberate(SECRETARY, at(3), PROFILE, adopt=True, meeting="第1次常务会议", meeting_date=at(3).date(), reason="")
    return doc


def promulgate(doc: Document, when: dt.datetime, seq: int = 1, **kw: object) -> None:
    doc.promulgate(
        REGISTRAR,
        when,
        PROFILE,
        number=UniformNumber("赤政规", when.year, seq),
        registration_number="CFDR-2026-0001",
        promulgation_date=when.date(),
        effective_date=kw.get("effective_date"),  # type: ignore[arg-type]
        early_effect_reason=str(kw.get("early_effect_reason", "")),
        validity_years=int(kw.get("validity_years", 0)),  # type: ignore[call-overload]
    )


def in_force_doc() -> Document:
    doc = to_adopted(new_doc())
    promulgate(doc, at(4))
    doc.run_clock(SCHEDULER, at(4 + 30), PROFILE)
    assert doc.latest.state == State.IN_FORCE
    return doc


def test_the_lifecycle_table_names_every_state_as_reachable() -> None:
    targets = {t.target for t in TRANSITIONS.values()} | {State.DRAFTING}
    assert targets == set(State)


def test_no_step_leads_out_of_a_terminal_state() -> None:
    leaving = {action for action, rule in TRANSITIONS.items() if rule.sources & TERMINAL}
    assert leaving == set()


def test_happy_path_from_draft_to_in_force_records_every_step() -> None:
    doc = in_force_doc()
    actions = [c.action for c in doc.pop_changes()]
    assert actions == [
        "created",
        "review_requested",
        "review_approved",
        "adopted",
        "promulgated",
        "entered_into_force",
    ]
    assert [c.sequence for c in doc.changes] == []
    assert doc.sequence == 6


def test_cannot_deliberate_before_legality_review_passes() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    # The government office is told the rule (it belongs to the same government), and so is an
    # administrator: not "not found", not the state, but that legality review has not approved it.
    for caller in (SECRETARY, ADMIN):
        with pytest.raises(FailedPrecondition) as err:
            doc.deliberate(caller, at(2), PROFILE, adopt=True, meeting="m", meeting_date=at(2).date(), reason="")
        assert err.value.reason == "LEGALITY_REVIEW_NOT_APPROVED"
        assert err.value.metadata["situation"] == "IN_REVIEW"
    assert doc.latest.state == State.LEGALITY_REVIEW


def test_deliberation_refuses_a_version_whose_approval_is_for_another_revision() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    approve(doc, at(2))
    # Internal corruption of the invariant must still be caught by the gate itself.
    doc.latest.revision += 1
    with pytest.raises(FailedPrecondition) as err:
        doc.deliberate(SECRETARY, at(3), PROFILE, adopt=True, meeting="m", meeting_date=at(3).date(), reason="")
    assert err.value.reason == "LEGALITY_REVIEW_NOT_APPROVED"
    assert "不得提交讨论" not in err.value.message  # message in plain words, reason stable
    assert doc.latest.state == State.AWAITING_DELIBERATION


def test_a_later_edit_voids_the_legality_approval() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    approve(doc, at(2))
    doc.deliberate(SECRETARY, at(3), PROFILE, adopt=False, meeting="m", meeting_date=at(3).date(), reason="more work")
    assert doc.latest.state == State.DRAFTING
    doc.update_draft(DRAFTER, at(4), title=None, body="第一条 新的文本。", etag=doc.etag)
    assert doc.latest.approved_revision == 0
    doc.submit_for_review(DRAFTER, at(5))
    assert doc.latest.state == State.LEGALITY_REVIEW


def test_a_meeting_dated_after_today_is_refused_and_changes_nothing() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    approve(doc, at(2))
    with pytest.raises(InvalidArgument) as err:
        doc.deliberate(SECRETARY, at(3), PROFILE, adopt=True, meeting="m", meeting_date=at(4).date(), reason="")
    assert err.value.field == "meeting_date"
    assert doc.latest.state == State.AWAITING_DELIBERATION


def test_a_meeting_is_compared_with_the_local_day_of_the_legality_decision() -> None:
    """Approved at 01:00 in Shanghai (17:00 UTC the day before): a meeting dated the UTC day is a
    meeting before the approval."""
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    # The service's clock gives UTC instants.
    decided = dt.datetime(2026, 3, 4, 17, 0, tzinfo=dt.UTC)
    approve(doc, decided)
    utc_day = decided.date()
    assert decided.astimezone(SHANGHAI).date() == dt.date(2026, 3, 5)
    with pytest.raises(FailedPrecondition) as err:
        doc.deliberate(SECRETARY, at(4), PROFILE, adopt=True, meeting="m", meeting_date=utc_day, reason="")
    assert err.value.reason == "DATE_BEFORE_PREVIOUS_STEP"
    doc.deliberate(SECRETARY, at(4), PROFILE, adopt=True, meeting="m", meeting_date=dt.date(2026, 3, 5), reason="")
    assert doc.latest.state == State.ADOPTED


def test_a_stale_review_decision_for_an_earlier_round_is_ignored() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    first_round = doc.latest.review_round
    assert doc.apply_review_decision(
        "RETURN_FOR_REVISION", version=1, review_round=first_round, reviewer=REVIEW_SERVICE, review="r1", at=at(2)
    )
    doc.update_draft(DRAFTER, at(3), title=None, body="第一条 改过的文本。", etag=doc.etag)
    doc.submit_for_review(DRAFTER, at(4))
    # A late duplicate "approve" of round 1 must not approve round 2's text.
    applied = doc.apply_review_decision(
        "APPROVE", version=1, review_round=first_round, reviewer=REVIEW_SERVICE, review="r1", at=at(5)
    )
    assert not applied
    assert doc.latest.state == State.LEGALITY_REVIEW
    assert doc.latest.approved_revision == 0


def test_rejection_in_legality_review_is_terminal_for_the_version() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    doc.apply_review_decision("REJECT", version=1, review_round=1, reviewer=REVIEW_SERVICE, review="r", at=at(2))
    assert doc.latest.state == State.REJECTED
    with pytest.raises(FailedPrecondition):
        doc.submit_for_review(DRAFTER, at(3))
    with pytest.raises(FailedPrecondition):
        doc.withdraw(DRAFTER, at(3), "no")


def test_major_decision_needs_all_five_procedures_before_deliberation() -> None:
    doc = new_doc(Kind.MAJOR_DECISION)
    doc.record_procedure(DRAFTER, at(0), Procedure.EXPERT_ARGUMENTATION, "专家论证会")
    doc.submit_for_review(DRAFTER, at(1))
    approve(doc, at(2))
    with pytest.raises(FailedPrecondition) as err:
        doc.deliberate(SECRETARY, at(3), PROFILE, adopt=True, meeting="m", meeting_date=at(3).date(), reason="")
    assert err.value.reason == "MAJOR_DECISION_PROCEDURES_MISSING"
    assert "public participation" in err.value.message and "risk assessment" in err.value.message
    assert err.value.metadata["missing"] == "PUBLIC_PARTICIPATION,RISK_ASSESSMENT"
    assert doc.latest.state == State.AWAITING_DELIBERATION
    doc.record_procedure(DRAFTER, at(3), Procedure.PUBLIC_PARTICIPATION, "听证会")
    doc.record_procedure(DRAFTER, at(3), Procedure.RISK_ASSESSMENT, "风险评估报告")
    doc.deliberate(SECRETARY, at(4), PROFILE, adopt=True, meeting="m", meeting_date=at(4).date(), reason="")
    assert doc.latest.state == State.ADOPTED


def test_a_completed_comment_period_counts_as_public_participation() -> None:
    doc = new_doc(Kind.MAJOR_DECISION)
    start = at(0).date()
    doc.open_comment(DRAFTER, at(0), PROFILE, start, start + dt.timedelta(days=13))
    doc.close_comment(SCHEDULER, at(15), PROFILE)
    assert Procedure.PUBLIC_PARTICIPATION in doc.latest.procedures


def test_rule_comment_period_shorter_than_30_days_is_refused() -> None:
    doc = new_doc(Kind.GOVERNMENT_RULE)
    start = at(0).date()
    with pytest.raises(FailedPrecondition) as err:
        doc.open_comment(DRAFTER, at(0), PROFILE, start, start + dt.timedelta(days=28))
    assert err.value.reason == "COMMENT_PERIOD_TOO_SHORT"
    assert doc.latest.state == State.DRAFTING
    doc.open_comment(DRAFTER, at(0), PROFILE, start, start + dt.timedelta(days=29))  # 30 days inclusive
    assert doc.latest.state == State.PUBLIC_COMMENT


def test_normative_document_comment_period_counts_working_days() -> None:
    doc = new_doc()
    monday = at(0).date()
    # Monday..Tuesday next week = 7 working days; Monday..Monday = 6.
    with pytest.raises(FailedPrecondition) as err:
        doc.open_comment(DRAFTER, at(0), PROFILE, monday, monday + dt.timedelta(days=7))
    assert err.value.reason == "COMMENT_PERIOD_TOO_SHORT"
    doc.open_comment(DRAFTER, at(0), PROFILE, monday, monday + dt.timedelta(days=8))
    assert doc.latest.state == State.PUBLIC_COMMENT


def test_public_holidays_are_not_working_days_and_adjusted_weekends_are() -> None:
    """National Day 2024: 1-7 October off, Sunday 29 September and Saturday 12 October worked (调休).
    A normative document's seven working days from 1 October end on 10 October, not 9."""
    doc = new_doc(created=dt.datetime(2024, 9, 20, 9, tzinfo=SHANGHAI))
    when = dt.datetime(2024, 9, 27, 9, tzinfo=SHANGHAI)
    with pytest.raises(FailedPrecondition) as err:
        doc.open_comment(DRAFTER, when, PROFILE, dt.date(2024, 10, 1), dt.date(2024, 10, 9))
    assert err.value.reason == "COMMENT_PERIOD_TOO_SHORT"
    calendar = PROFILE.calendar
    assert calendar.working_days_between(dt.date(2024, 10, 1), dt.date(2024, 10, 9)) == 2
    assert calendar.is_working_day(dt.date(2024, 9, 29)) and calendar.is_working_day(dt.date(2024, 10, 12))
    assert calendar.add_working_days(dt.date(2024, 9, 30), 7) == dt.date(2024, 10, 15)
    # From 2 October, seven working days: 8, 9, 10, 11, 12 (a Saturday worked), 14, 15 October.
    doc.open_comment(DRAFTER, when, PROFILE, dt.date(2024, 10, 2), dt.date(2024, 10, 15))
    assert doc.latest.state == State.PUBLIC_COMMENT


def test_comments_cannot_arrive_outside_the_window() -> None:
    doc = new_doc()
    start = at(2).date()
    doc.open_comment(DRAFTER, at(0), PROFILE, start, start + dt.timedelta(days=10))
    with pytest.raises(FailedPrecondition) as err:
        doc.check_comment_allowed(at(1), PROFILE)
    assert err.value.reason == "OUTSIDE_COMMENT_WINDOW"
    doc.check_comment_allowed(at(2), PROFILE)
    doc.check_comment_allowed(at(12), PROFILE)
    with pytest.raises(FailedPrecondition):
        doc.check_comment_allowed(at(13), PROFILE)


def test_a_comment_period_cannot_be_closed_early() -> None:
    doc = new_doc()
    start = at(0).date()
    doc.open_comment(DRAFTER, at(0), PROFILE, start, start + dt.timedelta(days=10))
    with pytest.raises(FailedPrecondition) as err:
        doc.close_comment(DRAFTER, at(5), PROFILE)
    assert err.value.reason == "COMMENT_PERIOD_NOT_OVER"
    doc.close_comment(DRAFTER, at(11), PROFILE)
    assert doc.latest.state == State.DRAFTING


def test_the_scheduler_closes_an_ended_comment_period() -> None:
    doc = new_doc()
    start = at(0).date()
    doc.open_comment(DRAFTER, at(0), PROFILE, start, start + dt.timedelta(days=10))
    assert not doc.run_clock(SCHEDULER, at(10), PROFILE)
    assert doc.run_clock(SCHEDULER, at(11), PROFILE)
    assert doc.latest.state == State.DRAFTING


def test_effective_date_defaults_to_30_days_after_promulgation() -> None:
    doc = to_adopted(new_doc())
    promulgate(doc, at(4))
    p = doc.latest.promulgation
    assert p is not None and p.effective_date == at(34).date()
    doc.run_clock(SCHEDULER, at(33), PROFILE)
    assert doc.latest.state == State.PROMULGATED
    doc.run_clock(SCHEDULER, at(34), PROFILE)
    assert doc.latest.state == State.IN_FORCE


def test_an_earlier_effective_date_needs_a_recorded_reason() -> None:
    doc = to_adopted(new_doc())
    with pytest.raises(FailedPrecondition) as err:
        promulgate(doc, at(4), effective_date=at(10).date())
    assert err.value.reason == "EARLY_EFFECT_REASON_REQUIRED"
    assert doc.latest.state == State.ADOPTED
    promulgate(doc, at(4), effective_date=at(10).date(), early_effect_reason="疫情防控急需")
    assert doc.latest.promulgation is not None
    assert doc.latest.promulgation.early_effect_reason == "疫情防控急需"


def test_cannot_promulgate_before_adoption() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    approve(doc, at(2))
    with pytest.raises(FailedPrecondition) as err:
        promulgate(doc, at(3))
    assert err.value.reason == "INVALID_STATE_TRANSITION"


def test_normative_document_validity_defaults_to_five_years_and_expires_by_itself() -> None:
    doc = in_force_doc()
    p = doc.latest.promulgation
    assert p is not None and p.validity_end is not None
    assert p.validity_end == dt.date(2031, 4, 4)  # effective 2026-04-05, five years less a day
    doc.run_clock(SCHEDULER, dt.datetime(2031, 4, 4, 12, tzinfo=SHANGHAI), PROFILE)
    assert doc.latest.state == State.IN_FORCE
    doc.run_clock(SCHEDULER, dt.datetime(2031, 4, 5, 0, 1, tzinfo=SHANGHAI), PROFILE)
    assert doc.latest.state == State.EXPIRED


def test_an_evaluation_becomes_due_six_months_before_the_validity_ends() -> None:
    doc = in_force_doc()
    doc.pop_changes()
    doc.run_clock(SCHEDULER, dt.datetime(2030, 10, 3, 12, tzinfo=SHANGHAI), PROFILE)
    assert "evaluation_due" not in [c.action for c in doc.pop_changes()]
    doc.run_clock(SCHEDULER, dt.datetime(2030, 10, 4, 12, tzinfo=SHANGHAI), PROFILE)
    assert [c.action for c in doc.pop_changes()] == ["evaluation_due"]
    doc.run_clock(SCHEDULER, dt.datetime(2030, 10, 5, 12, tzinfo=SHANGHAI), PROFILE)
    assert doc.pop_changes() == []


def test_provisional_documents_are_valid_for_at_most_two_years() -> None:
    doc = to_adopted(new_doc(provisional=True))
    with pytest.raises(FailedPrecondition) as err:
        promulgate(doc, at(4), validity_years=3)
    assert err.value.reason == "VALIDITY_TOO_LONG"
    promulgate(doc, at(4))
    p = doc.latest.promulgation
    assert p is not None and p.validity_end == dt.date(2028, 4, 4)


@pytest.mark.parametrize("title", ["赤峰市城市绿化管理暂行办法", "赤峰市网络预约出租汽车管理试行规定"])
def test_a_title_that_says_provisional_makes_the_document_provisional(title: str) -> None:
    """暂行/试行: two years at most (domain.md), whatever flag the draft was created with."""
    doc = new_doc()
    assert not doc.provisional
    doc.update_draft(DRAFTER, at(0), title=title, body=None, etag=doc.etag)
    to_adopted(doc)
    with pytest.raises(FailedPrecondition) as err:
        promulgate(doc, at(4), validity_years=3)
    assert err.value.reason == "VALIDITY_TOO_LONG" and "provisional" in err.value.message
    promulgate(doc, at(4))
    p = doc.latest.promulgation
    assert p is not None and p.validity_end == dt.date(2028, 4, 4)


def test_validity_longer_than_five_years_is_refused() -> None:
    doc = to_adopted(new_doc())
    with pytest.raises(FailedPrecondition) as err:
        promulgate(doc, at(4), validity_years=6)
    assert err.value.reason == "VALIDITY_TOO_LONG"


def test_amendment_takes_effect_and_the_old_version_becomes_amended() -> None:
    doc = in_force_doc()
    doc.start_amendment(DRAFTER, at(40), None)
    assert doc.latest.number == 2 and doc.latest.state == State.DRAFTING
    with pytest.raises(FailedPrecondition) as err:
        doc.start_amendment(DRAFTER, at(40), None)
    assert err.value.reason == "AMENDMENT_IN_PROGRESS"
    doc.update_draft(DRAFTER, at(41), title=None, body="第一条 修改后的文本。", etag=doc.etag)
    to_adopted(doc)
    promulgate(doc, at(50), seq=2)
    doc.run_clock(SCHEDULER, at(80), PROFILE)
    assert [v.state for v in doc.versions] == [State.AMENDED, State.IN_FORCE]
    assert doc.versions[0].amended_by == 2 and doc.versions[1].amends == 1


def test_only_documents_in_force_can_be_repealed() -> None:
    doc = to_adopted(new_doc())
    with pytest.raises(FailedPrecondition) as err:
        doc.repeal(REGISTRAR, at(5), "obsolete", today=at(5).date())
    assert err.value.reason == "INVALID_STATE_TRANSITION"


def test_repeal_needs_a_reason() -> None:
    doc = in_force_doc()
    with pytest.raises(InvalidArgument) as err:
        doc.repeal(REGISTRAR, at(40), "  ", today=at(40).date())
    assert err.value.field == "reason"


def test_declare_invalid_and_repeal_end_the_version_in_force() -> None:
    doc = in_force_doc()
    doc.declare_invalid(REGISTRAR, at(40), "上位法废止", at(40).date())
    assert doc.latest.state == State.DECLARED_INVALID
    doc = in_force_doc()
    doc.repeal(REGISTRAR, at(40), "不再适用", today=at(40).date())
    assert doc.latest.state == State.REPEALED
    assert doc.latest.timeline[-1].event == "repealed"


def _with_amendment_promulgated() -> Document:
    doc = in_force_doc()
    doc.start_amendment(DRAFTER, at(40), None)
    doc.update_draft(DRAFTER, at(41), title=None, body="第一条 修改后的文本。", etag=doc.etag)
    to_adopted(doc)
    promulgate(doc, at(50), seq=2)
    assert [v.state for v in doc.versions] == [State.IN_FORCE, State.PROMULGATED]
    return doc


@pytest.mark.parametrize(
    ("end", "state"),
    [
        (lambda d: d.repeal(REGISTRAR, at(55), "不再适用", today=at(55).date()), State.REPEALED),
        (lambda d: d.declare_invalid(REGISTRAR, at(55), "上位法废止", at(55).date()), State.DECLARED_INVALID),
    ],
)
def test_a_document_ended_takes_its_promulgated_amendment_with_it_and_never_returns_into_force(
    end: Callable[[Document], None], state: State
) -> None:
    """Ending the version in force alone left the amendment pending: the scheduler brought it into
    force on its effective date, and the repealed document was in force again without a decision."""
    doc = _with_amendment_promulgated()
    end(doc)
    assert [v.state for v in doc.versions] == [state, state]
    assert doc.versions[1].timeline[-1].event == state.value.lower()
    doc.run_clock(SCHEDULER, at(200), PROFILE)
    assert [v.state for v in doc.versions] == [state, state]
    assert doc.in_force_version() is None


def test_a_document_repealed_withdraws_its_amendment_still_being_drafted() -> None:
    doc = in_force_doc()
    doc.start_amendment(DRAFTER, at(40), None)
    doc.repeal(REGISTRAR, at(45), "不再适用", today=at(45).date())
    assert [v.state for v in doc.versions] == [State.REPEALED, State.WITHDRAWN]
    assert "repealing" in doc.versions[1].state_reason and "不再适用" in doc.versions[1].state_reason
    with pytest.raises(FailedPrecondition):
        to_adopted(doc)


def test_a_document_promulgated_may_be_repealed_before_it_takes_effect() -> None:
    doc = to_adopted(new_doc())
    promulgate(doc, at(4))
    doc.repeal(REGISTRAR, at(10), "未施行即废止", today=at(10).date())
    doc.run_clock(SCHEDULER, at(60), PROFILE)
    assert doc.latest.state == State.REPEALED


@pytest.mark.parametrize("stage", ["drafting", "comment", "review", "deliberation", "adopted"])
def test_withdraw_is_allowed_from_every_pre_promulgation_state(stage: str) -> None:
    doc = new_doc()
    if stage == "comment":
        doc.open_comment(DRAFTER, at(0), PROFILE, at(0).date(), at(20).date())
    if stage in ("review", "deliberation", "adopted"):
        doc.submit_for_review(DRAFTER, at(1))
    if stage in ("deliberation", "adopted"):
        approve(doc, at(2))
    if stage == "adopted":
        doc.deliberate(SECRETARY, at(3), PROFILE, adopt=True, meeting="m", meeting_date=at(3).date(), reason="")
    doc.withdraw(DRAFTER, at(4), "no longer needed")
    assert doc.latest.state == State.WITHDRAWN


def test_cannot_withdraw_after_promulgation() -> None:
    doc = to_adopted(new_doc())
    promulgate(doc, at(4))
    with pytest.raises(FailedPrecondition):
        doc.withdraw(DRAFTER, at(5), "too late")


def test_only_drafts_can_be_edited_and_a_stale_etag_aborts() -> None:
    doc = new_doc()
    stale = doc.etag
    doc.update_draft(DRAFTER, at(1), title="新标题", body=None, etag=stale)
    with pytest.raises(Aborted):
        doc.update_draft(DRAFTER, at(1), title="又一个标题", body=None, etag=stale)
    assert doc.latest.title == "新标题"
    doc.submit_for_review(DRAFTER, at(2))
    with pytest.raises(FailedPrecondition) as err:
        doc.update_draft(DRAFTER, at(3), title="x", body=None, etag=doc.etag)
    assert err.value.reason == "NOT_EDITABLE"


def test_another_organisations_draft_does_not_exist_for_a_drafter() -> None:
    doc = new_doc()
    with pytest.raises(NotFound):
        doc.update_draft(OTHER_DRAFTER, at(1), title="x", body=None, etag=doc.etag)
    with pytest.raises(NotFound):
        doc.submit_for_review(OTHER_DRAFTER, at(1))


def test_roles_other_than_the_allowed_one_are_denied() -> None:
    doc = new_doc()
    doc.submit_for_review(DRAFTER, at(1))
    approve(doc, at(2))
    with pytest.raises(PermissionDenied) as err:
        doc.deliberate(REVIEWER, at(3), PROFILE, adopt=True, meeting="m", meeting_date=at(3).date(), reason="")
    assert err.value.reason == "ROLE_NOT_ALLOWED"
    with pytest.raises(PermissionDenied):
        doc.deliberate(DRAFTER, at(3), PROFILE, adopt=True, meeting="m", meeting_date=at(3).date(), reason="")


def test_a_version_repealed_before_it_was_filed_still_owes_its_filing_and_may_make_it() -> None:
    """The duty to file arises at promulgation and nothing in the law ends it. The registry refused
    the filing of a repealed version while both sides' reports counted it required and the
    recipient listed it as 漏报: an obligation that could never be met. It is now filed as any
    other, late or on time by the same deadline."""
    doc = in_force_doc()
    doc.repeal(REGISTRAR, at(40), "obsolete", today=at(40).date())
    v = doc.record_filing(
        REGISTRAR, at(41), PROFILE, version=None, filed_date=at(41).date(), recipient="自治区政府", materials={}
    )
    filing = v.obligation("自治区政府").filing  # type: ignore[union-attr]
    assert v.state == State.REPEALED and filing is not None and filing.filed_date == at(41).date()


def test_filing_is_due_within_30_days_and_judged_on_time_or_late() -> None:
    doc = to_adopted(new_doc())
    promulgate(doc, at(4))
    v = doc.record_filing(
        REGISTRAR, at(40), PROFILE, version=None, filed_date=at(35).date(), recipient="自治区政府", materials={}
    )
    filing = v.latest_filing
    assert filing is not None and filing.recipient == "自治区政府"
    assert filing.due_date == at(34).date()
    assert not filing.on_time
    assert not filing.complete


def test_a_filing_overdue_is_flagged_once_by_the_scheduler() -> None:
    doc = to_adopted(new_doc())
    promulgate(doc, at(4))
    doc.pop_changes()
    doc.run_clock(SCHEDULER, at(34), PROFILE)
    assert "filing_overdue" not in [c.action for c in doc.pop_changes()]
    doc.run_clock(SCHEDULER, at(35), PROFILE)
    assert "filing_overdue" in [c.action for c in doc.pop_changes()]
    doc.run_clock(SCHEDULER, at(36), PROFILE)
    assert doc.pop_changes() == []


def test_a_revoked_filing_ends_the_document() -> None:
    doc = in_force_doc()
    doc.record_filing(
        REGISTRAR, at(35), PROFILE, version=None, filed_date=at(10).date(), recipient="自治区政府", materials={}
    )
    doc.record_filing_review(REGISTRAR, at(40), version=None, outcome="REVOKED", note="违反上位法", today=at(40).date())
    assert doc.latest.state == State.DECLARED_INVALID


def test_evaluations_are_of_documents_in_force_and_link_to_their_outcome() -> None:
    doc = new_doc()
    # The evaluator cannot see a draft: it does not exist for it.
    with pytest.raises(NotFound):
        doc.record_evaluation(EVALUATOR, at(1), evaluator="x", method="m", findings="f", conclusion="AMEND")
    doc = in_force_doc()
    doc.repeal(REGISTRAR, at(40), "obsolete", today=at(40).date())
    with pytest.raises(FailedPrecondition) as err:
        doc.record_evaluation(EVALUATOR, at(41), evaluator="x", method="m", findings="f", conclusion="AMEND")
    assert err.value.reason == "NOT_IN_FORCE"
    doc = in_force_doc()
    e = doc.record_evaluation(EVALUATOR, at(40), evaluator="某大学", method="问卷", findings="f", conclusion="REPEAL")
    doc.repeal(REGISTRAR, at(41), "评估建议废止", evaluation=e.id, today=at(41).date())
    assert doc.evaluations[0].led_to.endswith("#repealed")


def test_only_registered_kinds_are_drafted_here_and_national_laws_are_imported() -> None:
    with pytest.raises(FailedPrecondition) as err:
        Document.create(
            id="x",
            kind=Kind.NATIONAL_LAW,
            title="t",
            body="b",
            issuing_body="全国人大",
            number_prefix="",
            provisional=False,
            principal=DRAFTER,
            at=at(),
        )
    assert err.value.reason == "KIND_IMPORT_ONLY"


def test_the_public_sees_drafts_only_while_open_for_comment() -> None:
    from normreg_common.principal import PUBLIC
    from normreg_registry.domain.access import visible_versions

    doc = new_doc()
    assert visible_versions(PUBLIC, doc) == []
    doc.open_comment(DRAFTER, at(0), PROFILE, at(0).date(), at(20).date())
    assert visible_versions(PUBLIC, doc) == doc.versions
    doc.close_comment(DRAFTER, at(21), PROFILE)
    assert visible_versions(PUBLIC, doc) == []


def test_an_evaluation_made_years_before_the_window_is_not_the_one_due_before_expiry() -> None:
    """The evaluation due in the six months before a normative document's validity ends: a mid-term
    one made long before does not answer it, one made in the window does, and then nothing is flagged."""
    doc = in_force_doc()
    end = doc.latest.promulgation.validity_end  # type: ignore[union-attr]
    assert end is not None
    early = dt.datetime(2027, 6, 1, 10, tzinfo=SHANGHAI)
    doc.record_evaluation(EVALUATOR, early, evaluator="第三方", method="问卷", findings="运行良好", conclusion="RETAIN")
    window = dt.datetime.combine(end - dt.timedelta(days=150), dt.time(10), tzinfo=SHANGHAI)
    assert doc.evaluation_due(window.date(), PROFILE) is not None
    doc.run_clock(SCHEDULER, window, PROFILE)
    assert doc.latest.evaluation_due_flagged
    other = in_force_doc()
    other.record_evaluation(
        EVALUATOR, window, evaluator="第三方", method="问卷", findings="运行良好", conclusion="RETAIN"
    )
    assert other.evaluation_due(window.date(), PROFILE) is None
    other.pop_changes()
    other.run_clock(SCHEDULER, window, PROFILE)
    assert not other.latest.evaluation_due_flagged
    assert "evaluation_due" not in [c.action for c in other.pop_changes()]
    assert other.next_clock_day(PROFILE) != window.date()
