"""Edge validation: a pydantic model per request; the first violation becomes INVALID_ARGUMENT."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from normreg_common.dates import DATE_MAX, DATE_MIN, in_range, parse_iso
from normreg_common.errors import InvalidArgument

M = TypeVar("M", bound=BaseModel)


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


def parse(model: type[M], **data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or model.__name__
        raise InvalidArgument(field, first["msg"]) from None


_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")


def resource_id(name: str, collection: str, field: str = "name") -> str:
    """`documents/abc` -> `abc`, or INVALID_ARGUMENT naming the field."""
    prefix = f"{collection}/"
    if not name.startswith(prefix) or not _ID.match(name[len(prefix) :]):
        raise InvalidArgument(field, f"expected {collection}/{{id}}, got {name!r}")
    return name[len(prefix) :]


def parse_date(value: str, field: str, *, required: bool = True) -> dt.date | None:
    if not value:
        if required:
            raise InvalidArgument(field, "a date YYYY-MM-DD is required")
        return None
    return parse_iso(value, field)


def _iso_date(value: str) -> str:
    if value:
        day = dt.date.fromisoformat(value)
        if not in_range(day):
            raise ValueError(f"{day} is outside the dates this registry accepts ({DATE_MIN}..{DATE_MAX})")
    return value


IsoDate = Annotated[str, AfterValidator(_iso_date)]


def _filter_date(value: str) -> str:
    if value:
        day = min(max(dt.date.fromisoformat(value), DATE_MIN), DATE_MAX)
        return day.isoformat()
    return value


# A date that only selects (a search filter): any calendar date, brought into the accepted range,
# which selects the same documents since none lies outside it.
FilterDate = Annotated[str, AfterValidator(_filter_date)]
