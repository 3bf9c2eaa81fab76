"""Jurisdiction profiles: deadlines in calendar or working days, holidays and adjusted working weekends."""

from __future__ import annotations

import datetime as dt

import pytest
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
