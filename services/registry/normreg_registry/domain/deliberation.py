"""Legality review decisions (arriving from the review service) and collective deliberation."""

from __future__ import annotations

import datetime as dt

from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile

from normreg_registry.domain import access, gates, legality, request_dates
from normreg_registry.domain.aggregate import DocumentState
from normreg_registry.domain.lifecycle import MAJOR_DECISION_PROCEDURES, PROCEDURE_NAMES, Action
from normreg_registry.domain.versions import Version

DECISIONS = {"APPROVE": Action.APPROVE, "RETURN_FOR_REVISION": Action.RETURN, "REJECT": Action.REJECT}
OUTCOMES = {Action.APPROVE: "APPROVED", Action.RETURN: "RETURNED", Action.REJECT: "REJECTED"}


class Deliberation(DocumentState):
    def apply_review_decision(
        self,
        decision: str,
        *,
        version: int,
        review_round: int,
        reviewer: Principal,
        review: str,
        at: dt.datetime,
    ) -> bool:
        """Applies a decision from the review service; False when it is stale (another round, withdrawn)."""
        action = DECISIONS[decision]
        v = self.version(version)
        # Stale: another round was submitted since, or the version left review (withdrawn, say).
        if not self._can(action, v) or v.review_round != review_round:
            return False
        self._authorize_transition(reviewer, action)
        self._check(action, v)
        if action == Action.APPROVE:
            v.approved_revision = v.revision
            v.last_approved_revision = v.revision
        v.review_outcome = OUTCOMES[action]
        v.review_decided_at = at
        self._move(v, action, reviewer, at, details={"review": review, "revision": v.revision})
        if action == Action.REJECT:
            v.state_reason = "legality review rejected the draft"
        return True

    def deliberate(
        self,
        principal: Principal,
        at: dt.datetime,
        profile: JurisdictionProfile,
        *,
        adopt: bool,
        meeting: str,
        meeting_date: dt.date,
        reason: str,
    ) -> None:
        action = Action.ADOPT if adopt else Action.SEND_BACK
        v = self.latest
        # The government office belongs to the same government as the drafting office: a topic it may
        # not yet deliberate is refused with the rule and where review stands, not hidden from it.
        if adopt and access.takes_part_in(principal, action) and legality.awaits_review(v):
            self._require_legality_approval(v)
        self._authorize_transition(principal, action)
        self._check(action, v)
        # A meeting is dated on the jurisdiction's calendar, as every step it follows: not after today,
        # not before the local day of the document's creation or of the legality review decision.
        request_dates.not_in_future(meeting_date, "meeting_date", profile.local_date(at))
        decided = v.review_decided_at
        self._in_order(
            meeting_date,
            "meeting_date",
            (profile.local_date(self.created_at), "the document's creation"),
            (profile.local_date(decided) if decided else None, "the legality review decision"),
        )
        if adopt:
            self._require_legality_approval(v)
            missing = [p for p in MAJOR_DECISION_PROCEDURES if p not in v.procedures]
            gates.PROCEDURES_RECORDED.check(
                self.name,
                kind=self.kind,
                missing=",".join(p.value for p in missing),
                names=", ".join(PROCEDURE_NAMES[p] for p in missing),
            )
            v.adopted_on = meeting_date
        else:
            # Sent back for redrafting: the approval no longer stands for what comes back.
            v.approved_revision = 0
            v.sent_back = True
        v.deliberated = True
        self._move(
            v, action, principal, at, reason=reason, details={"meeting": meeting, "meeting_date": str(meeting_date)}
        )

    def _require_legality_approval(self, v: Version) -> None:
        review = legality.situation(v)
        gates.LEGALITY_REVIEW_APPROVED.check(
            self.name, v=v, version=self.version_name(v.number), words=review.words, **review.metadata
        )
