"""The lifecycle of a received filing as data: (state, action) -> next state, and why a step is refused.

登记 or a request for the missing materials (补充报送); then the review (主动审查) ends in acceptance, a
required correction (which the issuing body answers, and the review resumes) or revocation.
"""

from __future__ import annotations

import enum

from normreg_common.errors import FailedPrecondition


class FilingState(enum.StrEnum):
    RECEIVED = "RECEIVED"
    MATERIALS_REQUESTED = "MATERIALS_REQUESTED"
    REGISTERED = "REGISTERED"
    CORRECTION_REQUIRED = "CORRECTION_REQUIRED"
    ACCEPTED = "ACCEPTED"
    REVOKED = "REVOKED"


class Action(enum.StrEnum):
    """Also the suffix of the event type."""

    REGISTER = "registered"
    REQUEST_MATERIALS = "materials_requested"
    COMPLETE_MATERIALS = "materials_completed"
    ACCEPT = "accepted"
    REQUIRE_CORRECTION = "correction_required"
    REVOKE = "revoked"
    ANSWER_CORRECTION = "correction_answered"


class Outcome(enum.StrEnum):
    ACCEPTED = "ACCEPTED"
    CORRECTION_REQUIRED = "CORRECTION_REQUIRED"
    REVOKED = "REVOKED"


S = FilingState
A = Action

TRANSITIONS: dict[tuple[FilingState, Action], FilingState] = {
    (S.RECEIVED, A.REGISTER): S.REGISTERED,
    (S.RECEIVED, A.REQUEST_MATERIALS): S.MATERIALS_REQUESTED,
    (S.MATERIALS_REQUESTED, A.COMPLETE_MATERIALS): S.REGISTERED,
    (S.REGISTERED, A.ACCEPT): S.ACCEPTED,
    (S.REGISTERED, A.REQUIRE_CORRECTION): S.CORRECTION_REQUIRED,
    (S.REGISTERED, A.REVOKE): S.REVOKED,
    # The issuing body amended, repealed or explained: the review resumes on its answer.
    (S.CORRECTION_REQUIRED, A.ANSWER_CORRECTION): S.REGISTERED,
    # It did not correct: the recipient may revoke.
    (S.CORRECTION_REQUIRED, A.REVOKE): S.REVOKED,
}

DECISIONS: dict[Outcome, Action] = {
    Outcome.ACCEPTED: A.ACCEPT,
    Outcome.CORRECTION_REQUIRED: A.REQUIRE_CORRECTION,
    Outcome.REVOKED: A.REVOKE,
}

# Why a step is refused; the reasons are the ErrorInfo.reason clients switch on.
REFUSED_IN_STATE: dict[FilingState, str] = {
    S.ACCEPTED: "FILING_REVIEW_CLOSED",
    S.REVOKED: "FILING_REVIEW_CLOSED",
}
REFUSED: dict[tuple[FilingState, Action], str] = {
    (S.RECEIVED, A.ACCEPT): "FILING_NOT_REGISTERED",
    (S.RECEIVED, A.REQUIRE_CORRECTION): "FILING_NOT_REGISTERED",
    (S.RECEIVED, A.REVOKE): "FILING_NOT_REGISTERED",
    (S.MATERIALS_REQUESTED, A.ACCEPT): "FILING_MATERIALS_MISSING",
    (S.MATERIALS_REQUESTED, A.REQUIRE_CORRECTION): "FILING_MATERIALS_MISSING",
    (S.MATERIALS_REQUESTED, A.REVOKE): "FILING_MATERIALS_MISSING",
}

OPEN = frozenset({S.RECEIVED, S.MATERIALS_REQUESTED, S.REGISTERED, S.CORRECTION_REQUIRED})

# The rule each reason stands for, as the person refused reads it.
RULES: dict[str, str] = {
    "FILING_REVIEW_CLOSED": "its review has ended (accepted or revoked): nothing more is decided on it",
    "FILING_NOT_REGISTERED": "a filing is reviewed and decided only once registered (登记): register it first",
    "FILING_MATERIALS_MISSING": (
        "a filing is reviewed only once the materials asked for have arrived (补充报送); "
        "the sender completes them, or the request's deadline passes"
    ),
    "INVALID_FILING_REVIEW_TRANSITION": (
        "registration comes first, then a decision; a correction is answered only while one is required"
    ),
}


def check_transition(state: FilingState, action: Action, resource: str) -> FilingState:
    """The target state, or FAILED_PRECONDITION with the reason from the tables above."""
    target = TRANSITIONS.get((state, action))
    if target is not None:
        return target
    reason = REFUSED_IN_STATE.get(state) or REFUSED.get((state, action), "INVALID_FILING_REVIEW_TRANSITION")
    raise FailedPrecondition(
        reason,
        f"{resource} is {state}, so it cannot be {action.value}: {RULES[reason]}",
        resource=resource,
        state=state.value,
    )
