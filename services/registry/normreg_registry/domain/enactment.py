"""Promulgation, and what the clock does afterwards: entry into force, supersession, expiry, and the
flags that make a due evaluation or an overdue filing visible."""

from __future__ import annotations

import datetime as dt

from normreg_common.errors import InvalidArgument
from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile

from normreg_registry.domain import access, deadlines, gates, request_dates
from normreg_registry.domain.drafting import Drafting
from normreg_registry.domain.evaluation import evaluated_since
from normreg_registry.domain.lifecycle import PROMULGATED_STATES, Action, Kind, State
from normreg_registry.domain.numbers import UniformNumber
from normreg_registry.domain.versions import FilingObligation, Promulgation, TimelineEntry, Version


class Enactment(Drafting):
    def promulgate(
        self,
        principal: Principal,
        at: dt.datetime,
        profile: JurisdictionProfile,
        *,
        number: UniformNumber,
        registration_number: str,
        promulgation_date: dt.date,
        effective_date: dt.date | None,
        early_effect_reason: str,
        validity_years: int,
    ) -> None:
        self._authorize_transition(principal, Action.PROMULGATE)
        v = self.latest
        self._check(Action.PROMULGATE, v)
        today = profile.local_date(at)
        request_dates.not_in_future(promulgation_date, "promulgation_date", today)
        self._in_order(
            promulgation_date,
            "promulgation_date",
            (profile.local_date(v.created_at), "the version's creation"),
            (v.adopted_on, "its adoption at deliberation"),
        )
        default = deadlines.default_effective_date(promulgation_date, profile)
        effective = effective_date or default
        request_dates.effective_date(effective, promulgation_date)
        gates.EARLY_EFFECT_EXPLAINED.check(
            self.name,
            effective=effective,
            default=default,
            reason=early_effect_reason,
            delay=profile.effective_delay_days,
        )
        years = self._validity_years(validity_years, profile)
        validity_end = deadlines.validity_end(effective, years) if years else None
        v.promulgation = Promulgation(
            number, registration_number, promulgation_date, effective, validity_end, early_effect_reason.strip()
        )
        filing_required = self.filing_required
        filing_due = deadlines.filing_due(promulgation_date, profile)
        recipients = profile.filing_recipients(self.issuing_body, self.kind.value) if filing_required else ()
        v.obligations = [FilingObligation(r, filing_due) for r in recipients]
        self._move(
            v,
            Action.PROMULGATE,
            principal,
            at,
            details={
                "uniform_number": str(number),
                "registration_number": registration_number,
                "promulgation_date": str(promulgation_date),
                "effective_date": str(effective),
                "validity_end_date": str(validity_end or ""),
                "filing_required": filing_required,
                "filing_due_date": str(filing_due) if filing_required else "",
                "filing_recipients": list(recipients),
                "kind": self.kind.value,
                "issuing_body": self.issuing_body,
            },
        )
        v.timeline.append(TimelineEntry(promulgation_date, "promulgated", str(number)))

    def _validity_years(self, requested: int, profile: JurisdictionProfile) -> int:
        """Years of validity of a normative document (0 for kinds without a validity period)."""
        if self.kind != Kind.NORMATIVE_DOCUMENT:
            if requested:
                raise InvalidArgument(
                    "validity_years", f"a validity period applies to normative documents, not {self.kind}"
                )
            return 0
        provisional = deadlines.is_provisional(self.provisional, self.latest.title)
        years, maximum = deadlines.validity_years(provisional, requested, profile)
        gates.VALIDITY_WITHIN_MAXIMUM.check(
            self.name, years=years, maximum=maximum, which="provisional (暂行/试行) " if provisional else ""
        )
        return years

    def run_clock(self, principal: Principal, at: dt.datetime, profile: JurisdictionProfile) -> bool:
        """Time-driven transitions due at `at`. True when anything changed."""
        access.require_clock(principal, self.name)
        today = profile.local_date(at)
        before = self.sequence
        v = self.latest
        if self._can(Action.CLOSE_COMMENT, v) and v.comment_window and today > v.comment_window.end:
            self.close_comment(principal, at, profile)
        for v in list(self.versions):
            p = v.promulgation
            if self._can(Action.ENTER_INTO_FORCE, v) and p and p.effective_date <= today:
                self._enter_into_force(v, principal, at)
        for v in self.versions:
            p = v.promulgation
            if self._can(Action.EXPIRE, v) and p and p.validity_end and deadlines.expired(p.validity_end, today):
                self._authorize_transition(principal, Action.EXPIRE)
                self._move(v, Action.EXPIRE, principal, at, reason=f"validity period ended on {p.validity_end}")
                v.timeline.append(TimelineEntry(deadlines.expiry_day(p.validity_end), "expired"))
            elif (
                v.state == State.IN_FORCE
                and p
                and p.validity_end
                and not v.evaluation_due_flagged
                and deadlines.evaluation_due_from(p.validity_end, profile) <= today
                and not evaluated_since(
                    self.evaluations, v, deadlines.evaluation_due_from(p.validity_end, profile), profile
                )
            ):
                v.evaluation_due_flagged = True
                self._record(
                    "evaluation_due",
                    v.number,
                    v.state,
                    v.state,
                    principal,
                    at,
                    details={"validity_end_date": str(p.validity_end)},
                )
            if v.promulgation is None or v.filing_overdue_flagged or v.state not in PROMULGATED_STATES:
                continue
            if v.obligations:
                missing = [(o.recipient, o.due_date) for o in v.obligations if o.filing is None and today > o.due_date]
            elif self.filing_required and not v.promulgated_elsewhere:
                # Promulgated before obligations were kept per recipient: one obligation whose
                # recipient is not known. An imported version is never overdue: whether it was filed
                # before the registry knew it is not known here (the reports count it once filed).
                due = deadlines.filing_due(v.promulgation.promulgation_date, profile)
                missing = [("", due)] if today > due else []
            else:
                missing = []
            if missing:
                v.filing_overdue_flagged = True
                self._record(
                    "filing_overdue",
                    v.number,
                    v.state,
                    v.state,
                    principal,
                    at,
                    details={"due_date": str(missing[0][1]), "recipients": [r for r, _ in missing if r]},
                )
        return self.sequence != before

    def next_clock_day(self, profile: JurisdictionProfile) -> dt.date | None:
        """The first local day on which `run_clock` changes something, as things stand; None when the
        clock has nothing left to do. Kept in step with `run_clock` condition by condition, so the
        scheduler reads only the documents due instead of every document each run."""
        days: list[dt.date] = []
        v = self.latest
        if self._can(Action.CLOSE_COMMENT, v) and v.comment_window:
            days.append(_after(v.comment_window.end))
        for v in self.versions:
            p = v.promulgation
            if p is None:
                continue
            if self._can(Action.ENTER_INTO_FORCE, v):
                days.append(p.effective_date)
            if self._can(Action.EXPIRE, v) and p.validity_end:
                days.append(_after(p.validity_end))
            if v.state == State.IN_FORCE and p.validity_end and not v.evaluation_due_flagged:
                due_from = deadlines.evaluation_due_from(p.validity_end, profile)
                if not evaluated_since(self.evaluations, v, due_from, profile):
                    days.append(due_from)
            if v.filing_overdue_flagged or v.state not in PROMULGATED_STATES:
                continue
            if v.obligations:
                days.extend(_after(o.due_date) for o in v.obligations if o.filing is None)
            elif self.filing_required and not v.promulgated_elsewhere:
                try:
                    days.append(_after(deadlines.filing_due(p.promulgation_date, profile)))
                except (OverflowError, ValueError):
                    # Stored before dates were bounded: a deadline beyond any calendar never comes.
                    continue
        return min(days, default=None)

    def _enter_into_force(self, v: Version, principal: Principal, at: dt.datetime) -> None:
        assert v.promulgation is not None
        effective = v.promulgation.effective_date
        previous = self.in_force_version()
        self._authorize_transition(principal, Action.ENTER_INTO_FORCE)
        self._check(Action.ENTER_INTO_FORCE, v)
        if previous is not None and previous.number != v.number and self._can(Action.SUPERSEDE, previous):
            self._authorize_transition(principal, Action.SUPERSEDE)
            previous.amended_by = v.number
            self._move(
                previous,
                Action.SUPERSEDE,
                principal,
                at,
                reason=f"superseded by version {v.number}",
                details={"amended_by": self.version_name(v.number)},
            )
            previous.timeline.append(TimelineEntry(effective, "amended", "", self.version_name(v.number)))
        self._move(v, Action.ENTER_INTO_FORCE, principal, at)
        v.timeline.append(TimelineEntry(effective, "in_force"))


def _after(day: dt.date) -> dt.date:
    """The day after `day` (`run_clock` acts when today > day); the last day there is, at the end."""
    return day if day == dt.date.max else day + dt.timedelta(days=1)
