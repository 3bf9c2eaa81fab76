"""What the filing review service's use cases need from storage: one repository per unit of work, and
the unit of work that runs it as one transaction. Adapters: `adapters.sqlite_store` (embedded),
`adapters.postgres_store` and `adapters.memory` (tests); all pass `tests/filing/repository_contract.py`.

The contract every adapter keeps:
- `UnitOfWork.write(work)` runs `work(repository)` as one atomic transaction: everything it wrote is
  durable when `write` returns, and nothing of it is when `work` raises (the exception propagates).
- Writes are serialisable: a unit that read a filing or a suggestion sees no other unit's change to
  it before it commits (an adapter locks what it returns, or serialises the units).
- `UnitOfWork.read(work)` sees only committed state and must not write.
- The events of a change are stored with it (`save_filing(f, events)`), in the order given, in the
  outbox the adapter's relay publishes after commit: they are never lost when the log is down or the
  process is killed, and never published for a change that was rolled back.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from normreg_common.eventlog.port import Record
from normreg_common.store_ports import ConsumedStreams

from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.suggestions import ReviewSuggestion
from normreg_filing.domain.supervision import SeenPromulgation, SubordinateReport

T = TypeVar("T")


@dataclass(frozen=True)
class OutboxEntry:
    """An event the service wrote, in write order; `sent` once the event log acknowledged it."""

    position: int
    record: Record
    sent: bool


class FilingRepository(ConsumedStreams):
    """One transaction's view of the service's data."""

    # ---- received filings ----------------------------------------------------------------------

    @abc.abstractmethod
    def filing(self, id: str) -> ReceivedFiling | None: ...

    @abc.abstractmethod
    def filing_of(self, sender: str, document: str, recipient: str) -> ReceivedFiling | None:
        """The filing of one document with one recipient: a sender files it once, then completes or answers."""

    @abc.abstractmethod
    def save_filing(self, f: ReceivedFiling, events: Sequence[Record] = ()) -> None:
        """Stores the filing (its recorded changes are not kept) and, in the same unit, its events."""

    @abc.abstractmethod
    def filings(self, sender: str = "", state: str = "") -> list[ReceivedFiling]:
        """In arrival order; an empty filter matches every value."""

    @abc.abstractmethod
    def filings_after(
        self, after: int, limit: int, *, sender: str = "", state: str = "", recipient: str = ""
    ) -> list[tuple[int, ReceivedFiling]]:
        """At most `limit` filings in arrival order after arrival position `after` (positions are
        positive), each with its position; an empty filter matches every value."""

    @abc.abstractmethod
    def outbox(self, after: int, limit: int) -> list[OutboxEntry]:
        """The events written, in write order, after position `after` (positions are positive)."""

    # ---- review suggestions --------------------------------------------------------------------

    @abc.abstractmethod
    def suggestion(self, id: str) -> ReviewSuggestion | None: ...

    @abc.abstractmethod
    def save_suggestion(self, s: ReviewSuggestion) -> None: ...

    @abc.abstractmethod
    def suggestions(self, sender: str = "") -> list[ReviewSuggestion]:
        """In submission order."""

    @abc.abstractmethod
    def suggestions_after(self, after: int, limit: int, *, sender: str = "") -> list[tuple[int, ReviewSuggestion]]:
        """At most `limit` suggestions in submission order after position `after` (positions are
        positive), each with its position; an empty sender matches every sender."""

    @abc.abstractmethod
    def received_or_owed(self, sender: str, document: str, version: int | None) -> bool:
        """Whether a filing of `sender`'s document `document` (documents/{d}) has arrived, or a
        promulgation of it owing one was seen: of version `version`, or of any version when None."""

    # ---- the states of versions, from this deployment's registry stream and its subordinates' ---

    @abc.abstractmethod
    def set_version_state(self, sender: str, document: str, version: int, state: str, kind: str = "") -> None:
        """Remembers the state a version of `sender`'s document (documents/{d}) is in, and the
        document's kind."""

    @abc.abstractmethod
    def version_states(self, sender: str, document: str) -> dict[int, str]:
        """The states of the versions of `sender`'s document `document` recorded so far."""

    @abc.abstractmethod
    def version_kind(self, sender: str, document: str) -> str:
        """The kind of `sender`'s document `document` last recorded; "" when none is."""

    # ---- promulgations seen on subordinates' streams --------------------------------------------

    @abc.abstractmethod
    def see(self, p: SeenPromulgation) -> None:
        """Remembers a promulgation once per (sender, document, recipient); seeing it again changes nothing."""

    @abc.abstractmethod
    def seen(self, sender: str = "") -> list[SeenPromulgation]:
        """Ordered by sender, document and recipient."""

    @abc.abstractmethod
    def missing_after(
        self,
        after: int,
        limit: int,
        *,
        sender: str = "",
        due_from: dt.date | None = None,
        due_until: dt.date | None = None,
    ) -> list[tuple[int, SeenPromulgation]] | None:
        """At most `limit` promulgations seen whose filing has not arrived (no filing of the same
        sender, document and recipient), due between `due_from` and `due_until` (inclusive; None is
        unbounded), ordered by due date, sender, document and recipient, each with its position,
        after the sighting at position `after` in that order (0: from the first). None when `after`
        is the position of no sighting. Stores over a database answer it from one range of an index
        of the sightings still unfiled, however many are filed."""

    @abc.abstractmethod
    def report(self, sender: str, year: int) -> SubordinateReport:
        """The sender's yearly report as `domain.supervision.subordinate_report` defines it over
        everything stored; stores over a database count it there instead of reading every row."""

    @abc.abstractmethod
    def senders(self) -> list[str]:
        """Every sender of a promulgation seen, a filing or a suggestion, once each, sorted: counted
        by the store, not by reading every record."""


class UnitOfWork(abc.ABC):
    @abc.abstractmethod
    async def write(self, work: Callable[[FilingRepository], T]) -> T: ...

    @abc.abstractmethod
    async def read(self, work: Callable[[FilingRepository], T]) -> T: ...


# The names the use cases were first written against.
Repository = FilingRepository
Store = UnitOfWork
