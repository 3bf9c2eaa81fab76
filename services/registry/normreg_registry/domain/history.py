"""Append-only, tamper-evident history: each entry carries the hash of the one before it."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

from normreg_common.events import canonical_json

GENESIS = "0" * 64


@dataclass(frozen=True)
class HistoryEntry:
    document: str
    sequence: int
    version: int
    action: str
    actor: str
    time: str
    from_state: str
    to_state: str
    reason: str
    previous_hash: str
    hash: str = ""

    def computed_hash(self) -> str:
        body = asdict(self)
        body.pop("hash")
        return hashlib.sha256(canonical_json(body).encode()).hexdigest()

    def sealed(self) -> HistoryEntry:
        return HistoryEntry(**{**asdict(self), "hash": self.computed_hash()})


def verify_chain(document: str, entries: list[HistoryEntry]) -> list[str]:
    """Every problem found, in order; [] means the history is intact."""
    problems: list[str] = []
    previous = GENESIS
    for expected_sequence, entry in enumerate(entries, start=1):
        if entry.sequence != expected_sequence:
            problems.append(f"{document}: entry {expected_sequence} is missing (found sequence {entry.sequence})")
            expected_sequence = entry.sequence
        if entry.previous_hash != previous:
            problems.append(f"{document}: entry {entry.sequence} does not link to the entry before it")
        if entry.computed_hash() != entry.hash:
            problems.append(f"{document}: entry {entry.sequence} was altered (hash mismatch)")
        previous = entry.hash
    return problems
