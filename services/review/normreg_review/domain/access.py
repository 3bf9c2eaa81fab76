"""Who may see and do what with a review. A review the caller may not see does not exist for it.

| role                      | list           | get        | claim / decide          |
|---------------------------|----------------|------------|-------------------------|
| reviewer, admin           | all            | all        | yes, unless it drafted  |
| drafter                   | own org only   | own org    | PERMISSION_DENIED       |
| anyone else, the public   | DENIED         | NOT_FOUND  | NOT_FOUND               |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from normreg_common.errors import NotFound, PermissionDenied
from normreg_common.principal import Principal, Role

if TYPE_CHECKING:
    from normreg_review.domain.model import Review

# Roles that see every review and act on them; admin is included by Principal.has.
REVIEW_ROLES = (Role.REVIEWER,)
# Roles that read the reviews of their own organisation's drafts.
OWN_ORG_READ_ROLES = frozenset({Role.DRAFTER})


@dataclass(frozen=True)
class ListScope:
    """Which reviews a listing may return: every one, or those of one drafting organisation."""

    drafting_org: str | None


def _reads_own_org(principal: Principal) -> bool:
    return bool(principal.org) and bool(principal.roles & OWN_ORG_READ_ROLES)


def can_read(principal: Principal, review: Review) -> bool:
    if principal.has(*REVIEW_ROLES):
        return True
    return _reads_own_org(principal) and principal.org == review.drafting_org


def require_readable(principal: Principal, review: Review) -> None:
    if not can_read(principal, review):
        raise NotFound(review.name)


def list_scope(principal: Principal) -> ListScope:
    if principal.has(*REVIEW_ROLES):
        return ListScope(drafting_org=None)
    if _reads_own_org(principal):
        return ListScope(drafting_org=principal.org)
    raise PermissionDenied("ROLE_NOT_ALLOWED", "listing legality reviews needs the role reviewer or drafter")


def authorize_act(principal: Principal, review: Review, what: str) -> None:
    """NOT_FOUND when the caller cannot see the review, PERMISSION_DENIED when it sees it but may not act."""
    require_readable(principal, review)
    if not principal.has(*REVIEW_ROLES):
        raise PermissionDenied("ROLE_NOT_ALLOWED", f"{what} needs the role reviewer")
    # Nobody reviews their own text, whatever their roles, admin included.
    if principal.subject in review.drafters:
        raise PermissionDenied(
            "REVIEWER_IS_DRAFTER",
            f"{principal.subject} drafted {review.document} version {review.version_number}; "
            "someone who did not draft it must review it",
        )
