"""Fields of the published event messages from the values a producer recorded, and calendar dates
between `datetime.date` and `google.type.Date`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from google.type import date_pb2

from normreg_common.event_data import UnreadableData


def fill(message: Message, values: Mapping[str, Any], *, strict: bool = False) -> None:
    """Sets the fields of `message` named in `values` (the details a change recorded), a text date
    YYYY-MM-DD into a google.type.Date and an empty one left unset. `strict` refuses a name the
    message does not have (the producer's tests use it so a detail is never dropped unnoticed)."""
    converted: dict[str, Any] = {}
    fields = message.DESCRIPTOR.fields_by_name
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            if strict:
                raise UnreadableData(f"{message.DESCRIPTOR.name} has no field {key!r}")
            continue
        if field.message_type is date_pb2.Date.DESCRIPTOR:
            day = parse_date(value)
            if day is None:
                continue
            converted[key] = {"year": day.year, "month": day.month, "day": day.day}
        elif value is not None:
            converted[key] = value
    try:
        json_format.ParseDict(converted, message)
    except json_format.ParseError as exc:
        raise UnreadableData(f"{message.DESCRIPTOR.name}: {exc}") from None


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise UnreadableData(f"not a date: {value!r}") from None


def to_date(value: dt.date | None) -> date_pb2.Date | None:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day) if value is not None else None


def date_of(value: date_pb2.Date) -> dt.date | None:
    """None for the empty Date; UnreadableData for one that is no calendar day."""
    if value.year == value.month == value.day == 0:
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        raise UnreadableData(f"not a calendar date: {value.year}-{value.month}-{value.day}") from None
