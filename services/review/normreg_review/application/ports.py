"""What the review service's use cases need from storage: a repository of reviews inside a unit of
work that runs it as one transaction. Adapters: `adapters.sqlite_store` and `adapters.memory`; both
pass `tests/review/repository_contract.py`.

The contract: `write(work)` is atomic (all of `work` or, when it raises, nothing), serialisable
(a unit sees no other unit's change to what it read before it commits), and its events are stored
with the change they describe, to be published after commit; `read(work)` sees committed state.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from normreg_common.eventlog.port import Record
from normreg_common.store_ports import ConsumedStreams

from normreg_review.domain.lifecycle import ReviewState
from normreg_review.domain.model import Review

T = TypeVar("T")


@dataclass(frozen=True)
class ReviewFilter:
    state: ReviewState | None = None
    reviewing_office: str = ""
    drafting_org: str | None = None
    # Only reviews still active whose due date is before this day.
    overdue_on: dt.date | None = None


class ReviewRepository(ConsumedStreams):
    @abc.abstractmethod
    def get(self, review_id: str) -> Review | None: ...

    @abc.abstractmethod
    def save(self, review: Review, events: Sequence[Record]) -> None:
        """Stores the review and, in the same unit, the events of its changes."""

    @abc.abstractmethod
    def active_of_document(self, document: str) -> list[Review]:
        """Reviews of the document still open or claimed, in arrival order."""

    @abc.abstractmethod
    def page(self, where: ReviewFilter, *, after: int, limit: int) -> list[tuple[int, Review]]:
        """(position, review) in arrival order after position `after`; positions are positive."""


class UnitOfWork(abc.ABC):
    @abc.abstractmethod
    async def write(self, work: Callable[[ReviewRepository], T]) -> T: ...

    @abc.abstractmethod
    async def read(self, work: Callable[[ReviewRepository], T]) -> T: ...
