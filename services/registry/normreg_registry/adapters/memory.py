"""An in-memory registry store for tests: the same port and contract as SQLite, in dictionaries.

Aggregates are stored serialised, as a database would, so a use case that fails half-way cannot leave
a mutated object behind; a unit that raises is rolled back to the state before it began."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from normreg_common.errors import AlreadyExists
from normreg_common.eventlog.port import Delivery, Record
from normreg_registry.application.ports import (
    DocumentFilter,
    RegistryRepository,
    StoredComment,
    UnfiledKey,
    UnfiledObligation,
    UnitOfWork,
)
from normreg_registry.domain.cleanup import Campaign
from normreg_registry.domain.history import GENESIS, HistoryEntry, entry_for
from normreg_registry.domain.model import Change, Document
from pydantic import TypeAdapter

T = TypeVar("T")

_documents = TypeAdapter(Document)
_campaigns = TypeAdapter(Campaign)


@dataclass
class _Tables:
    documents: dict[str, bytes] = field(default_factory=dict)
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    # (type, document, version, event bytes) in log order: the outbox and the event store at once.
    events: list[tuple[str, str, int, bytes]] = field(default_factory=list)
    outbox: list[Record] = field(default_factory=list)
    idempotency: dict[tuple[str, str], str] = field(default_factory=dict)
    numbers: dict[str, tuple[str, int, int, str]] = field(default_factory=dict)
    registrations: dict[int, int] = field(default_factory=dict)
    comments: dict[int, tuple[str, StoredComment]] = field(default_factory=dict)
    campaigns: dict[str, bytes] = field(default_factory=dict)
    sequences: dict[tuple[str, str], int] = field(default_factory=dict)
    positions: dict[tuple[str, str, int], int] = field(default_factory=dict)
    clock: dict[str, dt.date] = field(default_factory=dict)
    unfiled: dict[str, list[UnfiledObligation]] = field(default_factory=dict)


class InMemoryUnitOfWork(UnitOfWork):
    def __init__(self) -> None:
        self.tables = _Tables()
        self.commits = 0

    async def write(self, work: Callable[[RegistryRepository], T]) -> T:
        before = copy.deepcopy(self.tables)
        try:
            result = work(InMemoryRepository(self.tables))
        except BaseException:
            self.tables = before
            raise
        self.commits += 1
        return result

    async def read(self, work: Callable[[RegistryRepository], T]) -> T:
        return work(InMemoryRepository(self.tables, read_only=True))


class InMemoryRepository(RegistryRepository):
    def __init__(self, tables: _Tables, *, read_only: bool = False) -> None:
        self._t = tables
        self._read_only = read_only

    def _writing(self) -> None:
        if self._read_only:
            raise RuntimeError("a read unit of work must not write")

    def schedule(self, doc_id: str, wake_on: dt.date | None, unfiled: Sequence[UnfiledObligation]) -> None:
        self._writing()
        self._t.clock[doc_id] = wake_on or dt.date.max
        self._t.unfiled[doc_id] = list(unfiled)

    def clock_due(self, today: dt.date, after: tuple[dt.date, str], limit: int) -> list[tuple[dt.date, str]]:
        return sorted((day, d) for d, day in self._t.clock.items() if day <= today and (day, d) > after)[:limit]

    def unfiled_after(self, until: dt.date, after: UnfiledKey, limit: int) -> list[UnfiledObligation]:
        found = [o for rows in self._t.unfiled.values() for o in rows if o.due <= until and o.key > after]
        return sorted(found, key=lambda o: o.key)[:limit]

    def unfiled_counts(self, today: dt.date) -> tuple[int, int]:
        rows = [o for rows in self._t.unfiled.values() for o in rows]
        return sum(1 for o in rows if o.due >= today), sum(1 for o in rows if o.due < today)

    def isolated(self, work: Callable[[], T]) -> T:
        before = copy.deepcopy(self._t)
        try:
            return work()
        except BaseException:
            for f in dataclasses.fields(self._t):
                setattr(self._t, f.name, getattr(before, f.name))
            raise

    def get(self, doc_id: str) -> Document | None:
        raw = self._t.documents.get(doc_id)
        return None if raw is None else _documents.validate_json(raw)

    def save(
        self,
        doc: Document,
        events: Sequence[tuple[Change, Record]],
        entries: Sequence[HistoryEntry] | None = None,
    ) -> None:
        self._writing()
        self._t.documents[doc.id] = _documents.dump_json(doc, exclude={"changes", "read_on"})
        chain = self._t.history.setdefault(doc.name, [])
        for i, (change, record) in enumerate(events):
            chain.append(
                entries[i] if entries is not None else entry_for(doc.name, change, chain[-1].hash if chain else GENESIS)
            )
            self._t.events.append((change.action, doc.name, change.version, record.value))
            self._t.outbox.append(record)

    def find(self, where: DocumentFilter, *, after: str, limit: int) -> Iterator[Document]:
        count = 0
        for doc_id in sorted(i for i in self._t.documents if i > after):
            if count == limit:
                return
            doc = self.get(doc_id)
            assert doc is not None
            if where.state and all(v.state.value != where.state for v in doc.versions):
                continue
            if where.kind and doc.kind.value != where.kind:
                continue
            if where.issuing_body and doc.issuing_body != where.issuing_body:
                continue
            if where.drafting_org and doc.drafting_org != where.drafting_org:
                continue
            count += 1
            yield doc

    def ids_with_states(self, states: Sequence[str]) -> list[str]:
        wanted = set(states)
        out = []
        for doc_id in sorted(self._t.documents):
            doc = self.get(doc_id)
            if doc is not None and any(v.state.value in wanted for v in doc.versions):
                out.append(doc_id)
        return out

    def all_ids(self) -> list[str]:
        return sorted(self._t.documents)

    def history(self, document: str) -> list[HistoryEntry]:
        return list(self._t.history.get(document, []))

    def events_of_types(self, types: Sequence[str]) -> Iterator[tuple[str, str, int, bytes]]:
        wanted = set(types)
        yield from (e for e in list(self._t.events) if e[0] in wanted)

    def remembered(self, scope: str, request_id: str) -> str | None:
        return self._t.idempotency.get((scope, request_id))

    def remember(self, scope: str, request_id: str, resource: str) -> None:
        self._writing()
        if (scope, request_id) in self._t.idempotency:
            raise AlreadyExists("REQUEST_ID_TAKEN", f"request {request_id} was already used")
        self._t.idempotency[(scope, request_id)] = resource

    def number_holder(self, printed: str) -> str | None:
        held = self._t.numbers.get(printed)
        return None if held is None else held[3]

    def highest_sequence(self, prefix: str, year: int) -> int:
        return max((s for p, y, s, _ in self._t.numbers.values() if p == prefix and y == year), default=0)

    def hold_number(self, printed: str, prefix: str, year: int, sequence: int, document: str) -> None:
        self._writing()
        if printed in self._t.numbers:
            raise AlreadyExists("UNIFORM_NUMBER_TAKEN", f"{printed} is already held; numbers are never reused")
        self._t.numbers[printed] = (prefix, year, sequence, document)

    def next_registration(self, year: int) -> int:
        self._writing()
        self._t.registrations[year] = self._t.registrations.get(year, 0) + 1
        return self._t.registrations[year]

    def add_comment(self, document: str, version: int, text: str, at: dt.datetime) -> int:
        self._writing()
        comment_id = max(self._t.comments, default=0) + 1
        self._t.comments[comment_id] = (document, StoredComment(comment_id, version, text, at.isoformat(), ""))
        return comment_id

    def comment_count(self, document: str, version: int) -> int:
        return sum(1 for d, c in self._t.comments.values() if d == document and c.version == version)

    def publish(self, record: Record) -> None:
        self._writing()
        self._t.outbox.append(record)

    def comments(self, document: str, after_id: int, limit: int, version: int | None = None) -> list[StoredComment]:
        found = [
            c
            for i, (d, c) in sorted(self._t.comments.items())
            if d == document and i > after_id and version in (None, c.version)
        ]
        return found[:limit]

    def comment(self, document: str, version: int, comment_id: int) -> StoredComment | None:
        stored = self._t.comments.get(comment_id)
        if stored is None or stored[0] != document or stored[1].version != version:
            return None
        return stored[1]

    def reply(self, comment_id: int, reply: str) -> None:
        self._writing()
        document, c = self._t.comments[comment_id]
        self._t.comments[comment_id] = (document, StoredComment(c.id, c.version, c.text, c.created_at, reply))

    def campaign(self, campaign_id: str) -> Campaign | None:
        raw = self._t.campaigns.get(campaign_id)
        return None if raw is None else _campaigns.validate_json(raw)

    def save_campaign(self, campaign: Campaign) -> None:
        self._writing()
        self._t.campaigns[campaign.id] = _campaigns.dump_json(campaign)

    def accept_sequence(self, source: str, subject: str, sequence: int) -> bool:
        self._writing()
        seen = self._t.sequences.get((source, subject))
        if seen is not None and seen >= sequence:
            return False
        self._t.sequences[(source, subject)] = sequence
        return True

    def save_positions(self, group: str, deliveries: Sequence[Delivery]) -> None:
        self._writing()
        for d in deliveries:
            key = (group, d.topic, d.partition)
            self._t.positions[key] = max(d.offset, self._t.positions.get(key, -1))

    def position(self, group: str, topic: str, partition: int) -> int | None:
        return self._t.positions.get((group, topic, partition))
