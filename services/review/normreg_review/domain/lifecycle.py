"""The lifecycle of a review task as data: (state, action) -> next state, and why a step is refused.

Read these tables to know what a review allows; the aggregate enforces them.
"""

from __future__ import annotations

import enum

from normreg_common.errors import FailedPrecondition


class ReviewState(enum.StrEnum):
    OPEN = "OPEN"
    CLAIMED = "CLAIMED"
    DECIDED = "DECIDED"
    # The draft was withdrawn, or submitted again, before a decision.
    CANCELLED = "CANCELLED"


class Decision(enum.StrEnum):
    APPROVE = "APPROVE"
    RETURN_FOR_REVISION = "RETURN_FOR_REVISION"
    REJECT = "REJECT"


class Action(enum.StrEnum):
    """Also the suffix of the event type: normreg.review.v1.{action}."""

    CREATE = "created"
    CLAIM = "claimed"
    DECIDE = "decided"
    CANCEL = "cancelled"


S = ReviewState
A = Action

TRANSITIONS: dict[tuple[ReviewState, Action], ReviewState] = {
    (S.OPEN, A.CLAIM): S.CLAIMED,
    (S.CLAIMED, A.DECIDE): S.DECIDED,
    (S.OPEN, A.CANCEL): S.CANCELLED,
    (S.CLAIMED, A.CANCEL): S.CANCELLED,
}

# Why a step is refused; the reasons are the ErrorInfo.reason clients switch on.
REFUSED_IN_STATE: dict[ReviewState, str] = {
    S.DECIDED: "REVIEW_ALREADY_DECIDED",
    S.CANCELLED: "REVIEW_CANCELLED",
}
REFUSED: dict[tuple[ReviewState, Action], str] = {
    # A claim by the assignee itself is a no-op, so reaching this means someone else holds it.
    (S.CLAIMED, A.CLAIM): "REVIEW_CLAIMED_BY_OTHER",
    (S.OPEN, A.DECIDE): "REVIEW_NOT_CLAIMED",
}

ACTIVE = frozenset({S.OPEN, S.CLAIMED})

# The rule each reason stands for, as the person refused reads it.
RULES: dict[str, str] = {
    "REVIEW_ALREADY_DECIDED": "a legality review is decided once; a new revision submitted opens a new review",
    "REVIEW_CANCELLED": "the draft was withdrawn or submitted again, which ended this review",
    "REVIEW_CLAIMED_BY_OTHER": "one reviewer works a review at a time: another reviewer has claimed it",
    "REVIEW_NOT_CLAIMED": "a review is decided by the reviewer who claimed it: claim it first",
    "INVALID_REVIEW_TRANSITION": "a review is claimed, then decided, while it is open",
}

# A decision that sends the draft back or stops it must say why.
OPINION_REQUIRED = frozenset({Decision.RETURN_FOR_REVISION, Decision.REJECT})


def check_transition(state: ReviewState, action: Action, resource: str) -> ReviewState:
    """The target state, or FAILED_PRECONDITION with the reason from the tables above."""
    target = TRANSITIONS.get((state, action))
    if target is not None:
        return target
    reason = REFUSED_IN_STATE.get(state) or REFUSED.get((state, action), "INVALID_REVIEW_TRANSITION")
    raise FailedPrecondition(
        reason,
        f"{resource} is {state}, so it cannot be {action.value}: {RULES[reason]}",
        resource=resource,
        state=state.value,
    )
