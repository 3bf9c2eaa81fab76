"""Large values as the embedded databases store them: compressed with Zstandard at level 1.

A version's event carries its text twice (the body and its articles), and the registry keeps the
event in its outbox, the embedded log keeps it again, and the document's row holds the text once
more: three copies of ~14 KB a version before any index. Level 1 brings each to about a quarter
for a tenth of a millisecond (zlib at level 1 packed the same events no smaller in twice the time),
and SQLite then writes a page where it wrote four. PostgreSQL compresses such values by itself
(TOAST), so its stores keep them as given.

Each table says per row whether a value is packed, so rows written before stay readable as they are.
"""

from __future__ import annotations

import cramjam

LEVEL = 1
# Below this a value is kept as given: the frame's own header would eat most of what it saves.
SMALL = 256


def pack(value: bytes) -> tuple[bytes, bool]:
    """The bytes to store and whether they are packed."""
    if len(value) < SMALL:
        return value, False
    return bytes(cramjam.zstd.compress(value, level=LEVEL)), True


def unpack(stored: bytes, packed: object) -> bytes:
    """The value `pack` was given, from what it returned (`packed` as stored: a flag or 0/1)."""
    return bytes(cramjam.zstd.decompress(stored)) if packed else stored


def pack_text(text: str) -> bytes:
    """A JSON text kept as a packed BLOB: a column whose older rows hold it as TEXT tells them apart
    by type alone."""
    return bytes(cramjam.zstd.compress(text.encode(), level=LEVEL))


def unpack_text(stored: str | bytes) -> str | bytes:
    """What `pack_text` was given, or the text of a row written before it (TEXT comes back as str)."""
    if isinstance(stored, str):
        return stored
    return bytes(cramjam.zstd.decompress(stored))
