"""Review identifiers, derived from what is reviewed so a redelivered request never makes two.

>>> review_id("3f2a9c", 2, 1)
'3f2a9c-v2-r1'
>>> len(review_id("d" * 63, 1, 1)) <= 63
True
"""

from __future__ import annotations

import hashlib
import re

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")
_ID_MAX = 63


def review_id(document_id: str, version: int, review_round: int) -> str:
    if not ID_PATTERN.match(document_id):
        raise ValueError(f"not a document id: {document_id!r}")
    suffix = f"-v{version}-r{review_round}"
    if len(document_id) + len(suffix) <= _ID_MAX:
        return document_id + suffix
    # Too long to spell out: keep a readable prefix and let a hash of the whole keep it unique.
    digest = hashlib.sha256(f"{document_id}{suffix}".encode()).hexdigest()[:12]
    head = document_id[: _ID_MAX - len(suffix) - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}{suffix}"
