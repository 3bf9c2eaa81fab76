"""The review aggregate and its rules, without I/O."""

from __future__ import annotations

import datetime as dt
import doctest

import pytest
from normreg_common.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from normreg_common.principal import Principal, Role
from normreg_common.profile import JurisdictionProfile, WorkingCalendar
from normreg_review.domain import access, ids
from normreg_review.domain.ids import ID_PATTERN, review_id
from normreg_review.domain.lifecycle import Action, Decision, ReviewState
from normreg_review.domain.model import Review

from tests.conftest import SHANGHAI, principal

MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
PROFILE = JurisdictionProfile()
RITA = principal("rita", Role.REVIEWER, org="司法局")
RAY = principal("ray", Role.REVIEWER, org="司法局")


def new_review(
    *, at: dt.datetime = MONDAY, profile: JurisdictionProfile = PROFILE, drafters: tuple[str, ...] = ("alice",)
) -> Review:
    return Review.request(
        document_id="doc1",
        version_number=1,
        review_round=1,
        revision=2,
        title="赤峰市校外培训机构管理办法",
        body="第一条 ……",
        drafting_org="市教育局",
        drafters=drafters,
        reviewing_office="司法局",
        requested_by="alice",
        at=at,
        profile=profile,
    )


def claimed(by: Principal = RITA) -> Review:
    review = new_review()
    review.claim(by, MONDAY)
    return review


def test_a_requested_review_is_open_and_records_its_creation() -> None:
    review = new_review()
    assert review.name == "reviews/doc1-v1-r1"
    assert review.state == ReviewState.OPEN
    assert [(c.action, c.sequence) for c in review.pop_changes()] == [(Action.CREATE, 1)]
    assert review.etag == "s1"


def test_the_review_is_due_fifteen_working_days_after_the_day_it_was_requested() -> None:
    # Monday 2 March + 15 working days, weekends not counted: Monday 23 March.
    assert new_review().due_date == dt.date(2026, 3, 23)


def test_holidays_of_the_jurisdiction_calendar_push_the_due_date_back() -> None:
    holidays = frozenset({dt.date(2026, 3, 4), dt.date(2026, 3, 5)})
    profile = JurisdictionProfile(calendar=WorkingCalendar(holidays=holidays))
    assert new_review(profile=profile).due_date == dt.date(2026, 3, 25)


def test_the_request_day_is_the_local_date_of_the_jurisdiction() -> None:
    # 17:30 UTC on Sunday 1 March is already Monday 2 March in Chifeng.
    sunday_evening_utc = dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC)
    assert new_review(at=sunday_evening_utc).due_date == dt.date(2026, 3, 23)


def test_a_review_is_overdue_only_after_its_due_date_and_while_undecided() -> None:
    review = claimed()
    assert not review.is_overdue(dt.date(2026, 3, 23))
    assert review.is_overdue(dt.date(2026, 3, 24))
    review.decide(RITA, MONDAY, decision=Decision.APPROVE, opinion="", problems=[])
    assert not review.is_overdue(dt.date(2026, 3, 24))


def test_a_reviewer_claims_then_decides_and_each_step_is_recorded() -> None:
    review = new_review()
    review.claim(RITA, MONDAY)
    later = MONDAY + dt.timedelta(days=3)
    review.decide(RITA, later, decision=Decision.RETURN_FOR_REVISION, opinion="第二条 超越权限", problems=["越权"])
    assert review.state == ReviewState.DECIDED
    assert (review.assignee, review.decision, review.decide_time) == ("rita", Decision.RETURN_FOR_REVISION, later)
    assert review.problems == ("越权",)
    assert [(c.action, c.sequence, c.actor) for c in review.pop_changes()] == [
        (Action.CREATE, 1, "alice"),
        (Action.CLAIM, 2, "rita"),
        (Action.DECIDE, 3, "rita"),
    ]


def test_claiming_again_by_the_assignee_changes_nothing() -> None:
    review = claimed()
    review.pop_changes()
    review.claim(RITA, MONDAY)
    assert review.pop_changes() == []
    assert review.etag == "s2"


def test_a_review_claimed_by_one_reviewer_cannot_be_claimed_or_decided_by_another() -> None:
    review = claimed(RITA)
    with pytest.raises(FailedPrecondition) as claim:
        review.claim(RAY, MONDAY)
    with pytest.raises(FailedPrecondition) as decide:
        review.decide(RAY, MONDAY, decision=Decision.APPROVE, opinion="", problems=[])
    assert claim.value.reason == decide.value.reason == "REVIEW_CLAIMED_BY_OTHER"
    assert review.assignee == "rita"


def test_an_unclaimed_review_cannot_be_decided() -> None:
    with pytest.raises(FailedPrecondition) as error:
        new_review().decide(RITA, MONDAY, decision=Decision.APPROVE, opinion="", problems=[])
    assert error.value.reason == "REVIEW_NOT_CLAIMED"
    # The message says the rule, not only the state.
    assert "is OPEN" in error.value.message and "claim it first" in error.value.message


def test_a_review_is_decided_only_once() -> None:
    review = claimed()
    review.decide(RITA, MONDAY, decision=Decision.APPROVE, opinion="", problems=[])
    for attempt in (
        lambda: review.decide(RITA, MONDAY, decision=Decision.REJECT, opinion="违法", problems=[]),
        lambda: review.claim(RAY, MONDAY),
        lambda: review.cancel(MONDAY, "alice", "withdrawn"),
    ):
        with pytest.raises(FailedPrecondition) as error:
            attempt()
        assert error.value.reason == "REVIEW_ALREADY_DECIDED"
    assert review.decision == Decision.APPROVE


@pytest.mark.parametrize("claim_first", [False, True])
def test_a_cancelled_review_cannot_be_claimed_or_decided(claim_first: bool) -> None:
    review = claimed() if claim_first else new_review()
    review.cancel(MONDAY, "alice", "撤回")
    assert review.state == ReviewState.CANCELLED
    with pytest.raises(FailedPrecondition) as claim:
        review.claim(RAY, MONDAY)
    with pytest.raises(FailedPrecondition) as decide:
        review.decide(RITA, MONDAY, decision=Decision.APPROVE, opinion="", problems=[])
    assert claim.value.reason == decide.value.reason == "REVIEW_CANCELLED"


@pytest.mark.parametrize("roles", [{Role.REVIEWER}, {Role.REVIEWER, Role.DRAFTER}, {Role.ADMIN}])
def test_the_drafter_of_a_version_cannot_claim_or_decide_its_review(roles: set[Role]) -> None:
    alice = principal("alice", *roles, org="市教育局")
    review = new_review()
    with pytest.raises(PermissionDenied) as claim:
        review.claim(alice, MONDAY)
    with pytest.raises(PermissionDenied) as decide:
        review.decide(alice, MONDAY, decision=Decision.APPROVE, opinion="", problems=[])
    assert claim.value.reason == decide.value.reason == "REVIEWER_IS_DRAFTER"
    assert review.state == ReviewState.OPEN


def test_every_drafter_of_the_version_is_excluded_not_only_its_author() -> None:
    review = new_review(drafters=("alice", "bob"))
    with pytest.raises(PermissionDenied, match="bob drafted"):
        review.claim(principal("bob", Role.REVIEWER), MONDAY)


@pytest.mark.parametrize("decision", [Decision.RETURN_FOR_REVISION, Decision.REJECT])
def test_returning_or_rejecting_needs_an_opinion(decision: Decision) -> None:
    review = claimed()
    with pytest.raises(InvalidArgument) as error:
        review.decide(RITA, MONDAY, decision=decision, opinion="  \n", problems=["越权"])
    assert error.value.field == "opinion"
    assert review.state == ReviewState.CLAIMED


def test_approving_needs_no_opinion_but_may_have_one() -> None:
    review = claimed()
    review.decide(RITA, MONDAY, decision=Decision.APPROVE, opinion="建议修改第三条表述", problems=[])
    assert review.opinion == "建议修改第三条表述"


def test_deciding_with_a_stale_etag_is_aborted() -> None:
    review = claimed()
    with pytest.raises(Aborted):
        review.decide(RITA, MONDAY, decision=Decision.APPROVE, opinion="", problems=[], etag="s1")
    review.decide(RITA, MONDAY, decision=Decision.APPROVE, opinion="", problems=[], etag="s2")
    assert review.state == ReviewState.DECIDED


@pytest.mark.parametrize(
    ("who", "reads", "scope", "acts"),
    [
        (principal("rita", Role.REVIEWER), True, None, None),
        (principal("root", Role.ADMIN), True, None, None),
        (principal("dan", Role.DRAFTER, org="市教育局"), True, "市教育局", "ROLE_NOT_ALLOWED"),
        (principal("olga", Role.DRAFTER, org="市交通运输局"), False, "市交通运输局", "NOT_FOUND"),
        (principal("nora", Role.DRAFTER), False, "DENIED", "NOT_FOUND"),
        (principal("sam", Role.SECRETARY, org="市教育局"), False, "DENIED", "NOT_FOUND"),
        (principal("reg", Role.REGISTRAR), False, "DENIED", "NOT_FOUND"),
        (principal("eve", Role.EVALUATOR), False, "DENIED", "NOT_FOUND"),
        (principal(""), False, "DENIED", "NOT_FOUND"),
    ],
)
def test_who_may_read_list_and_act_on_a_review(
    who: Principal, reads: bool, scope: str | None, acts: str | None
) -> None:
    review = new_review()
    assert access.can_read(who, review) is reads
    if scope == "DENIED":
        with pytest.raises(PermissionDenied):
            access.list_scope(who)
    else:
        assert access.list_scope(who).drafting_org == scope
    if acts is None:
        access.authorize_act(who, review, "acting")
    else:
        with pytest.raises(NotFound if acts == "NOT_FOUND" else PermissionDenied) as error:
            access.authorize_act(who, review, "acting")
        assert error.value.reason == acts


def test_review_ids_are_derived_from_document_version_and_round() -> None:
    assert review_id("doc1", 2, 3) == "doc1-v2-r3"
    long = "a" * 63
    assert review_id(long, 1, 1) != review_id(long, 1, 2)
    assert ID_PATTERN.match(review_id(long, 12, 345))
    assert review_id(long, 1, 1) == review_id(long, 1, 1)
    with pytest.raises(ValueError, match="not a document id"):
        review_id("Doc/1", 1, 1)


def test_the_id_module_examples_hold() -> None:
    assert doctest.testmod(ids).failed == 0
