"""The lifecycle of one version of a document, as data: (action) -> allowed sources, target, who.

Read this table to know what the registry allows; everything else enforces it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from normreg_common.errors import FailedPrecondition
from normreg_common.filing_materials import FILED_KINDS
from normreg_common.principal import Role


class State(enum.StrEnum):
    DRAFTING = "DRAFTING"
    PUBLIC_COMMENT = "PUBLIC_COMMENT"
    LEGALITY_REVIEW = "LEGALITY_REVIEW"
    AWAITING_DELIBERATION = "AWAITING_DELIBERATION"
    ADOPTED = "ADOPTED"
    PROMULGATED = "PROMULGATED"
    IN_FORCE = "IN_FORCE"
    AMENDED = "AMENDED"
    REPEALED = "REPEALED"
    DECLARED_INVALID = "DECLARED_INVALID"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"


class Kind(enum.StrEnum):
    NATIONAL_LAW = "NATIONAL_LAW"
    ADMINISTRATIVE_REGULATION = "ADMINISTRATIVE_REGULATION"
    LOCAL_REGULATION = "LOCAL_REGULATION"
    GOVERNMENT_RULE = "GOVERNMENT_RULE"
    NORMATIVE_DOCUMENT = "NORMATIVE_DOCUMENT"
    MAJOR_DECISION = "MAJOR_DECISION"


class Procedure(enum.StrEnum):
    PUBLIC_PARTICIPATION = "PUBLIC_PARTICIPATION"
    EXPERT_ARGUMENTATION = "EXPERT_ARGUMENTATION"
    RISK_ASSESSMENT = "RISK_ASSESSMENT"


class Action(enum.StrEnum):
    OPEN_COMMENT = "comment_opened"
    CLOSE_COMMENT = "comment_closed"
    SUBMIT = "review_requested"
    APPROVE = "review_approved"
    RETURN = "review_returned"
    REJECT = "review_rejected"
    ADOPT = "adopted"
    SEND_BACK = "sent_back"
    PROMULGATE = "promulgated"
    ENTER_INTO_FORCE = "entered_into_force"
    SUPERSEDE = "amended"
    REPEAL = "repealed"
    DECLARE_INVALID = "declared_invalid"
    EXPIRE = "expired"
    WITHDRAW = "withdrawn"


class Actor(enum.Enum):
    """Who may take a transition: people with a role, or the system itself."""

    PEOPLE = "people"
    SCHEDULER = "scheduler"
    REVIEW = "review"


PRE_PROMULGATION = frozenset(
    {State.DRAFTING, State.PUBLIC_COMMENT, State.LEGALITY_REVIEW, State.AWAITING_DELIBERATION, State.ADOPTED}
)
PROMULGATED_STATES = frozenset(
    {State.PROMULGATED, State.IN_FORCE, State.AMENDED, State.REPEALED, State.DECLARED_INVALID, State.EXPIRED}
)
# Versions the public may read; drafts open for comment are public while open.
PUBLIC_STATES = PROMULGATED_STATES | {State.PUBLIC_COMMENT}
TERMINAL = frozenset(
    {State.AMENDED, State.REPEALED, State.DECLARED_INVALID, State.EXPIRED, State.REJECTED, State.WITHDRAWN}
)
RULE_KINDS = frozenset({Kind.LOCAL_REGULATION, Kind.GOVERNMENT_RULE})
# Kinds registered only as already promulgated (存量 import), never drafted here.
IMPORT_ONLY_KINDS = frozenset({Kind.NATIONAL_LAW, Kind.ADMINISTRATIVE_REGULATION})
# Kinds that must be filed with the superior body after promulgation.
FILING_KINDS = frozenset(Kind(k) for k in FILED_KINDS)
MAJOR_DECISION_PROCEDURES = (
    Procedure.PUBLIC_PARTICIPATION,
    Procedure.EXPERT_ARGUMENTATION,
    Procedure.RISK_ASSESSMENT,
)


@dataclass(frozen=True)
class Transition:
    sources: frozenset[State]
    target: State
    # Who takes the step: people (with one of `roles`), the registry's clock, the review service.
    actors: frozenset[Actor]
    roles: frozenset[Role] = frozenset()
    # Drafting actions are limited to the drafting organisation.
    own_org: bool = False


def _t(
    sources: set[State] | frozenset[State],
    target: State,
    actors: Actor | set[Actor] = Actor.PEOPLE,
    roles: set[Role] | None = None,
    own_org: bool = False,
) -> Transition:
    kinds = frozenset({actors} if isinstance(actors, Actor) else actors)
    return Transition(frozenset(sources), target, kinds, frozenset(roles or set()), own_org)


S = State
TRANSITIONS: dict[Action, Transition] = {
    Action.OPEN_COMMENT: _t({S.DRAFTING}, S.PUBLIC_COMMENT, roles={Role.DRAFTER}, own_org=True),
    # The drafting office closes a window that has ended; the clock closes it the day after otherwise.
    Action.CLOSE_COMMENT: _t(
        {S.PUBLIC_COMMENT}, S.DRAFTING, {Actor.PEOPLE, Actor.SCHEDULER}, roles={Role.DRAFTER}, own_org=True
    ),
    Action.SUBMIT: _t({S.DRAFTING}, S.LEGALITY_REVIEW, roles={Role.DRAFTER}, own_org=True),
    Action.APPROVE: _t({S.LEGALITY_REVIEW}, S.AWAITING_DELIBERATION, Actor.REVIEW),
    Action.RETURN: _t({S.LEGALITY_REVIEW}, S.DRAFTING, Actor.REVIEW),
    Action.REJECT: _t({S.LEGALITY_REVIEW}, S.REJECTED, Actor.REVIEW),
    Action.ADOPT: _t({S.AWAITING_DELIBERATION}, S.ADOPTED, roles={Role.SECRETARY}),
    Action.SEND_BACK: _t({S.AWAITING_DELIBERATION}, S.DRAFTING, roles={Role.SECRETARY}),
    Action.PROMULGATE: _t({S.ADOPTED}, S.PROMULGATED, roles={Role.REGISTRAR}),
    Action.ENTER_INTO_FORCE: _t({S.PROMULGATED}, S.IN_FORCE, Actor.SCHEDULER),
    Action.SUPERSEDE: _t({S.IN_FORCE}, S.AMENDED, Actor.SCHEDULER),
    # From PROMULGATED too: a document repealed before it took effect never does, and neither does an
    # amendment promulgated and pending when its document is repealed.
    Action.REPEAL: _t({S.IN_FORCE, S.PROMULGATED}, S.REPEALED, roles={Role.REGISTRAR}),
    # From PROMULGATED too: a document revoked by its filing authority before it took effect never does.
    Action.DECLARE_INVALID: _t({S.IN_FORCE, S.PROMULGATED}, S.DECLARED_INVALID, roles={Role.REGISTRAR}),
    Action.EXPIRE: _t({S.IN_FORCE}, S.EXPIRED, Actor.SCHEDULER),
    Action.WITHDRAW: _t(PRE_PROMULGATION, S.WITHDRAWN, roles={Role.DRAFTER}, own_org=True),
}


# How people name each step, for messages.
PHRASES: dict[Action, str] = {
    Action.OPEN_COMMENT: "opening public comment",
    Action.CLOSE_COMMENT: "closing public comment",
    Action.SUBMIT: "submitting for legality review",
    Action.APPROVE: "approving in legality review",
    Action.RETURN: "returning for revision",
    Action.REJECT: "rejecting in legality review",
    Action.ADOPT: "adopting at deliberation",
    Action.SEND_BACK: "sending back from deliberation",
    Action.PROMULGATE: "promulgating",
    Action.ENTER_INTO_FORCE: "bringing into force",
    Action.SUPERSEDE: "marking as amended",
    Action.REPEAL: "repealing",
    Action.DECLARE_INVALID: "declaring invalid",
    Action.EXPIRE: "expiring",
    Action.WITHDRAW: "withdrawing",
}

PROCEDURE_NAMES: dict[Procedure, str] = {
    Procedure.PUBLIC_PARTICIPATION: "public participation (公众参与)",
    Procedure.EXPERT_ARGUMENTATION: "expert argumentation (专家论证)",
    Procedure.RISK_ASSESSMENT: "risk assessment (风险评估)",
}


def check_transition(action: Action, source: State, resource: str) -> State:
    """The target state, or FAILED_PRECONDITION naming the rule."""
    rule = TRANSITIONS[action]
    if source not in rule.sources:
        allowed = ", ".join(sorted(rule.sources))
        raise FailedPrecondition(
            "INVALID_STATE_TRANSITION",
            f"{PHRASES[action]} is not possible for {resource}: it is {source}, "
            f"and this step is allowed only from {allowed}",
            resource=resource,
            state=source.value,
        )
    return rule.target
