"""Append-only, tamper-evident history: each entry carries the hash of the one before it, the
document's state must be the one its history ends in, and signed checkpoints of the head, kept by a
witness outside the registry, pin what was written (see normreg_common.checkpoints)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Protocol

from normreg_common.checkpoints import Checkpoint
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
        # Every field but the hash, as dataclasses.asdict gives them (they are all flat), without its
        # recursive copy: this runs at least once per write.
        body = {name: getattr(self, name) for name in _HASHED}
        return hashlib.sha256(canonical_json(body).encode()).hexdigest()

    def sealed(self) -> HistoryEntry:
        return replace(self, hash=self.computed_hash())


_HASHED = tuple(f.name for f in fields(HistoryEntry) if f.name != "hash")


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


class _Version(Protocol):
    @property
    def number(self) -> int: ...

    @property
    def title(self) -> str: ...

    @property
    def body(self) -> str: ...

    @property
    def state(self) -> Any: ...


class _Document(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def sequence(self) -> int: ...

    @property
    def issuing_body(self) -> str: ...

    @property
    def versions(self) -> Sequence[_Version]: ...


class _Change(Protocol):
    @property
    def sequence(self) -> int: ...

    @property
    def version(self) -> int: ...

    @property
    def action(self) -> str: ...

    @property
    def actor(self) -> str: ...

    @property
    def at(self) -> dt.datetime: ...

    @property
    def from_state(self) -> Any: ...

    @property
    def to_state(self) -> Any: ...

    @property
    def reason(self) -> str: ...


def entry_for(document: str, change: _Change, previous_hash: str) -> HistoryEntry:
    """The sealed entry that records `change` after the entry whose hash is `previous_hash`.

    Every store appends exactly this, so the registry can sign the head before it is written."""
    return HistoryEntry(
        document=document,
        sequence=change.sequence,
        version=change.version,
        action=change.action,
        actor=change.actor,
        time=change.at.isoformat(),
        from_state=change.from_state.value if change.from_state else "",
        to_state=change.to_state.value if change.to_state else "",
        reason=change.reason,
        previous_hash=previous_hash,
    ).sealed()


def document_digest(doc: _Document) -> str:
    """What a history entry must account for: every version's state, title and text."""
    versions = [
        [v.number, str(getattr(v.state, "value", v.state)), v.title, hashlib.sha256(v.body.encode()).hexdigest()]
        for v in doc.versions
    ]
    return hashlib.sha256(canonical_json([doc.name, doc.issuing_body, versions]).encode()).hexdigest()


def state_problems(doc: _Document, entries: list[HistoryEntry]) -> list[str]:
    """Where the document's current state is not the one its history ends in."""
    problems: list[str] = []
    last = entries[-1].sequence if entries else 0
    if doc.sequence != last:
        problems.append(f"{doc.name}: the document is at change {doc.sequence} but its history ends at entry {last}")
    ended_in: dict[int, str] = {}
    for entry in entries:
        if entry.to_state:
            ended_in[entry.version] = entry.to_state
    for v in doc.versions:
        state = str(getattr(v.state, "value", v.state))
        recorded = ended_in.get(v.number)
        if recorded is None:
            problems.append(f"{doc.name}: version {v.number} is {state} but no history entry records it")
        elif recorded != state:
            problems.append(
                f"{doc.name}: version {v.number} is {state} but its history ends in {recorded} "
                "(changed without an entry)"
            )
    return problems


def witness_problems(doc: _Document, entries: list[HistoryEntry], witnessed: Checkpoint) -> list[str]:
    """Where the stored history or document departs from what a witness saw."""
    by_sequence = {e.sequence: e for e in entries}
    last = entries[-1].sequence if entries else 0
    name = doc.name
    if witnessed.sequence > last:
        return [f"{name}: the witness saw entry {witnessed.sequence} but the history ends at {last} (entries deleted)"]
    entry = by_sequence.get(witnessed.sequence)
    if entry is None or entry.hash != witnessed.head:
        return [f"{name}: entry {witnessed.sequence} is not the one the witness saw (history rewritten)"]
    if witnessed.sequence == last and document_digest(doc) != witnessed.digest:
        return [f"{name}: its state or text changed since entry {last} without a history entry"]
    return []
