"""Edge validation of the FilingReviewService's requests: a pydantic model each; the first violation
is INVALID_ARGUMENT naming the field, before anything is read or changed."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from normreg_common.filing_materials import MATERIALS
from normreg_common.text import Body, CommentText, RequiredShortText, ShortText, says_something
from normreg_common.validation import Command
from pydantic import AfterValidator, Field

from normreg_filing.domain.lifecycle import FilingState, Outcome

NAME_MAX = 100
TOKEN_MAX = 512
ETAG_MAX = 64
TEXT_MAX = 20_000
NOTE_MAX = 5_000
PROVISIONS_MAX = 100
YEAR_MIN, YEAR_MAX = 1949, 9999
_DOCUMENT = re.compile(r"^documents/[a-z0-9][a-z0-9-]{0,62}(/versions/[1-9][0-9]{0,5})?\Z")


def _document(value: str) -> str:
    if not _DOCUMENT.match(value):
        raise ValueError("expected documents/{document} or documents/{document}/versions/{version}")
    return value


def _material(value: str) -> str:
    if value not in MATERIALS:
        raise ValueError(f"one of {', '.join(MATERIALS)}")
    return value


ResourceName = Annotated[str, Field(max_length=NAME_MAX)]
PageToken = Annotated[str, Field(max_length=TOKEN_MAX)]
Etag = Annotated[str, Field(max_length=ETAG_MAX)]
Text = Annotated[Body, Field(max_length=TEXT_MAX)]
RequiredText = Annotated[Body, Field(min_length=1, max_length=TEXT_MAX), AfterValidator(says_something)]
Note = Annotated[Body, Field(max_length=NOTE_MAX)]
Provision = Annotated[RequiredShortText, AfterValidator(says_something)]
Provisions = Annotated[list[Provision], Field(max_length=PROVISIONS_MAX)]
DocumentName = Annotated[str, Field(max_length=NAME_MAX), AfterValidator(_document)]
Material = Annotated[str, Field(max_length=NAME_MAX), AfterValidator(_material)]


class ListReceivedFilings(Command):
    page_size: int
    page_token: PageToken
    sender: ShortText
    state: FilingState | None
    recipient: ShortText


class FilingByName(Command):
    name: ResourceName


class RegisterReceivedFiling(Command):
    name: ResourceName
    missing_materials: Annotated[list[Material], Field(max_length=len(MATERIALS))]
    note: Note
    etag: Etag


class DecideFilingReview(Command):
    name: ResourceName
    outcome: Outcome
    reasons: Text
    provisions: Provisions
    note: Note
    etag: Etag


class RecordCorrectionResponse(Command):
    name: ResourceName
    response: RequiredText
    etag: Etag


class SubmitReviewSuggestion(Command):
    document: DocumentName
    sender: ShortText
    provisions: Provisions
    # As long as a public comment may be (the portal's form holds the same limits).
    reasons: CommentText
    contact: Annotated[RequiredShortText, AfterValidator(says_something)]
    requester_kind: Literal["citizen", "organisation", "state_body"]


class ListReviewSuggestions(Command):
    page_size: int
    page_token: PageToken
    sender: ShortText
    unanswered_only: bool


class ReplyToReviewSuggestion(Command):
    name: ResourceName
    reply: RequiredText


class GetSubordinateFilingReport(Command):
    sender: ShortText
    year: Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]


class ListMissingFilings(Command):
    page_size: int
    page_token: PageToken
    sender: ShortText
    overdue: bool | None
