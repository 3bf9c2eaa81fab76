"""Page tokens, one way for every List method: opaque, typed, bound to the query they page through.

A token carries which list it pages (`kind`), where the last page ended (a typed cursor: a bounded
integer position or a resource id) and a fingerprint of the query (every filter, not the page
size). Decoding checks all three, so a forged token (a 30-digit cursor, a negative offset, text
where a number belongs, a token of another list or another query) is INVALID_ARGUMENT on
`page_token`, never an error deeper down.

>>> tokens = PageTokens("reviews", IntCursor(maximum=10**6))
>>> token = tokens.encode(42, {"state": "OPEN"})
>>> tokens.decode(token, {"state": "OPEN"})
42
>>> tokens.decode("", {"state": "OPEN"}) is None
True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from normreg_common.errors import InvalidArgument

TOKEN_MAX = 512
_PREFIX = "t1."
# What the largest SQLite INTEGER can hold; no position of ours comes near it. A row id is compared
# (id > ?), never added to, so any id the database could hold is a cursor.
SQL_INT_MAX = 2**63 - 1
# An offset is added to (the offset and a page, as a LIMIT): bounded far below SQL_INT_MAX, so that a
# forged one is refused at the token instead of overflowing the database's integer after the sum.
OFFSET_MAX = 2**31 - 1

C = TypeVar("C", int, str)
T = TypeVar("T")


@dataclass(frozen=True)
class IntCursor:
    """A position: a row id (maximum SQL_INT_MAX) or an offset (maximum OFFSET_MAX), 0..maximum."""

    maximum: int = SQL_INT_MAX

    def check(self, value: object) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= self.maximum:
            return value
        return None


_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")


@dataclass(frozen=True)
class IdCursor:
    """The id of the last resource of the page (`documents/{id}`' id)."""

    def check(self, value: object) -> str | None:
        if isinstance(value, str) and _ID.match(value):
            return value
        return None


@dataclass(frozen=True)
class KeyCursor:
    """A listing's sort key, written as one string (`pattern` matches it whole): where a page ended
    in a listing ordered by several columns. The caller parses it; what fails to parse is refused
    as the token is."""

    pattern: re.Pattern[str]

    def check(self, value: object) -> str | None:
        if isinstance(value, str) and self.pattern.fullmatch(value):
            return value
        return None


def fingerprint(query: Mapping[str, Any]) -> str:
    canonical = json.dumps({k: str(v) for k, v in sorted(query.items())}, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class PageTokens(Generic[C]):
    def __init__(self, kind: str, cursor: IntCursor | IdCursor | KeyCursor, *, max_length: int = TOKEN_MAX) -> None:
        """`max_length`: the longest token decoded; a KeyCursor that may hold names needs more."""
        self.kind = kind
        self._cursor = cursor
        self._max_length = max_length

    def encode(self, position: C, query: Mapping[str, Any]) -> str:
        if self._cursor.check(position) is None:
            raise ValueError(f"{position!r} is not a cursor of {self.kind}")
        raw = json.dumps({"k": self.kind, "p": position, "q": fingerprint(query)}, separators=(",", ":"))
        return _PREFIX + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, token: str, query: Mapping[str, Any], field: str = "page_token") -> C | None:
        """Where the next page starts; None for the first page (no token)."""
        if not token:
            return None
        invalid = InvalidArgument(field, "not a page token issued for this list; start without one")
        if len(token) > self._max_length or not token.startswith(_PREFIX):
            raise invalid
        body = token[len(_PREFIX) :]
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
            raise invalid from None
        if not isinstance(data, dict) or data.get("k") != self.kind:
            raise invalid
        position = self._cursor.check(data.get("p"))
        if position is None:
            raise invalid
        if data.get("q") != fingerprint(query):
            raise InvalidArgument(field, "the query changed since this page token was issued; start again")
        return position  # type: ignore[return-value]


def page_size(requested: int, *, default: int, maximum: int, field: str = "page_size") -> int:
    """0 means the default; above the maximum is brought down to it (AIP-158); negative is refused."""
    if requested < 0:
        raise InvalidArgument(field, "must not be negative")
    return min(requested or default, maximum)


# What one page may carry, whatever its count: well under the 8 MiB a reply may weigh.
PAGE_BYTES = 4 * 1024 * 1024


def fits(items: Sequence[T], size_of: Callable[[T], int], budget: int = PAGE_BYTES) -> int:
    """How many of `items`, from the first, fit in `budget` bytes; always at least one, so a page
    never comes back empty while more remain (one item is bounded by the body size limit)."""
    total = 0
    for count, item in enumerate(items):
        total += size_of(item)
        if total > budget and count > 0:
            return count
    return len(items)
