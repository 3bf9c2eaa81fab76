"""Request models: every field checked (NFC text, no control characters, bounded sizes) before any
use case runs, so a bad request changes nothing and names the field that is wrong."""

from __future__ import annotations

from typing import Annotated

from normreg_common.text import (
    Body,
    CommentText,
    Reason,
    RequiredReason,
    RequiredShortText,
    ShortText,
    Title,
)
from normreg_common.validation import Command
from pydantic import Field

RequestId = Annotated[str, Field(max_length=100, pattern=r"^[A-Za-z0-9._:-]*$")]
PageSize = Annotated[int, Field(ge=0, le=500)]


class Idempotent(Command):
    request_id: RequestId


class CreateDocument(Command):
    request_id: RequestId
    title: Title
    body: Body
    issuing_body: RequiredShortText
    number_prefix: Annotated[ShortText, Field(max_length=20, pattern=r"^[^\s〔〕\[\]()（）【】]*$")]
    filing_exemption_reason: Reason = ""


class UpdateDraft(Command):
    title: Title | None
    body: Body | None
    etag: Annotated[str, Field(min_length=1, max_length=40)]


class SubmitComment(Command):
    text: CommentText


class CreateComment(Command):
    comment: SubmitComment


class Reply(Command):
    reply: CommentText


class RecordProcedure(Command):
    summary: RequiredReason


class Deliberation(Command):
    meeting: RequiredShortText
    reason: Reason


class Promulgate(Command):
    early_effect_reason: Reason
    number_sequence: Annotated[int, Field(ge=0, le=999_999)]
    validity_years: Annotated[int, Field(ge=0, le=50)]


class Filing(Command):
    recipient: RequiredShortText


class FilingReview(Command):
    note: Reason
    recipient: ShortText = ""


class Evaluation(Command):
    evaluator: RequiredShortText
    method: RequiredShortText
    findings: RequiredReason


class Ending(Command):
    reason: RequiredReason
    repealed_by: ShortText = ""


class ImportedArticle(Command):
    label: Annotated[ShortText, Field(max_length=40)]
    text: Body


class ImportedAct(Command):
    title: Title


class ImportedVersion(Command):
    title: Title
    body: Body
    uniform_number: ShortText
    articles: Annotated[tuple[ImportedArticle, ...], Field(max_length=5000)] = ()
    amended_by: Annotated[tuple[ImportedAct, ...], Field(max_length=100)] = ()
    amends: Annotated[tuple[ImportedAct, ...], Field(max_length=100)] = ()


class ImportDocument(Command):
    request_id: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]
    issuing_body: RequiredShortText
    versions: Annotated[list[ImportedVersion], Field(min_length=1, max_length=50)]


class Campaign(Command):
    request_id: RequestId
    title: Title
    documents: Annotated[list[Annotated[str, Field(max_length=100)]], Field(min_length=1, max_length=1000)]


class CleanupOutcome(Command):
    document: Annotated[str, Field(min_length=1, max_length=100)]
    reason: Reason
    missing_procedure: ShortText
    remedy: Reason


class ListDocumentsFilter(Command):
    """What ListDocuments filters on: compared with stored names, so held to the same rules (a NUL
    that SQLite would compare and PostgreSQL refuses is INVALID_ARGUMENT on either)."""

    issuing_body: ShortText
    drafting_org: ShortText


class FilingReportFilter(Command):
    issuing_body: ShortText
    recipient: ShortText
