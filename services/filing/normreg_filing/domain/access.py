"""Who may see what of the recipient's data. The recipient's filing reviewers see everything; the
sender's people (a registrar or drafter of the issuing body) see their own filings as the sender
sees them, without the reviewers' notes; nobody else sees a filing, and nobody but the reviewers
sees who asked for a review."""

from __future__ import annotations

import dataclasses
import datetime as dt

from normreg_common.errors import NotFound, PermissionDenied
from normreg_common.principal import Principal, Role

from normreg_filing.domain.lifecycle import FilingState
from normreg_filing.domain.received import REVIEWERS, ReceivedFiling

SENDER_ROLES = frozenset({Role.REGISTRAR, Role.DRAFTER})


def is_reviewer(principal: Principal) -> bool:
    return bool(principal.roles & REVIEWERS)


def is_sender_person(principal: Principal) -> bool:
    return bool(principal.org) and bool(principal.roles & SENDER_ROLES)


def check_may_list(principal: Principal) -> None:
    if not (is_reviewer(principal) or is_sender_person(principal)):
        raise PermissionDenied(
            "ROLE_NOT_ALLOWED",
            "received filings are read by the recipient's filing reviewers, and by the issuing body's registrar",
        )


def visible(principal: Principal, f: ReceivedFiling) -> bool:
    return is_reviewer(principal) or (is_sender_person(principal) and principal.org == f.issuing_body)


def view(principal: Principal, f: ReceivedFiling) -> ReceivedFiling:
    """`f` as `principal` may see it, or NOT_FOUND when it is another body's filing."""
    check_may_list(principal)
    if not visible(principal, f):
        raise NotFound(f.name)
    if is_reviewer(principal):
        return f
    return dataclasses.replace(f, internal_notes=[], changes=[])


def awaited_due(f: ReceivedFiling) -> dt.date | None:
    """The deadline of the step the filing waits for: the sender's completion or correction, or the
    recipient's own review."""
    if f.state == FilingState.MATERIALS_REQUESTED:
        return f.completion_due
    if f.state == FilingState.CORRECTION_REQUIRED:
        return f.correction_due
    if f.state == FilingState.REGISTERED:
        return f.review_due
    return None


def overdue(f: ReceivedFiling, today: dt.date) -> bool:
    due = awaited_due(f)
    return due is not None and today > due


def etag(f: ReceivedFiling) -> str:
    """Changes with every recorded change of the filing (its sequence), so a stale decision is caught."""
    return f"{f.id}-{f.sequence}"
