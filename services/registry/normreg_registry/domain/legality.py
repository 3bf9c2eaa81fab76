"""Where legality review of a version stands, in words and codes a refusal can carry (never the
draft's text): never submitted, in review since D, returned, rejected, sent back, approval voided."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from normreg_registry.domain.lifecycle import State
from normreg_registry.domain.versions import Version

# States in which a version has not (or no longer) passed legality review, and could still.
_BEFORE_APPROVAL = frozenset({State.DRAFTING, State.PUBLIC_COMMENT, State.LEGALITY_REVIEW, State.REJECTED})


@dataclass(frozen=True)
class Situation:
    code: str
    words: str
    details: dict[str, str] = field(default_factory=dict)

    @property
    def metadata(self) -> dict[str, str]:
        return {"situation": self.code, **self.details}


def approved(v: Version) -> bool:
    """An approval stands only for the revision it approved."""
    return v.approved_revision != 0 and v.approved_revision == v.revision


def awaits_review(v: Version) -> bool:
    return v.state in _BEFORE_APPROVAL or (v.state == State.AWAITING_DELIBERATION and not approved(v))


def situation(v: Version) -> Situation:
    if v.state == State.REJECTED or v.review_outcome == "REJECTED":
        day = _day(v.review_decided_at)
        return Situation("REJECTED", f"legality review rejected it{' on ' + day if day else ''}", {"since": day})
    if v.state == State.LEGALITY_REVIEW:
        day = _day(v.review_requested_at)
        return Situation("IN_REVIEW", f"it is in legality review{' since ' + day if day else ''}", {"since": day})
    if v.review_round == 0:
        return Situation("NEVER_SUBMITTED", "it was never submitted for legality review")
    if v.last_approved_revision and v.last_approved_revision != v.revision:
        voided_by = v.last_approved_revision + 1
        return Situation(
            "APPROVAL_VOIDED",
            f"the approval of revision {v.last_approved_revision} was voided by the edit of revision {voided_by}",
            {"revision": str(voided_by)},
        )
    if v.sent_back:
        return Situation("SENT_BACK", "deliberation sent it back; it must pass legality review again")
    if v.review_outcome == "RETURNED":
        day = _day(v.review_decided_at)
        return Situation(
            "RETURNED", f"legality review returned it for revision{' on ' + day if day else ''}", {"since": day}
        )
    return Situation("NOT_APPROVED", "it has no approval for this revision")


def _day(at: dt.datetime | None) -> str:
    return at.date().isoformat() if at is not None else ""
