"""Dates a request cannot carry, whatever the rules: a step dated in the future, a period that ends
before it starts, an effect or a filing before the promulgation. INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import datetime as dt

from normreg_common.errors import InvalidArgument


def not_in_future(day: dt.date, field: str, today: dt.date) -> None:
    if day > today:
        raise InvalidArgument(field, f"{day} is in the future")


def comment_window(start: dt.date, end: dt.date, today: dt.date) -> None:
    if start < today:
        raise InvalidArgument("start_date", f"a comment period cannot start in the past ({start} < {today})")
    if end < start:
        raise InvalidArgument("end_date", "the comment period ends before it starts")


def effective_date(effective: dt.date, promulgated: dt.date) -> None:
    if effective < promulgated:
        raise InvalidArgument("effective_date", "a document cannot take effect before it is promulgated")


def filed_date(filed: dt.date, promulgated: dt.date, today: dt.date) -> None:
    not_in_future(filed, "filed_date", today)
    if filed < promulgated:
        raise InvalidArgument("filed_date", "a document cannot be filed before it is promulgated")


def correction_due(due: dt.date, today: dt.date) -> None:
    if due < today:
        raise InvalidArgument("correction_due_date", f"a correction cannot be due before today ({due} < {today})")
