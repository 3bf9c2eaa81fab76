"""Signed checkpoints of a document's history, published outside the registry's database.

A checkpoint says: after entry `sequence`, the history of `document` ends in `head` (that entry's
hash) and the document's state and text digest to `digest`. The registry signs it (HMAC-SHA256
under a key kept apart from the database), puts it on the event it publishes with that entry, and
a witness that the registry cannot write to keeps every checkpoint it sees. Whoever alters the
registry's database afterwards (deletes the newest entries, rewrites an entry and recomputes the
chain, changes a state or a text without an entry) cannot alter what was witnessed; `normreg
verify` hands the witnessed checkpoints back to the registry, which checks its database against
them. Standard library only.

>>> signer = CheckpointSigner(b"k" * 32)
>>> token = signer.sign(Checkpoint("documents/a", 3, "ab" * 32, "cd" * 32))
>>> signer.open(token)
Checkpoint(document='documents/a', sequence=3, head='abab...', digest='cdcd...')
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

VERSION = "c1"
TOKEN_MAX = 600


@dataclass(frozen=True)
class Checkpoint:
    document: str
    sequence: int
    head: str
    digest: str

    def __repr__(self) -> str:
        return (
            f"Checkpoint(document={self.document!r}, sequence={self.sequence}, "
            f"head={self.head[:4] + '...'!r}, digest={self.digest[:4] + '...'!r})"
        )


class InvalidCheckpoint(ValueError):
    pass


class CheckpointSigner:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the checkpoint key must be at least 32 bytes")
        self._key = key

    def sign(self, checkpoint: Checkpoint) -> str:
        payload = json.dumps(
            [checkpoint.document, checkpoint.sequence, checkpoint.head, checkpoint.digest],
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{VERSION}.{body}.{self._mac(body)}"

    def open(self, token: str) -> Checkpoint:
        """The checkpoint a token carries, or InvalidCheckpoint when it is malformed or not ours."""
        parts = token.split(".") if len(token) <= TOKEN_MAX else []
        if len(parts) != 3 or parts[0] != VERSION:
            raise InvalidCheckpoint("not a checkpoint")
        _, body, mac = parts
        if not hmac.compare_digest(mac, self._mac(body)):
            raise InvalidCheckpoint("not signed by this registry's checkpoint key")
        try:
            document, sequence, head, digest = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (binascii.Error, ValueError, TypeError):
            raise InvalidCheckpoint("not a checkpoint") from None
        if not (isinstance(document, str) and isinstance(sequence, int) and isinstance(head, str)):
            raise InvalidCheckpoint("not a checkpoint")
        return Checkpoint(document, sequence, head, str(digest))

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, f"{VERSION}.{body}".encode(), hashlib.sha256).hexdigest()
