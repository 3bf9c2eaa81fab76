"""Opaque page tokens of the public API: an offset bound to the request it came from, through the
one page-token module of normreg (normreg_common.paging).

The fingerprint covers everything but the page size and token, so a token replayed with another
query is refused instead of paging through the wrong result list.
"""

from __future__ import annotations

from typing import Any

from normreg_common import paging
from normreg_common.events import canonical_json

# Deep pages cost a backend more than they are worth; Elasticsearch refuses beyond 10,000.
MAX_OFFSET = 9_900  # plus a page of at most 100: within max_result_window
_PAGES: paging.PageTokens[int] = paging.PageTokens("search.results", paging.IntCursor(maximum=MAX_OFFSET))


def fingerprint(request: dict[str, Any]) -> str:
    return canonical_json(request)


def encode(offset: int, request_fingerprint: str) -> str:
    return _PAGES.encode(offset, {"request": request_fingerprint})


def decode(token: str, request_fingerprint: str, field: str = "page_token") -> int:
    """The offset a token stands for; 0 for no token."""
    return _PAGES.decode(token, {"request": request_fingerprint}, field) or 0


def next_token(offset: int, size: int, total: int, request_fingerprint: str) -> str:
    following = offset + size
    if following >= total or following > MAX_OFFSET:
        return ""
    return encode(following, request_fingerprint)
