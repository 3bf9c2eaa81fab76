"""Opaque page tokens: where the last page ended, bound to the filters it was asked with."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from normreg_common.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size", "must not be negative")
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    # Above the maximum is coerced, not refused (AIP-158).
    return min(requested, MAX_PAGE_SIZE)


def fingerprint(*filters: object) -> str:
    return hashlib.sha256(json.dumps([str(f) for f in filters]).encode()).hexdigest()[:16]


def encode(after: int, filters: str) -> str:
    raw = json.dumps({"after": after, "filters": filters}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, filters: str) -> int:
    """The position after which the next page starts; 0 for the first page."""
    if not token:
        return 0
    try:
        content = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after = content["after"]
        asked_with = content["filters"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidArgument("page_token", "not a page token from this API; start without one") from None
    if not isinstance(after, int) or after < 0:
        raise InvalidArgument("page_token", "not a page token from this API; start without one")
    if asked_with != filters:
        raise InvalidArgument("page_token", "the filters changed since this page token was issued; start again")
    return after
