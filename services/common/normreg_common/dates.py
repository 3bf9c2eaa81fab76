"""The range of calendar dates normreg accepts, wherever a date enters: requests, imports, events.

The People's Republic's legislation starts on 1949-10-01; nothing registered here can be older.
The upper bound leaves room for every period the profiles add to a date (validity years,
working-day deadlines, filing windows) without reaching `datetime.date.max`, so date arithmetic on
an accepted date can never overflow. A date outside the range is refused, never clamped: clamping
would silently change what a document says. Standard library only: the domains import it.
"""

from __future__ import annotations

import datetime as dt

from normreg_common.errors import InvalidArgument

DATE_MIN = dt.date(1949, 10, 1)
DATE_MAX = dt.date(2200, 12, 31)


def in_range(day: dt.date) -> bool:
    return DATE_MIN <= day <= DATE_MAX


def bounded(day: dt.date, field: str) -> dt.date:
    """`day`, or INVALID_ARGUMENT naming `field` when it lies outside [DATE_MIN, DATE_MAX]."""
    if not in_range(day):
        raise InvalidArgument(field, f"{day} is outside the dates this registry accepts ({DATE_MIN}..{DATE_MAX})")
    return day


def parse_iso(value: str, field: str) -> dt.date:
    """A YYYY-MM-DD date within the accepted range, or INVALID_ARGUMENT naming `field`."""
    try:
        day = dt.date.fromisoformat(value)
    except (ValueError, TypeError):
        raise InvalidArgument(field, f"expected a date YYYY-MM-DD, got {value!r}") from None
    return bounded(day, field)
