"""Jurisdiction profile: every clock and limit that differs between provinces.

Defaults are those of domain.md (the Chifeng reference case). Standard library only.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class WorkingCalendar:
    """Weekends are rest days; `holidays` adds rest days, `workdays` turns weekend days into work days
    (China's adjusted working weekends, 调休)."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date `days` working days after `start` (start itself not counted).

        Counted, not walked: a binary search over `_working_before`, so a window of centuries
        costs the same as a week.
        """
        if days <= 0:
            return start
        base = start.toordinal() + 1
        target = self._working_before(base) + days
        low = base
        # N whole weeks hold at least 5N working days less the holidays on weekdays: an upper bound.
        high = base + ((days + len(self._rest_weekdays)) // 5 + 2) * 7
        while low < high:
            middle = (low + high) // 2
            if self._working_before(middle + 1) >= target:
                high = middle
            else:
                low = middle + 1
        return dt.date.fromordinal(low)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in the inclusive interval [start, end]."""
        if end < start:
            return 0
        return self._working_before(end.toordinal() + 1) - self._working_before(start.toordinal())

    def _working_before(self, ordinal: int) -> int:
        """Working days among the days with ordinals 1 .. ordinal - 1."""
        return (
            _weekdays_before(ordinal)
            - bisect.bisect_left(self._rest_weekdays, ordinal)
            + (bisect.bisect_left(self._working_weekends, ordinal))
        )

    @functools.cached_property
    def _rest_weekdays(self) -> list[int]:
        return sorted(d.toordinal() for d in self.holidays - self.workdays if d.weekday() < 5)

    @functools.cached_property
    def _working_weekends(self) -> list[int]:
        return sorted(d.toordinal() for d in self.workdays if d.weekday() >= 5)


def _weekdays_before(ordinal: int) -> int:
    """Mondays to Fridays among ordinals 1 .. ordinal - 1 (ordinal 1, 0001-01-01, is a Monday)."""
    weeks, rest = divmod(ordinal - 1, 7)
    return weeks * 5 + min(rest, 5)


@dataclass(frozen=True)
class JurisdictionProfile:
    name: str = "chifeng"
    timezone: str = "Asia/Shanghai"
    # Public comment minimum: rules in calendar days, normative documents in working days.
    comment_min_days_rules: int = 30
    comment_min_working_days_normative: int = 7
    # Filing with the superior body.
    filing_deadline_days: int = 30
    filing_deadline_in_working_days: bool = False
    # Effective date default delay after promulgation.
    effective_delay_days: int = 30
    # Validity of normative documents.
    validity_years_default: int = 5
    validity_years_max: int = 5
    validity_years_provisional: int = 2
    # Evaluation is due this many months before the validity period ends.
    evaluation_window_months: int = 6
    # Legality review time limit, working days from the request.
    review_time_limit_working_days: int = 15
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.tz).date()

    def filing_due(self, promulgated: dt.date) -> dt.date:
        if self.filing_deadline_in_working_days:
            return self.calendar.add_working_days(promulgated, self.filing_deadline_days)
        return promulgated + dt.timedelta(days=self.filing_deadline_days)

    def review_due(self, requested: dt.date) -> dt.date:
        return self.calendar.add_working_days(requested, self.review_time_limit_working_days)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")


PROFILES: dict[str, JurisdictionProfile] = {
    "chifeng": JurisdictionProfile(),
    # Some provinces require filing within 20 days.
    "filing20": JurisdictionProfile(name="filing20", filing_deadline_days=20),
}


def get_profile(name: str) -> JurisdictionProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown jurisdiction profile {name!r}; known: {sorted(PROFILES)}") from None
