"""Calendar dates at the gRPC edge: `google.type.Date` to `datetime.date` and back, in one place.

For one release every date field `x` of the API keeps a deprecated text twin `x_iso` (YYYY-MM-DD)
on the number the field had when it was text: a reader takes the Date when it is set and the text
otherwise, a writer fills both, so clients built before the change keep working until the twins are
reserved.
"""

from __future__ import annotations

import datetime as dt
import re

from google.protobuf.message import Message
from google.type import date_pb2

from normreg_common.dates import DATE_MAX, DATE_MIN, bounded
from normreg_common.errors import InvalidArgument

LEGACY_SUFFIX = "_iso"
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def to_pb(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def from_pb(value: date_pb2.Date, field: str) -> dt.date | None:
    """None for the empty Date; a partial or impossible date is INVALID_ARGUMENT naming the field."""
    if value.year == value.month == value.day == 0:
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        raise InvalidArgument(
            field, f"not a calendar date: year {value.year}, month {value.month}, day {value.day}"
        ) from None


def _legacy(msg: Message, field: str) -> str | None:
    twin = field + LEGACY_SUFFIX
    return getattr(msg, twin) if twin in msg.DESCRIPTOR.fields_by_name else None


def read(msg: Message, field: str, *, path: str = "", selects: bool = False) -> dt.date | None:
    """The date in `msg.field` (or its text twin) within the accepted range; `path` prefixes the
    field name in errors. A date that only `selects` (a search filter) is brought into the range
    instead, which selects the same documents since none lies outside it."""
    where = path + field
    day = as_sent(msg, field, path=path)
    if day is None:
        return None
    if selects:
        return min(max(day, DATE_MIN), DATE_MAX)
    return bounded(day, where)


def as_sent(msg: Message, field: str, *, path: str = "") -> dt.date | None:
    """The date in `msg.field` (or its text twin, YYYY-MM-DD) as sent, before any range is applied."""
    where = path + field
    if msg.HasField(field):
        value = from_pb(getattr(msg, field), where)
        if value is not None:
            return value
    text = _legacy(msg, field)
    if text:
        try:
            # fromisoformat also reads 20250101 and 2025-W01-1, which the field does not promise.
            if not _ISO_DAY.fullmatch(text):
                raise ValueError(text)
            return dt.date.fromisoformat(text)
        except ValueError:
            raise InvalidArgument(where + LEGACY_SUFFIX, f"expected a date YYYY-MM-DD, got {text!r}") from None
    return None


def required(msg: Message, field: str, *, path: str = "") -> dt.date:
    value = read(msg, field, path=path)
    if value is None:
        raise InvalidArgument(path + field, "a date is required")
    return value


def fill(msg: Message, field: str, value: dt.date | None) -> None:
    """Sets `msg.field` and its text twin; leaves both unset for None."""
    if value is None:
        return
    getattr(msg, field).CopyFrom(to_pb(value))
    if _legacy(msg, field) is not None:
        setattr(msg, field + LEGACY_SUFFIX, value.isoformat())
