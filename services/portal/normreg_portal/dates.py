"""Every date the portal reads from or writes to the gRPC API passes here.

The API carries dates as ISO strings today and may carry `google.type.Date` messages later; this is
the one place that knows, and it decides by the field's descriptor, so both shapes work.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf.message import Message


def to_date(value: Any) -> dt.date | None:
    """A calendar date from an ISO string or a google.type.Date-like message; None when unset or bad."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    year, month, day = (getattr(value, f, 0) for f in ("year", "month", "day"))
    if not (year and month and day):
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def field_date(message: Message, field: str) -> dt.date | None:
    return to_date(getattr(message, field))


def iso(value: Any) -> str:
    day = to_date(value)
    return day.isoformat() if day else ""


def set_date(message: Message, field: str, day: dt.date | None) -> None:
    """Sets `field` of `message` to `day`, whichever date shape the field has."""
    if day is None:
        return
    descriptor = message.DESCRIPTOR.fields_by_name[field]
    if descriptor.message_type is not None:
        target = getattr(message, field)
        target.year, target.month, target.day = day.year, day.month, day.day
    else:
        setattr(message, field, day.isoformat())


class DateOutOfRange(ValueError):
    """A date written correctly, outside the years the services answer for."""


OUT_OF_RANGE = "日期应在 1900 年至 2200 年之间。"


def parse_user_date(text: str) -> dt.date:
    """A date typed by a person: 2025-01-01 (also 2025-1-1 and 2025/01/01). ValueError if not a date,
    DateOutOfRange for one before 1900 or after 2200."""
    cleaned = text.strip().replace("/", "-").replace(".", "-")
    parts = cleaned.split("-")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and 0 < len(p) <= 4 for p in parts):
        raise ValueError(text)
    year, month, day = (int(p) for p in parts)
    parsed = dt.date(max(year, 1), month, day)  # ValueError for a month or day no year has
    if not 1900 <= year <= 2200:
        raise DateOutOfRange(text)
    return parsed


def chinese(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""
