"""Opaque page tokens: an offset bound to the request it came from.

A token carries the offset of the next page and a fingerprint of the request (everything but the
page size and token), so a token replayed with another query is refused instead of paging through
the wrong result list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from normreg_common.errors import InvalidArgument
from normreg_common.events import canonical_json

# Deep pages cost a backend more than they are worth; Elasticsearch refuses beyond 10,000.
MAX_OFFSET = 9_900  # plus a page of at most 100: within max_result_window
_PREFIX = "p1."


def fingerprint(request: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(request).encode()).hexdigest()[:16]


def encode(offset: int, request_fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "f": request_fingerprint}, separators=(",", ":")).encode()
    return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, request_fingerprint: str, field: str = "page_token") -> int:
    """The offset a token stands for; 0 for no token."""
    if not token:
        return 0
    invalid = InvalidArgument(field, "not a page token issued for this request")
    if not token.startswith(_PREFIX) or len(token) > 200:
        raise invalid
    body = token[len(_PREFIX) :]
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(data, dict) or data.get("f") != request_fingerprint:
        raise invalid
    offset = data.get("o")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise invalid
    return offset


def next_token(offset: int, size: int, total: int, request_fingerprint: str) -> str:
    following = offset + size
    if following >= total or following > MAX_OFFSET:
        return ""
    return encode(following, request_fingerprint)
