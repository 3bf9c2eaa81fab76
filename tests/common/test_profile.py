"""Jurisdiction profiles: deadlines in calendar or working days, holidays and adjusted working weekends."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from normreg_common.dates import DATE_MAX, DATE_MIN
from normreg_common.profile import PROFILES, JurisdictionProfile, WorkingCalendar, add_months, add_years, get_profile


def test_filing_is_due_30_calendar_days_after_promulgation_by_default() -> None:
    assert JurisdictionProfile().filing_due(dt.date(2026, 3, 2)) == dt.date(2026, 4, 1)


def test_a_province_with_a_20_day_filing_deadline() -> None:
    assert get_profile("filing20").filing_due(dt.date(2026, 3, 2)) == dt.date(2026, 3, 22)


def test_filing_deadline_in_working_days_skips_weekends_and_holidays() -> None:
    calendar = WorkingCalendar(holidays=frozenset({dt.date(2026, 4, 6)}))  # 清明 Monday
    profile = JurisdictionProfile(filing_deadline_days=5, filing_deadline_in_working_days=True, calendar=calendar)
    # Thu 2 Apr promulgated: Fri 3, (weekend), (Mon 6 holiday), Tue 7, Wed 8, Thu 9, Fri 10.
    assert profile.filing_due(dt.date(2026, 4, 2)) == dt.date(2026, 4, 10)


def test_an_adjusted_working_weekend_counts_as_a_working_day() -> None:
    saturday = dt.date(2026, 2, 14)
    calendar = WorkingCalendar(workdays=frozenset({saturday}))
    assert calendar.is_working_day(saturday)
    assert calendar.working_days_between(dt.date(2026, 2, 9), dt.date(2026, 2, 15)) == 6


def test_review_time_limit_is_counted_in_working_days() -> None:
    assert JurisdictionProfile().review_due(dt.date(2026, 3, 2)) == dt.date(2026, 3, 23)


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [(dt.date(2026, 4, 5), 5, dt.date(2031, 4, 5)), (dt.date(2024, 2, 29), 1, dt.date(2025, 2, 28))],
)
def test_adding_years_handles_leap_days(day: dt.date, years: int, expected: dt.date) -> None:
    assert add_years(day, years) == expected


def test_adding_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(dt.date(2026, 8, 31), -6) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)


def test_an_unknown_profile_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="chifeng"):
        get_profile("atlantis")
    assert "chifeng" in PROFILES


def _walk_add(calendar: WorkingCalendar, start: dt.date, days: int) -> dt.date:
    current, remaining = start, days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if calendar.is_working_day(current):
            remaining -= 1
    return current


def _walk_count(calendar: WorkingCalendar, start: dt.date, end: dt.date) -> int:
    return sum(calendar.is_working_day(start + dt.timedelta(days=i)) for i in range((end - start).days + 1))


_DAYS = st.dates(min_value=dt.date(2025, 12, 1), max_value=dt.date(2026, 3, 31))


@settings(max_examples=200, deadline=None)
@given(
    holidays=st.frozensets(_DAYS, max_size=20),
    workdays=st.frozensets(_DAYS, max_size=6),
    start=_DAYS,
    days=st.integers(min_value=0, max_value=80),
    span=st.integers(min_value=-3, max_value=120),
)
def test_working_day_arithmetic_counts_what_walking_the_calendar_counts(
    holidays: frozenset[dt.date], workdays: frozenset[dt.date], start: dt.date, days: int, span: int
) -> None:
    calendar = WorkingCalendar(holidays=holidays, workdays=workdays)
    assert calendar.add_working_days(start, days) == _walk_add(calendar, start, days)
    end = start + dt.timedelta(days=span)
    assert calendar.working_days_between(start, end) == max(0, _walk_count(calendar, start, end))


def test_working_day_arithmetic_does_not_walk_the_days() -> None:
    """Counting over the whole accepted date range touches a handful of days, not 90,000."""
    touched: list[dt.date] = []

    class Watching(WorkingCalendar):
        def is_working_day(self, day: dt.date) -> bool:
            touched.append(day)
            return super().is_working_day(day)

    calendar = Watching(holidays=frozenset({dt.date(2026, 10, 1)}))
    assert calendar.working_days_between(DATE_MIN, DATE_MAX) == _weekdays_in(DATE_MIN, DATE_MAX) - 1
    end = calendar.add_working_days(DATE_MIN, 60_000)
    assert calendar.working_days_between(DATE_MIN + dt.timedelta(days=1), end) == 60_000
    assert touched == []


def _weekdays_in(start: dt.date, end: dt.date) -> int:
    weeks, rest = divmod((end - start).days + 1, 7)
    return weeks * 5 + sum((start + dt.timedelta(days=i)).weekday() < 5 for i in range(rest))
