"""Text hygiene at the edge: NFC, no control characters, bounded length.

Used by the pydantic models of every service, so a bad field is refused before anything changes.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _single_line(value: str) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if _CONTROL_SINGLE_LINE.search(value):
        raise ValueError("control characters and line breaks are not allowed")
    return value


def _multi_line(value: str) -> str:
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    if _CONTROL_MULTI_LINE.search(value):
        raise ValueError("control characters are not allowed")
    return value


# Shared limits. A body fits in one Kafka record with room to spare (4 MiB at 3 bytes a character).
TITLE_MAX = 300
BODY_MAX = 400_000
NAME_MAX = 200
REASON_MAX = 2_000
COMMENT_MAX = 5_000

Title = Annotated[str, AfterValidator(_single_line), Field(min_length=1, max_length=TITLE_MAX)]
Body = Annotated[str, AfterValidator(_multi_line), Field(max_length=BODY_MAX)]
ShortText = Annotated[str, AfterValidator(_single_line), Field(max_length=NAME_MAX)]
RequiredShortText = Annotated[str, AfterValidator(_single_line), Field(min_length=1, max_length=NAME_MAX)]
Reason = Annotated[str, AfterValidator(_multi_line), Field(max_length=REASON_MAX)]
RequiredReason = Annotated[str, AfterValidator(_multi_line), Field(min_length=1, max_length=REASON_MAX)]
CommentText = Annotated[str, AfterValidator(_multi_line), Field(min_length=1, max_length=COMMENT_MAX)]
