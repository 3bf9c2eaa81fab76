"""Request models of the public API: every field bounded and checked before the index is asked."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from normreg_common.text import SearchText, ShortText
from normreg_common.validation import Command
from pydantic import Field, model_validator

QueryText = Annotated[SearchText, Field(max_length=200)]
PageSize = Annotated[int, Field(ge=0)]
PageToken = Annotated[str, Field(max_length=200)]
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class DateRange(Command):
    from_date: dt.date | None = None
    to_date: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.from_date and self.to_date and self.from_date > self.to_date:
            raise ValueError("from_date is after to_date")
        return self

    def bounds(self) -> tuple[dt.date | None, dt.date | None]:
        return self.from_date, self.to_date


class SearchDocuments(Command):
    query: QueryText
    issuing_bodies: Annotated[list[ShortText], Field(max_length=50)]
    promulgation_date: DateRange
    effective_date: DateRange
    valid_on: dt.date | None
    uniform_number: Annotated[ShortText, Field(max_length=60)]
    page_size: PageSize
    page_token: PageToken


class GetPublicDocument(Command):
    name: Annotated[str, Field(max_length=200)]
    uniform_number: Annotated[ShortText, Field(max_length=60)]
    valid_on: dt.date | None


class ListOpenConsultations(Command):
    page_size: PageSize
    page_token: PageToken


def page_size(value: int) -> int:
    """0 means the default; above the maximum is brought down to it (AIP-158)."""
    return min(value or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
