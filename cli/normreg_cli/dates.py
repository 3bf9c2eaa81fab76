"""Calendar dates on the client side: YYYY-MM-DD text or `datetime.date` to `google.type.Date` and back.

Servers also fill the deprecated `*_iso` text twins of date fields for one release; the client
reads only the Date fields.
"""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2


def to_pb(value: dt.date | str | None) -> date_pb2.Date | None:
    """None for an empty value (an optional argument left out), so a constructor leaves the field unset."""
    if not value:
        return None
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def value(date: date_pb2.Date) -> dt.date | None:
    if date.year == date.month == date.day == 0:
        return None
    return dt.date(date.year, date.month, date.day)


def text(date: date_pb2.Date) -> str:
    """YYYY-MM-DD, or "" for an unset date."""
    day = value(date)
    return day.isoformat() if day else ""
