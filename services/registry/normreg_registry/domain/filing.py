"""Filing with the superior body (备案) and the recipient's outcome: a parallel track after promulgation."""

from __future__ import annotations

import datetime as dt

from normreg_common.errors import InvalidArgument
from normreg_common.filing_materials import required_materials
from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile

from normreg_registry.domain import access, deadlines, gates, request_dates
from normreg_registry.domain.access import Op
from normreg_registry.domain.amendment import Amendment
from normreg_registry.domain.lifecycle import Action, State
from normreg_registry.domain.versions import Filing, FilingObligation, TimelineEntry, Version


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
        obligation = v.obligation(recipient)
        earlier = obligation.filing if obligation else None
        version_name = self.version_name(v.number)
        gates.FILED_KIND.check(self.name, kind=self.kind)
        gates.NOT_YET_FILED.check(self.name, earlier=earlier, version=version_name)
        assert v.promulgation is not None
        request_dates.filed_date(filed_date, v.promulgation.promulgation_date, profile.local_date(at))
        if obligation is None:
            # A recipient the routing table does not name (or a document registered before it had
            # obligations): the filing is kept, with the deadline every filing of it has.
            obligation = FilingObligation(recipient, deadlines.filing_due(v.promulgation.promulgation_date, profile))
            v.obligations.append(obligation)
        due = obligation.due_date
        refiling = earlier is not None
        answered = None if refiling else self._correction_answered_by(v, recipient)
        sent = dict(materials)
        # The filing the recipient asked materials of, when this one sends (some of) them.
        asked = earlier if earlier is not None and earlier.recipient_status == "MATERIALS_REQUESTED" else None
        if asked is not None:
            # What was asked for, sent in parts: what was delivered before stays delivered.
            materials = {m: bool(asked.materials.get(m) or sent.get(m)) for m in {*asked.materials, *sent}}
        filing = obligation.filing = Filing(
            filed_date, recipient, dict(materials), due, required=required_materials(self.kind.value)
        )
        if earlier is not None:
            # Sent again (the materials asked for, or the corrected document): the same filing at the
            # recipient, which reports on it as before.
            filing.reported_by, filing.received_filing = earlier.reported_by, earlier.received_filing
            filing.registered_date, filing.review_due = earlier.registered_date, earlier.review_due
        if asked is not None and (left := [m for m in asked.missing if not sent.get(m)]):
            # Part of what was asked for: the rest is still asked for, by the same date, and may be sent
            # in its turn (the recipient says so too, and its word replaces this when it comes).
            filing.recipient_status, filing.missing = "MATERIALS_REQUESTED", left
            filing.completion_due = asked.completion_due
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
                # What this filing sent; the recipient adds it to what it already holds.
                "materials": sent,
                "complete": filing.complete,
                "on_time": filing.on_time,
                "refiling": refiling,
                "answers_version": self.version_name(answered[0].number) if answered else "",
                "answers_received_filing": answered[1].received_filing if answered else "",
            },
        )
        return v

    def _correction_answered_by(self, v: Version, recipient: str) -> tuple[Version, Filing] | None:
        """The version `v` amends and its filing with `recipient`, when that recipient required a
        correction of it and still awaits the answer: the first filing of the amending version with
        the same recipient is that answer (an amended rule is filed again, and it answers too)."""
        if v.amends is None:
            return None
        amended = self.version(v.amends)
        obligation = amended.obligation(recipient)
        earlier = obligation.filing if obligation else None
        if (
            earlier is None
            or earlier.outcome != "CORRECTION_REQUIRED"
            or earlier.recipient_status == "CORRECTION_ANSWERED"
        ):
            return None
        return amended, earlier

    def record_filing_review(
        self,
        principal: Principal,
        at: dt.datetime,
        *,
        version: int | None,
        outcome: str,
        note: str,
        today: dt.date,
        recipient: str = "",
        correction_due: dt.date | None = None,
    ) -> Filing:
        """The outcome of the filing with `recipient`; without one, of the only filing still awaiting
        an outcome. A correction required is owed by `correction_due` (the recipient's deadline, as
        its letter gives it): until the version is filed again, it stays on the list of filings due."""
        access.authorize_op(principal, self, Op.RECORD_FILING_REVIEW, "recording a filing review")
        v = self._filing_version(version)
        if recipient:
            obligation = v.obligation(recipient)
            candidate = obligation.filing if obligation else None
        else:
            open_ = [f for f in v.filings if not f.outcome]
            if len(open_) > 1:
                raise InvalidArgument(
                    "recipient",
                    f"{self.version_name(v.number)} awaits the outcome of "
                    + ", ".join(f.recipient for f in open_)
                    + "; name the recipient",
                )
            candidate = open_[0] if open_ else v.latest_filing
        to = f" with {recipient}" if recipient else ""
        gates.FILED.check(self.name, filing=candidate, version=self.version_name(v.number), to=to)
        assert candidate is not None
        filing = candidate
        gates.TYPED_IN_OUTCOME.check(
            self.name,
            filing=filing,
            version=self.version_name(v.number),
            recipient=filing.recipient,
            reported_by=filing.reported_by,
        )
        gates.OUTCOME_OPEN.check(self.name, filing=filing)
        if outcome == "CORRECTION_REQUIRED":
            if correction_due is None:
                raise InvalidArgument("correction_due_date", "the deadline the recipient set for the correction")
            request_dates.correction_due(correction_due, today)
        elif correction_due is not None:
            raise InvalidArgument("correction_due_date", f"a deadline is set only for a correction, not for {outcome}")
        filing.outcome = outcome
        filing.outcome_note = note
        filing.decided_date = today
        filing.correction_due = correction_due
        self._record(
            "filing_reviewed",
            v.number,
            v.state,
            v.state,
            principal,
            at,
            details={"outcome": outcome, "note": note, "recipient": filing.recipient},
        )
        if outcome == "REVOKED":
            self._revoked(v, principal, at, today, f"revoked by the filing authority {filing.recipient}: {note}")
        return filing

    def _revoked(self, v: Version, principal: Principal, at: dt.datetime, today: dt.date, reason: str) -> None:
        """The filing authority revoked `v`: it stops having effect, or never takes effect. A version
        already ended (amended, repealed, expired, invalid) keeps its state; the outcome is recorded."""
        if v.state not in {State.IN_FORCE, State.PROMULGATED}:
            return
        v.state_reason = reason
        self._move(v, Action.DECLARE_INVALID, principal, at, reason=reason)
        v.timeline.append(TimelineEntry(today, Action.DECLARE_INVALID.value, reason))

    def _filing_version(self, version: int | None) -> Version:
        if version is not None:
            v = self.version(version)
            gates.PROMULGATED.check(self.name, v=v, version=self.version_name(version))
            return v
        promulgated = [v for v in self.versions if v.promulgation is not None]
        last = promulgated[-1] if promulgated else None
        gates.PROMULGATED.check(self.name, v=last, version=self.name)
        assert last is not None
        return last
