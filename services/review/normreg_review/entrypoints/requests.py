"""Edge validation of the API's requests: a pydantic model each; the first violation is INVALID_ARGUMENT
naming the field, before anything is read or changed."""

from __future__ import annotations

from typing import Annotated

from normreg_common.text import Body, RequiredReason, ShortText
from normreg_common.validation import Command
from pydantic import Field

from normreg_review.domain.lifecycle import Decision, ReviewState

OPINION_MAX = 20_000
PROBLEMS_MAX = 100
NAME_MAX = 100
TOKEN_MAX = 512
ETAG_MAX = 64


Opinion = Annotated[Body, Field(max_length=OPINION_MAX)]
Problem = RequiredReason
ResourceName = Annotated[str, Field(max_length=NAME_MAX)]


class ListReviews(Command):
    page_size: int
    page_token: Annotated[str, Field(max_length=TOKEN_MAX)]
    state: ReviewState | None
    reviewing_office: ShortText
    overdue_only: bool


class ReviewByName(Command):
    name: ResourceName


class DecideReview(Command):
    name: ResourceName
    decision: Decision
    opinion: Opinion
    problems: Annotated[list[Problem], Field(max_length=PROBLEMS_MAX)]
    etag: Annotated[str, Field(max_length=ETAG_MAX)]
