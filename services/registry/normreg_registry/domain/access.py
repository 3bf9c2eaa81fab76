"""Who may see and do what. A document a caller may not see does not exist for that caller.

Every access rule of the registry lives here: who sees which version, which fields and which history
entries, and the role × action table. The roles of a transition come from its row of the lifecycle
table (`lifecycle.TRANSITIONS`); operations that change no state have their row in `OPERATIONS`
below; `rule_for` reads both, so a check never names roles of its own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from normreg_common.errors import NotFound, PermissionDenied
from normreg_common.principal import Channel, Principal, Role, SystemActor, is_system

from normreg_registry.domain.lifecycle import PHRASES, PUBLIC_STATES, TRANSITIONS, Action, Actor, State, Transition

if TYPE_CHECKING:
    from normreg_registry.domain.aggregate import DocumentState as Document
    from normreg_registry.domain.versions import Version


class Op(enum.StrEnum):
    """Operations that are not state transitions."""

    CREATE = "create"
    UPDATE_DRAFT = "update_draft"
    RECORD_PROCEDURE = "record_procedure"
    REPLY_TO_COMMENT = "reply_to_comment"
    LIST_COMMENTS = "list_comments"
    START_AMENDMENT = "start_amendment"
    RECORD_FILING = "record_filing"
    RECORD_FILING_REVIEW = "record_filing_review"
    RECORD_EVALUATION = "record_evaluation"
    LIST_EVALUATIONS = "list_evaluations"
    LIST_DUE_EVALUATIONS = "list_due_evaluations"
    IMPORT = "import"
    CLEANUP = "cleanup"
    READ_HISTORY = "read_history"
    VERIFY_HISTORY = "verify_history"
    REPORTS = "reports"


@dataclass(frozen=True)
class OpRule:
    roles: frozenset[Role]
    # Only the drafting organisation (for drafters; other listed roles act on any document).
    own_org: bool = False


def _roles(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


D, RV, SE, RG, EV = Role.DRAFTER, Role.REVIEWER, Role.SECRETARY, Role.REGISTRAR, Role.EVALUATOR

# The role × operation table (admin may do everything a role may; transitions: lifecycle.TRANSITIONS).
OPERATIONS: dict[Op, OpRule] = {
    Op.CREATE: OpRule(_roles(D), own_org=True),
    Op.UPDATE_DRAFT: OpRule(_roles(D), own_org=True),
    Op.RECORD_PROCEDURE: OpRule(_roles(D), own_org=True),
    Op.REPLY_TO_COMMENT: OpRule(_roles(D), own_org=True),
    Op.LIST_COMMENTS: OpRule(_roles(D, RV, SE, RG), own_org=True),
    Op.START_AMENDMENT: OpRule(_roles(D), own_org=True),
    Op.RECORD_FILING: OpRule(_roles(RG)),
    Op.RECORD_FILING_REVIEW: OpRule(_roles(RG)),
    Op.RECORD_EVALUATION: OpRule(_roles(EV)),
    Op.LIST_EVALUATIONS: OpRule(_roles(D, SE, RG, EV)),
    Op.LIST_DUE_EVALUATIONS: OpRule(_roles(RG, EV)),
    Op.IMPORT: OpRule(_roles(RG)),
    Op.CLEANUP: OpRule(_roles(RG)),
    Op.READ_HISTORY: OpRule(_roles(D, RV, SE, RG, EV), own_org=True),
    Op.VERIFY_HISTORY: OpRule(_roles(RG)),
    Op.REPORTS: OpRule(_roles(RG)),
}

# Roles that see the internal side of every document (who drafted it, procedures, revisions); a
# drafter sees it of its own organisation's documents.
INTERNAL_READERS = (RG, SE, RV)

DELIBERATION_STATES = frozenset({State.AWAITING_DELIBERATION, State.ADOPTED})


def rule_for(what: Action | Op) -> Transition | OpRule:
    return TRANSITIONS[what] if isinstance(what, Action) else OPERATIONS[what]


def role_table() -> dict[str, dict[str, bool]]:
    """The whole role × action table, as people read it: {action: {role: allowed}}."""
    table: dict[str, dict[str, bool]] = {}
    rules: list[tuple[str, Transition | OpRule]] = [(a.value, r) for a, r in TRANSITIONS.items()]
    rules += [(o.value, r) for o, r in OPERATIONS.items()]
    for what, rule in rules:
        table[what] = {r.value: r in rule.roles or r is Role.ADMIN for r in Role}
    return table


# ---- visibility -------------------------------------------------------------------------------


def can_see_version(principal: Principal, doc: Document, version: Version) -> bool:
    if version.state in PUBLIC_STATES and _public_yet(doc, version):
        return True
    if principal.has(Role.REGISTRAR):
        return True
    if is_own_org(principal, doc) and Role.DRAFTER in principal.roles:
        return True
    if Role.REVIEWER in principal.roles and version.review_round > 0:
        return True
    return Role.SECRETARY in principal.roles and (version.state in DELIBERATION_STATES or version.deliberated)


def _public_yet(doc: Document, version: Version) -> bool:
    """A draft is public from the first day of its comment window, not from when it was announced."""
    window = version.comment_window
    if version.state != State.PUBLIC_COMMENT or window is None or doc.read_on is None:
        return True
    return window.start <= doc.read_on


def visible_versions(principal: Principal, doc: Document) -> list[Version]:
    return [v for v in doc.versions if can_see_version(principal, doc, v)]


def require_visible(principal: Principal, doc: Document) -> None:
    if isinstance(principal, SystemActor):
        return
    if not visible_versions(principal, doc):
        raise NotFound(doc.name)


def is_own_org(principal: Principal, doc: Document) -> bool:
    return bool(principal.org) and principal.org == doc.drafting_org


def sees_internal(principal: Principal, doc: Document) -> bool:
    """Whether the caller sees the internal side of the document: who drafted it, procedures, revisions."""
    if principal.is_public or principal.roles == frozenset({EV}):
        return False
    return principal.has(*INTERNAL_READERS) or is_own_org(principal, doc)


def authorize_drafting_org_filter(principal: Principal, drafting_org: str) -> None:
    """A listing filtered by who drafted: only for callers who see that field (a drafter, of its own
    organisation) — otherwise the filter itself would tell who drafted what."""
    if not drafting_org or principal.has(*INTERNAL_READERS):
        return
    if Role.DRAFTER in principal.roles and principal.org == drafting_org:
        return
    raise PermissionDenied(
        "HIDDEN_FIELD_FILTER", "drafting_org is not visible to this caller, so it cannot filter by it"
    )


def history_versions(principal: Principal, doc: Document) -> set[int]:
    """The versions whose history entries the caller may read: those it may see."""
    return {v.number for v in visible_versions(principal, doc)}


def etag_for(principal: Principal, doc: Document) -> str:
    """The etag of what the caller sees: a change to a version hidden from it does not move it."""
    visible = visible_versions(principal, doc)
    if len(visible) == len(doc.versions):
        return doc.etag
    return f"s{max((v.last_change for v in visible), default=0)}"


# ---- acting -----------------------------------------------------------------------------------


def authorize(principal: Principal, doc: Document, rule: Transition | OpRule, what: str) -> None:
    """NOT_FOUND when the caller cannot see the document, PERMISSION_DENIED when it sees it but may not act."""
    require_visible(principal, doc)
    _authorize_roles(principal, rule, what)
    drafting_only = rule.own_org and Role.DRAFTER in rule.roles and not _acts_for_any_org(principal, rule)
    if drafting_only and not is_own_org(principal, doc):
        raise PermissionDenied(
            "NOT_OWN_ORGANISATION", f"{what}: only the drafting organisation of {doc.name} may do this"
        )


def _acts_for_any_org(principal: Principal, rule: Transition | OpRule) -> bool:
    """A role of the rule other than drafter acts on any organisation's document (admin too)."""
    return Role.ADMIN in principal.roles or bool(principal.roles & (rule.roles - {Role.DRAFTER}))


def _authorize_roles(principal: Principal, rule: Transition | OpRule, what: str) -> None:
    if Role.ADMIN in principal.roles:
        return
    if not principal.roles.intersection(rule.roles):
        needed = ", ".join(sorted(r.value for r in rule.roles)) or "the system"
        raise PermissionDenied("ROLE_NOT_ALLOWED", f"{what} needs the role {needed}")


def authorize_role(principal: Principal, rule: OpRule, what: str) -> None:
    if isinstance(principal, SystemActor):
        raise PermissionDenied("ROLE_NOT_ALLOWED", f"{what} is done by people, not by {principal}")
    _authorize_roles(principal, rule, what)


def authorize_op(principal: Principal, doc: Document, op: Op, what: str) -> None:
    if isinstance(principal, SystemActor):
        raise PermissionDenied("ROLE_NOT_ALLOWED", f"{what} is done by people, not by {principal}")
    authorize(principal, doc, OPERATIONS[op], what)


def takes_part_in(principal: Principal, action: Action) -> bool:
    """Whether the caller is one of the people the action's row names (by role), visible or not."""
    rule = TRANSITIONS[action]
    if isinstance(principal, SystemActor) or Actor.PEOPLE not in rule.actors:
        return False
    return Role.ADMIN in principal.roles or bool(principal.roles & rule.roles)


def require_clock(principal: Principal, resource: str) -> None:
    if not is_system(principal, Channel.CLOCK):
        raise PermissionDenied(
            "ACTOR_NOT_ALLOWED", f"the clock's steps on {resource} are the registry's own, not {principal}'s"
        )


_CHANNELS = {Actor.SCHEDULER: Channel.CLOCK, Actor.REVIEW: Channel.REVIEW}


def authorize_transition(principal: Principal, doc: Document, action: Action) -> None:
    """The actor column, then the roles column, of the action's row of the lifecycle table."""
    rule = TRANSITIONS[action]
    for kind, channel in _CHANNELS.items():
        if kind in rule.actors and is_system(principal, channel):
            return
    if isinstance(principal, SystemActor) or Actor.PEOPLE not in rule.actors:
        who = " or ".join(sorted(a.value for a in rule.actors))
        raise PermissionDenied(
            "ACTOR_NOT_ALLOWED", f"{PHRASES[action]} on {doc.name} is done by {who}, not by {principal}"
        )
    authorize(principal, doc, rule, PHRASES[action])
