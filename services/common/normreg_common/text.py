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


# Characters that print as nothing (or reorder what is around them): two names that differ only by
# them look identical to a reader, so no name, number or other identifier may carry one. Unicode
# categories Cc, Cf (zero-width, bidi controls, BOM, soft hyphen), Cs, Co, Cn, Zl, Zp; plus the
# letters and marks that render blank (Hangul fillers, variation selectors, Braille blank).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_INVISIBLE_OTHERS = re.compile("[\u115f\u1160\u2800\u3164\uffa0\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_SPACES = re.compile(r"\s+")


def invisible_characters(value: str) -> list[str]:
    """The code points of `value` that a reader cannot see, as U+XXXX."""
    # str.isprintable is False for every character of the invisible categories (and for Zs other
    # than the ASCII space), so a printable text needs only the few blank letters checked, in C.
    if value.isprintable() and not _INVISIBLE_OTHERS.search(value):
        return []
    return [
        f"U+{ord(ch):04X}"
        for ch in value
        if unicodedata.category(ch) in _INVISIBLE_CATEGORIES or _INVISIBLE_OTHERS.match(ch)
    ]


def identifier(value: str) -> str:
    """NFC, every run of white space (ideographic and no-break spaces included) one ASCII space,
    trimmed; refused when a character in it is invisible."""
    value = _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()
    hidden = invisible_characters(value)
    if hidden:
        raise ValueError(f"invisible characters are not allowed in names ({', '.join(sorted(set(hidden)))})")
    return value


def visible_only(value: str) -> str:
    """`value` without the characters `invisible_characters` names."""
    return "".join(ch for ch in value if not invisible_characters(ch))


def blank(value: str) -> bool:
    """Nothing in `value` can be seen: white space, or only invisible characters (U+200B, U+202E …),
    which would otherwise pass for a reason, an answer or a response that says something."""
    return not visible_only(value).strip()


def says_something(value: str) -> str:
    """A text that is required: refused when it is `blank`."""
    if blank(value):
        raise ValueError("must say something: it is blank or holds only invisible characters")
    return value


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

Title = Annotated[
    str, AfterValidator(_single_line), AfterValidator(identifier), Field(min_length=1, max_length=TITLE_MAX)
]
Body = Annotated[str, AfterValidator(_multi_line), Field(max_length=BODY_MAX)]
# Short single-line fields name something (a body, an organisation, a person, a meeting, a number):
# they follow the identifier rule.
ShortText = Annotated[str, AfterValidator(_single_line), AfterValidator(identifier), Field(max_length=NAME_MAX)]
RequiredShortText = Annotated[
    str, AfterValidator(_single_line), AfterValidator(identifier), Field(min_length=1, max_length=NAME_MAX)
]
# What someone types into a search box: invisible characters are dropped, not refused.
SearchText = Annotated[str, AfterValidator(_single_line), AfterValidator(visible_only), Field(max_length=NAME_MAX)]
Reason = Annotated[str, AfterValidator(_multi_line), Field(max_length=REASON_MAX)]
RequiredReason = Annotated[
    str, AfterValidator(_multi_line), AfterValidator(says_something), Field(min_length=1, max_length=REASON_MAX)
]
CommentText = Annotated[
    str, AfterValidator(_multi_line), AfterValidator(says_something), Field(min_length=1, max_length=COMMENT_MAX)
]
