"""Filing with the superior body (备案) and the recipient's outcome: a parallel track after promulgation."""

from __future__ import annotations

import datetime as dt

from normreg_common.errors import FailedPrecondition
from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile

from normreg_registry.domain import access, deadlines, gates
from normreg_registry.domain.access import Op
from normreg_registry.domain.amendment import Amendment
from normreg_registry.domain.lifecycle import Action, State
from normreg_registry.domain.versions import Filing, Version


class Filings(Amendment):
    def record_filing(
        self,
        principal: Principal,
        at: dt.datetime,
        profile: JurisdictionProfile,
        *,
        version: int | None,
        filed_date: dt.date,
        recipient: str,
        materials: dict[str, bool],
    ) -> Version:
        access.authorize_op(principal, self, Op.RECORD_FILING, "recording a filing")
        v = self._filing_version(version)
        gates.filing_allowed(self.kind, v, self.version_name(v.number), self.name)
        assert v.promulgation is not None
        gates.filed_date(filed_date, v.promulgation.promulgation_date, profile.local_date(at))
        due = deadlines.filing_due(v.promulgation.promulgation_date, profile)
        refiling = v.filing is not None
        v.filing = Filing(filed_date, recipient, dict(materials), due)
        self._record(
            "filing_recorded",
            v.number,
            v.state,
            v.state,
            principal,
            at,
            details={
                "filed_date": str(filed_date),
                "due_date": str(due),
                "recipient": recipient,
                "materials": dict(materials),
                "complete": v.filing.complete,
                "on_time": v.filing.on_time,
                "refiling": refiling,
            },
        )
        return v

    def record_filing_review(
        self,
        principal: Principal,
        at: dt.datetime,
        *,
        version: int | None,
        outcome: str,
        note: str,
        today: dt.date,
    ) -> Version:
        access.authorize_op(principal, self, Op.RECORD_FILING_REVIEW, "recording a filing review")
        v = self._filing_version(version)
        gates.filing_review_open(v, self.version_name(v.number), self.name)
        assert v.filing is not None
        v.filing.outcome = outcome
        v.filing.outcome_note = note
        self._record(
            "filing_reviewed", v.number, v.state, v.state, principal, at, details={"outcome": outcome, "note": note}
        )
        if outcome == "REVOKED" and v.state == State.IN_FORCE:
            # The superior body revoked it: it stops having effect.
            self._end(Action.DECLARE_INVALID, principal, at, f"revoked by the filing authority: {note}", today)
        return v

    def _filing_version(self, version: int | None) -> Version:
        if version is not None:
            v = self.version(version)
            if v.promulgation is None:
                raise FailedPrecondition(
                    "NOT_PROMULGATED", f"{self.version_name(version)} was never promulgated", resource=self.name
                )
            return v
        promulgated = [v for v in self.versions if v.promulgation is not None]
        if not promulgated:
            raise FailedPrecondition("NOT_PROMULGATED", f"{self.name} has not been promulgated", resource=self.name)
        return promulgated[-1]
