"""Dates the law derives from other dates, by the jurisdiction profile: when a document takes effect,
when its validity ends, when its filing and its evaluation are due. Pure: no clock is read here."""

from __future__ import annotations

import datetime as dt

from normreg_common.profile import JurisdictionProfile, add_months, add_years

from normreg_registry.domain.lifecycle import RULE_KINDS, Kind


def default_effective_date(promulgated: dt.date, profile: JurisdictionProfile) -> dt.date:
    return promulgated + dt.timedelta(days=profile.effective_delay_days)


def validity_end(effective: dt.date, years: int) -> dt.date:
    """The last day of a validity period of `years` starting on `effective` (the calendar's last day
    when it would end beyond the calendar: such a period does not end)."""
    try:
        return add_years(effective, years) - dt.timedelta(days=1)
    except (ValueError, OverflowError):
        return dt.date.max


def filing_due(promulgated: dt.date, profile: JurisdictionProfile) -> dt.date:
    return profile.filing_due(promulgated)


def evaluation_due_from(end: dt.date, profile: JurisdictionProfile) -> dt.date:
    """An evaluation is due in the window (the profile's months) before the validity period ends."""
    return add_months(end, -profile.evaluation_window_months)


def expired(end: dt.date | None, today: dt.date) -> bool:
    return end is not None and end < today


def expiry_day(end: dt.date) -> dt.date:
    return end + dt.timedelta(days=1)


def comment_period(kind: Kind, start: dt.date, end: dt.date, profile: JurisdictionProfile) -> tuple[int, int, str]:
    """(length, minimum, unit) of a comment period: calendar days for rules, working days otherwise."""
    if kind in RULE_KINDS:
        return (end - start).days + 1, profile.comment_min_days_rules, "days"
    working = profile.calendar.working_days_between(start, end)
    return working, profile.comment_min_working_days_normative, "working days"


# A title that says so makes a document provisional (暂行办法, 试行规定), whatever the flag it was
# drafted with: its validity is the provisional one.
PROVISIONAL_WORDS = ("暂行", "试行")


def is_provisional(flagged: bool, title: str) -> bool:
    return flagged or any(word in title for word in PROVISIONAL_WORDS)


def validity_years(provisional: bool, requested: int, profile: JurisdictionProfile) -> tuple[int, int]:
    """(years, maximum) of a normative document's validity: the request, or the profile's default."""
    if provisional:
        return requested or profile.validity_years_provisional, profile.validity_years_provisional
    return requested or profile.validity_years_default, profile.validity_years_max
