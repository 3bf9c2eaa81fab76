"""An in-memory filing store for tests: the same port and contract as SQLite and PostgreSQL, in
dictionaries. A unit of work that raises is rolled back to the state before it began; `outbox` holds
what a relay would publish (`sent` marks how many of them a relay has; none unless a test says so)."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from normreg_common.eventlog.port import Delivery, Record

from normreg_filing.application.ports import FilingRepository, OutboxEntry, UnitOfWork
from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.suggestions import ReviewSuggestion, of_document
from normreg_filing.domain.supervision import SeenPromulgation, SubordinateReport, subordinate_report

T = TypeVar("T")


@dataclass
class _Tables:
    # Insertion order of the dictionaries is arrival order.
    filings: dict[str, ReceivedFiling] = field(default_factory=dict)
    suggestions: dict[str, ReviewSuggestion] = field(default_factory=dict)
    seen: dict[tuple[str, str, str], SeenPromulgation] = field(default_factory=dict)
    outbox: list[Record] = field(default_factory=list)
    sent: int = 0
    sequences: dict[tuple[str, str], int] = field(default_factory=dict)
    positions: dict[tuple[str, str, int], int] = field(default_factory=dict)
    states: dict[tuple[str, str], dict[int, str]] = field(default_factory=dict)
    kinds: dict[tuple[str, str], str] = field(default_factory=dict)


class InMemoryUnitOfWork(UnitOfWork):
    def __init__(self) -> None:
        self.tables = _Tables()

    @property
    def outbox(self) -> list[Record]:
        return self.tables.outbox

    async def write(self, work: Callable[[FilingRepository], T]) -> T:
        before = copy.deepcopy(self.tables)
        try:
            return work(InMemoryRepository(self.tables))
        except BaseException:
            self.tables = before
            raise

    async def read(self, work: Callable[[FilingRepository], T]) -> T:
        return work(InMemoryRepository(copy.deepcopy(self.tables)))


def _filing(f: ReceivedFiling) -> ReceivedFiling:
    # Callers mutate what they load; what is stored changes only through save_filing.
    return copy.deepcopy(replace(f, changes=[]))


class InMemoryRepository(FilingRepository):
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def filing(self, id: str) -> ReceivedFiling | None:
        stored = self._t.filings.get(id)
        return None if stored is None else _filing(stored)

    def filing_of(self, sender: str, document: str, recipient: str) -> ReceivedFiling | None:
        for f in self._t.filings.values():
            if (f.sender, f.document, f.recipient) == (sender, document, recipient):
                return _filing(f)
        return None

    def save_filing(self, f: ReceivedFiling, events: Sequence[Record] = ()) -> None:
        key = (f.sender, f.document, f.recipient)
        for other in self._t.filings.values():
            if other.id != f.id and (other.sender, other.document, other.recipient) == key:
                raise ValueError(f"{f.document} already has a filing with {f.recipient}: {other.name}")
        self._t.filings[f.id] = _filing(f)
        self._t.outbox.extend(events)

    def filings(self, sender: str = "", state: str = "") -> list[ReceivedFiling]:
        return [
            _filing(f)
            for f in self._t.filings.values()
            if (not sender or f.sender == sender) and (not state or f.state.value == state)
        ]

    def filings_after(
        self, after: int, limit: int, *, sender: str = "", state: str = "", recipient: str = ""
    ) -> list[tuple[int, ReceivedFiling]]:
        # Arrival order is the dictionary's: an update keeps a filing's place, as its row's does.
        found = [
            (pos, _filing(f))
            for pos, f in enumerate(self._t.filings.values(), start=1)
            if pos > after
            and (not sender or f.sender == sender)
            and (not state or f.state.value == state)
            and (not recipient or f.recipient == recipient)
        ]
        return found[:limit]

    def outbox(self, after: int, limit: int) -> list[OutboxEntry]:
        rows = list(enumerate(self._t.outbox, start=1))[after : after + limit]
        return [OutboxEntry(i, r, i <= self._t.sent) for i, r in rows]

    def suggestion(self, id: str) -> ReviewSuggestion | None:
        stored = self._t.suggestions.get(id)
        return None if stored is None else copy.deepcopy(stored)

    def save_suggestion(self, s: ReviewSuggestion) -> None:
        self._t.suggestions[s.id] = copy.deepcopy(s)

    def suggestions(self, sender: str = "") -> list[ReviewSuggestion]:
        return [copy.deepcopy(s) for s in self._t.suggestions.values() if not sender or s.sender == sender]

    def suggestions_after(self, after: int, limit: int, *, sender: str = "") -> list[tuple[int, ReviewSuggestion]]:
        found = [
            (pos, copy.deepcopy(s))
            for pos, s in enumerate(self._t.suggestions.values(), start=1)
            if pos > after and (not sender or s.sender == sender)
        ]
        return found[:limit]

    def received_or_owed(self, sender: str, document: str, version: int | None) -> bool:
        names = {f.document for f in self._t.filings.values() if f.sender == sender} | {
            key[1] for key in self._t.seen if key[0] == sender
        }
        return any(of_document(name, document, version) for name in names)

    def set_version_state(self, sender: str, document: str, version: int, state: str, kind: str = "") -> None:
        self._t.states.setdefault((sender, document), {})[version] = state
        if kind:
            self._t.kinds[(sender, document)] = kind

    def version_states(self, sender: str, document: str) -> dict[int, str]:
        return dict(self._t.states.get((sender, document), {}))

    def version_kind(self, sender: str, document: str) -> str:
        return self._t.kinds.get((sender, document), "")

    def see(self, p: SeenPromulgation) -> None:
        self._t.seen.setdefault((p.sender, p.document, p.recipient), p)

    def seen(self, sender: str = "") -> list[SeenPromulgation]:
        return [p for key, p in sorted(self._t.seen.items()) if not sender or key[0] == sender]

    def missing_after(
        self,
        after: int,
        limit: int,
        *,
        sender: str = "",
        due_from: dt.date | None = None,
        due_until: dt.date | None = None,
    ) -> list[tuple[int, SeenPromulgation]] | None:
        # A sighting's position is its place in insertion order: sightings are never removed.
        positions = list(enumerate(self._t.seen.values(), start=1))
        if after and after > len(positions):
            return None
        arrived = {(f.sender, f.document, f.recipient) for f in self._t.filings.values()}

        def key(p: SeenPromulgation) -> tuple[dt.date, str, str, str]:
            return (p.due_date, p.sender, p.document, p.recipient)

        start = key(positions[after - 1][1]) if after else None
        found = sorted(
            (
                (pos, p)
                for pos, p in positions
                if (p.sender, p.document, p.recipient) not in arrived
                and (not sender or p.sender == sender)
                and (due_from is None or p.due_date >= due_from)
                and (due_until is None or p.due_date <= due_until)
                and (start is None or key(p) > start)
            ),
            key=lambda found: key(found[1]),
        )
        return found[:limit]

    def report(self, sender: str, year: int) -> SubordinateReport:
        return subordinate_report(
            sender, year, self._t.seen.values(), self._t.filings.values(), self._t.suggestions.values()
        )

    def senders(self) -> list[str]:
        return sorted(
            {key[0] for key in self._t.seen}
            | {f.sender for f in self._t.filings.values()}
            | {s.sender for s in self._t.suggestions.values()}
        )

    def accept_sequence(self, source: str, subject: str, sequence: int) -> bool:
        applied = self._t.sequences.get((source, subject))
        if applied is not None and applied >= sequence:
            return False
        self._t.sequences[(source, subject)] = sequence
        return True

    def save_positions(self, group: str, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            key = (group, d.topic, d.partition)
            self._t.positions[key] = max(d.offset, self._t.positions.get(key, -1))

    def position(self, group: str, topic: str, partition: int) -> int | None:
        return self._t.positions.get((group, topic, partition))
