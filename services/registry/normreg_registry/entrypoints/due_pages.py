"""ListDueFilings' page tokens: where a page ended is the last filing's place in the store's order of
unmet obligations, (due date, document, version, recipient), so the next page is read from the store
after it. Sizes as the API states them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from normreg_common.errors import InvalidArgument
from normreg_common.paging import KeyCursor, PageTokens

from normreg_registry.application.ports import UNFILED_START, UnfiledKey

# 0 (not sent) and above the maximum as registry_service.proto says.
DEFAULT = 500
MAXIMUM = 1000
# A recipient is a body's name: far longer than any there is (a token is written for any name a
# page can end on), and the token still bounded (a name of 1000 CJK characters fits in 8 KiB).
_KEY = re.compile(r"(\d{4}-\d{2}-\d{2})/([a-z0-9][a-z0-9-]{0,62})/([1-9][0-9]{0,8})/(.{0,1000})", re.S)
_TOKENS: PageTokens[str] = PageTokens("registry.dueFilings", KeyCursor(_KEY), max_length=8192)


def decode(token: str, query: Mapping[str, Any]) -> UnfiledKey:
    """Where the page starts: after the key the token holds, or at the first obligation."""
    text = _TOKENS.decode(token, query)
    if text is None:
        return UNFILED_START
    match = _KEY.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        return (dt.date.fromisoformat(match[1]), match[2], int(match[3]), match[4])
    except ValueError:
        raise InvalidArgument("page_token", "not a page token issued for this list; start without one") from None


def encode(key: UnfiledKey, query: Mapping[str, Any]) -> str:
    due, document, version, recipient = key
    return _TOKENS.encode(f"{due.isoformat()}/{document}/{version}/{recipient}", query)
