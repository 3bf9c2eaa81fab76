"""An in-memory review store for tests: the same port and contract as SQLite, in dictionaries.

A unit of work that raises is rolled back to the state before it began."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from normreg_common.eventlog.port import Delivery, Record

from normreg_review.application.ports import ReviewFilter, ReviewRepository, UnitOfWork
from normreg_review.domain.lifecycle import ACTIVE
from normreg_review.domain.model import Review

T = TypeVar("T")


@dataclass
class _Tables:
    # id -> (position, review); positions follow arrival order.
    reviews: dict[str, tuple[int, Review]] = field(default_factory=dict)
    outbox: list[Record] = field(default_factory=list)
    sequences: dict[tuple[str, str], int] = field(default_factory=dict)
    positions: dict[tuple[str, str, int], int] = field(default_factory=dict)


class InMemoryUnitOfWork(UnitOfWork):
    def __init__(self) -> None:
        self.tables = _Tables()

    async def write(self, work: Callable[[ReviewRepository], T]) -> T:
        before = copy.deepcopy(self.tables)
        try:
            return work(InMemoryRepository(self.tables))
        except BaseException:
            self.tables = before
            raise

    async def read(self, work: Callable[[ReviewRepository], T]) -> T:
        return work(InMemoryRepository(self.tables))


def _copy(review: Review) -> Review:
    # Callers mutate what they load; what is stored changes only through save.
    return replace(review, changes=[])


class InMemoryRepository(ReviewRepository):
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def get(self, review_id: str) -> Review | None:
        stored = self._t.reviews.get(review_id)
        return None if stored is None else _copy(stored[1])

    def save(self, review: Review, events: Sequence[Record]) -> None:
        stored = self._t.reviews.get(review.id)
        position = stored[0] if stored else max((p for p, _ in self._t.reviews.values()), default=0) + 1
        self._t.reviews[review.id] = (position, _copy(review))
        self._t.outbox.extend(events)

    def active_of_document(self, document: str) -> list[Review]:
        found = sorted((p, r) for p, r in self._t.reviews.values() if r.document == document and r.state in ACTIVE)
        return [_copy(r) for _, r in found]

    def page(self, where: ReviewFilter, *, after: int, limit: int) -> list[tuple[int, Review]]:
        out: list[tuple[int, Review]] = []
        for position, r in sorted(self._t.reviews.values(), key=lambda pr: pr[0]):
            if position <= after:
                continue
            if where.state is not None and r.state != where.state:
                continue
            if where.reviewing_office and r.reviewing_office != where.reviewing_office:
                continue
            if where.drafting_org is not None and r.drafting_org != where.drafting_org:
                continue
            if where.overdue_on is not None and not (r.state in ACTIVE and r.due_date < where.overdue_on):
                continue
            out.append((position, _copy(r)))
            if len(out) == limit:
                break
        return out

    def accept_sequence(self, source: str, subject: str, sequence: int) -> bool:
        seen = self._t.sequences.get((source, subject))
        if seen is not None and seen >= sequence:
            return False
        self._t.sequences[(source, subject)] = sequence
        return True

    def save_positions(self, group: str, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            key = (group, d.topic, d.partition)
            self._t.positions[key] = max(d.offset, self._t.positions.get(key, -1))

    def position(self, group: str, topic: str, partition: int) -> int | None:
        return self._t.positions.get((group, topic, partition))
