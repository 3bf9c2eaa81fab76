"""What stands between a form and CreateComment: a CSRF check, a per-client rate limit, size limits.

CSRF uses a double-submitted cookie: a random value in a SameSite=Strict, HttpOnly cookie and the
same value in the form. A page on another site can neither read the cookie nor make the browser send
it, so it cannot produce a matching pair. No server-side secret is needed, so any replica of the
portal accepts a form that another one served.
"""

from __future__ import annotations

import hmac
import secrets
import unicodedata

from normreg_common.ratelimit import RateLimiter as RateLimiter

CSRF_COOKIE = "normreg_csrf"
CSRF_FIELD = "csrf_token"
# A whole form post; the comment itself is bounded by COMMENT_MAX characters.
FORM_MAX_BYTES = 64 * 1024
COMMENT_MAX = 5000
COMMENT_MIN = 2
# A review suggestion's one-line fields: the provisions it names, and the requester's contact.
LINE_MAX = 200


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(cookie: str | None, submitted: str | None) -> bool:
    if not cookie or not submitted or len(cookie) > 100:
        return False
    return hmac.compare_digest(cookie.encode(), submitted.encode())


def clean_line(text: str) -> str:
    """One line: NFC, control characters (line breaks included) removed, spaces trimmed."""
    text = unicodedata.normalize("NFC", text)
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cf")).strip()


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
