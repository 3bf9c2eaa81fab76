"""What stands between a form and CreateComment: a CSRF check, a per-client rate limit, size limits.

CSRF uses a double-submitted cookie: a random value in a SameSite=Strict, HttpOnly cookie and the
same value in the form. A page on another site can neither read the cookie nor make the browser send
it, so it cannot produce a matching pair. No server-side secret is needed, so any replica of the
portal accepts a form that another one served.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
import unicodedata

from normreg_common.ratelimit import RateLimiter as RateLimiter
from normreg_common.text import visible_only
from starlette.requests import ClientDisconnect, Request

from normreg_portal.errors import Abandoned, TooLarge, TooSlowToSend

CSRF_COOKIE = "normreg_csrf"
CSRF_FIELD = "csrf_token"
# A whole form post; the comment itself is bounded by COMMENT_MAX characters.
FORM_MAX_BYTES = 64 * 1024
# How long a form post's body may take to arrive. A phone on a poor line sends 64 KB in a few
# seconds; a client that stops sending part way holds its handler no longer than this.
FORM_BODY_TIMEOUT_S = 30.0
COMMENT_MAX = 5000
COMMENT_MIN = 2
# A review suggestion's one-line fields: the provisions it names, and the requester's contact.
LINE_MAX = 200


async def form_body(request: Request) -> bytes:
    """The body of a form post, read before anything else is done with it: refused when larger than
    FORM_MAX_BYTES (as declared, or as it arrives), when it stops arriving, or when its client leaves
    before sending all it declared (nothing is then answered to anyone, and nothing is stored)."""
    too_large = TooLarge(f"提交的内容超过 {FORM_MAX_BYTES // 1024} KB，请精简后再提交。")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > FORM_MAX_BYTES:
        raise too_large
    body = bytearray()
    try:
        async with asyncio.timeout(FORM_BODY_TIMEOUT_S):
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > FORM_MAX_BYTES:
                    raise too_large
    except TimeoutError:
        raise TooSlowToSend() from None
    except ClientDisconnect:
        raise Abandoned() from None
    return bytes(body)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(cookie: str | None, submitted: str | None) -> bool:
    if not cookie or not submitted or len(cookie) > 100:
        return False
    return hmac.compare_digest(cookie.encode(), submitted.encode())


_ANY_SPACE = re.compile(r"\s")


def clean_line(text: str) -> str:
    """One line: NFC, without the characters a reader cannot see (line breaks, controls, the
    variation selector of an emoji, unassigned code points: what the services refuse in a name),
    spaces trimmed."""
    # A line break between two words still parts them: white space of every kind becomes a space.
    return visible_only(_ANY_SPACE.sub(" ", unicodedata.normalize("NFC", text))).strip()


def clean_comment(text: str) -> tuple[str, str]:
    """(cleaned text, error message or ""). Line breaks and tabs stay; other control characters go."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs", "Co"))
    text = text.strip()
    if len(text) < COMMENT_MIN:
        return text, "请填写意见内容（至少 2 个字）。"
    if len(text) > COMMENT_MAX:
        return text, f"意见最多 {COMMENT_MAX} 字，当前 {len(text)} 字，请精简后再提交。"
    return text, ""
