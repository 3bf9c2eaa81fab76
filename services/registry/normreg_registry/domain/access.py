"""Who may see and do what. A document a caller may not see does not exist for that caller."""

from __future__ import annotations

from typing import TYPE_CHECKING

from normreg_common.errors import NotFound, PermissionDenied
from normreg_common.principal import Principal, Role

from normreg_registry.domain.lifecycle import PUBLIC_STATES, OpRule, State, Transition

if TYPE_CHECKING:
    from normreg_registry.domain.model import Document, Version

DELIBERATION_STATES = frozenset({State.AWAITING_DELIBERATION, State.ADOPTED})


def can_see_version(principal: Principal, doc: Document, version: Version) -> bool:
    if version.state in PUBLIC_STATES:
        return True
    if principal.has(Role.REGISTRAR):
        return True
    if Role.DRAFTER in principal.roles and principal.org and principal.org == doc.drafting_org:
        return True
    if Role.REVIEWER in principal.roles and version.review_round > 0:
        return True
    return Role.SECRETARY in principal.roles and (version.state in DELIBERATION_STATES or version.deliberated)


def visible_versions(principal: Principal, doc: Document) -> list[Version]:
    return [v for v in doc.versions if can_see_version(principal, doc, v)]


def require_visible(principal: Principal, doc: Document) -> None:
    if not visible_versions(principal, doc):
        raise NotFound(doc.name)


def is_own_org(principal: Principal, doc: Document) -> bool:
    return bool(principal.org) and principal.org == doc.drafting_org


def authorize(principal: Principal, doc: Document, rule: Transition | OpRule, what: str) -> None:
    """NOT_FOUND when the caller cannot see the document, PERMISSION_DENIED when it sees it but may not act."""
    require_visible(principal, doc)
    if Role.ADMIN in principal.roles:
        return
    if not principal.roles.intersection(rule.roles):
        needed = ", ".join(sorted(r.value for r in rule.roles)) or "the system"
        raise PermissionDenied("ROLE_NOT_ALLOWED", f"{what} needs the role {needed}")
    if rule.own_org and not (Role.DRAFTER not in rule.roles or is_own_org(principal, doc)):
        raise PermissionDenied(
            "NOT_OWN_ORGANISATION", f"{what}: only the drafting organisation of {doc.name} may do this"
        )


def authorize_role(principal: Principal, rule: OpRule, what: str) -> None:
    if Role.ADMIN in principal.roles:
        return
    if not principal.roles.intersection(rule.roles):
        needed = ", ".join(sorted(r.value for r in rule.roles))
        raise PermissionDenied("ROLE_NOT_ALLOWED", f"{what} needs the role {needed}")
