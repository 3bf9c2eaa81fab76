"""What the registry's use cases need from storage: one repository per unit of work, and the unit of
work that runs it as one transaction. Adapters: `adapters.sqlite_store` (production, embedded) and
`adapters.memory` (tests); both pass `tests/registry/repository_contract.py`.

The contract every adapter keeps:
- `UnitOfWork.write(work)` runs `work(repository)` as one atomic transaction: everything it wrote is
  durable when `write` returns, and nothing of it is when `work` raises (the exception propagates).
- Writes are serialisable: a unit that read a document, a number or a sequence sees no other unit's
  change to it before it commits (an adapter locks what `get` returns, or serialises the units).
- `RegistryRepository.isolated(part)` undoes what `part` wrote when it raises, and only that.
- `UnitOfWork.read(work)` sees only committed state and must not write.
- Events are stored with the change they describe (`save`), in the order given, and are published by
  the adapter's relay after commit; they are never lost when the log is down.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from normreg_common.eventlog.port import Record
from normreg_common.store_ports import ConsumedStreams

from normreg_registry.domain.cleanup import Campaign
from normreg_registry.domain.history import GENESIS, HistoryEntry
from normreg_registry.domain.model import Change, Document

T = TypeVar("T")

# The clock day of a document stored before schedules were kept: due at once, first of all.
UNSCHEDULED = dt.date.min
# Where a scheduler run's first page starts.
CLOCK_START = (UNSCHEDULED, "")
# Where a listing of unmet filing obligations starts: before every (due, document, version, recipient).
UnfiledKey = tuple[dt.date, str, int, str]
UNFILED_START: UnfiledKey = (dt.date.min, "", 0, "")


@dataclass(frozen=True)
class StoredComment:
    id: int
    version: int
    text: str
    created_at: str
    reply: str


@dataclass(frozen=True)
class UnfiledObligation:
    """A filing a promulgated version still owes: to `recipient` ("" when not recorded) by `due`."""

    document: str
    version: int
    recipient: str
    due: dt.date

    @property
    def key(self) -> UnfiledKey:
        """Where it stands in a listing of obligations: (due, document, version, recipient)."""
        return (self.due, self.document, self.version, self.recipient)


@dataclass(frozen=True)
class DocumentFilter:
    """Listing filters on stored fields; `state` matches a document any of whose versions is in it."""

    state: str = ""
    kind: str = ""
    issuing_body: str = ""
    drafting_org: str = ""


class RegistryRepository(ConsumedStreams):
    # ---- documents (aggregates), their history and their events --------------------------------

    @abc.abstractmethod
    def get(self, doc_id: str) -> Document | None: ...

    @abc.abstractmethod
    def save(
        self,
        doc: Document,
        events: Sequence[tuple[Change, Record]],
        entries: Sequence[HistoryEntry] | None = None,
    ) -> None:
        """Stores the document, appends one hash-chained history entry per change and its event.
        `entries`, when given, are those entries as `history.entry_for` seals them after this unit's
        head (the caller computed them to sign the head): appended as they are, not sealed again."""

    @abc.abstractmethod
    def isolated(self, work: Callable[[], T]) -> T:
        """Runs `work` inside the unit so that, when it raises, everything it wrote is undone and the
        rest of the unit stands (a savepoint): one refused item of a batch leaves the others."""

    @abc.abstractmethod
    def find(self, where: DocumentFilter, *, after: str, limit: int) -> Iterator[Document]:
        """Documents in id order after `after`."""

    @abc.abstractmethod
    def ids_with_states(self, states: Sequence[str]) -> list[str]:
        """Ids of documents with a version in any of `states`, in id order."""

    @abc.abstractmethod
    def all_ids(self) -> list[str]: ...

    # ---- what the clock will do: kept beside each document so a scheduler run reads only those due

    @abc.abstractmethod
    def schedule(self, doc_id: str, wake_on: dt.date | None, unfiled: Sequence[UnfiledObligation]) -> None:
        """Replaces the document's next clock day (None: nothing left) and its unmet filing obligations."""

    @abc.abstractmethod
    def clock_due(self, today: dt.date, after: tuple[dt.date, str], limit: int) -> list[tuple[dt.date, str]]:
        """At most `limit` documents whose next clock day is on or before `today`, as (day, id), in
        that order, after `after`: one page of a scheduler run, the next read after the last one's
        end. (Day then id, not id alone: a page is then one range of an index, where an id order
        walked every schedule or sorted every due one for each page.) A document the run has moved
        gets a day after `today` (or keeps its own, behind the cursor): it is neither read again
        nor does its move skip another. Documents stored before schedules were kept are given
        `UNSCHEDULED` when the store opens, so they are due, first."""

    @abc.abstractmethod
    def unfiled_after(self, until: dt.date, after: UnfiledKey, limit: int) -> list[UnfiledObligation]:
        """At most `limit` unmet filing obligations due on or before `until`, ordered by (due,
        document, version, recipient) with names in code point order, after `after` in that order
        (UNFILED_START: from the first). Stores over a database read one range of an index."""

    @abc.abstractmethod
    def unfiled_counts(self, today: dt.date) -> tuple[int, int]:
        """Unmet filing obligations not yet due (due on or after `today`), and those overdue."""

    @abc.abstractmethod
    def history(self, document: str) -> list[HistoryEntry]: ...

    def history_head(self, document: str) -> str:
        """The hash of the document's newest history entry (GENESIS before the first). Stores over
        a database read that one row instead of the whole chain."""
        chain = self.history(document)
        return chain[-1].hash if chain else GENESIS

    @abc.abstractmethod
    def events_of_types(self, types: Sequence[str]) -> Iterator[tuple[str, str, int, bytes]]:
        """(type, document, version, event bytes) of every stored event of those types, in log order."""

    # ---- idempotency ---------------------------------------------------------------------------

    @abc.abstractmethod
    def remembered(self, scope: str, request_id: str) -> str | None: ...

    @abc.abstractmethod
    def remember(self, scope: str, request_id: str, resource: str) -> None: ...

    # ---- numbers -------------------------------------------------------------------------------

    @abc.abstractmethod
    def number_holder(self, printed: str) -> str | None:
        """The document holding a uniform number (as printed), if any: held numbers are never freed."""

    @abc.abstractmethod
    def highest_sequence(self, prefix: str, year: int) -> int:
        """The highest sequence ever held in a series (number prefix and year); 0 when none."""

    @abc.abstractmethod
    def hold_number(self, printed: str, prefix: str, year: int, sequence: int, document: str) -> None:
        """Holds a number for good. The caller checked `number_holder` in the same unit; an adapter
        still refuses a second holder (a unique key on the printed number) rather than keep both."""

    @abc.abstractmethod
    def next_registration(self, year: int) -> int:
        """The next registration sequence of the year (1, 2, …), consumed by this call."""

    # ---- public comments -----------------------------------------------------------------------

    @abc.abstractmethod
    def add_comment(self, document: str, version: int, text: str, at: dt.datetime) -> int: ...

    @abc.abstractmethod
    def comment_count(self, document: str, version: int) -> int:
        """Comments received on one version; read in the transaction that adds one, it is that
        comment's position (the document is locked for the write, so two comments never share one)."""

    @abc.abstractmethod
    def publish(self, record: Record) -> None:
        """Put an event that is not a change of a document (no history entry) in the outbox."""

    @abc.abstractmethod
    def comments(self, document: str, after_id: int, limit: int, version: int | None = None) -> list[StoredComment]:
        """Comments on the document after `after_id`, oldest first; on `version` only when given."""

    @abc.abstractmethod
    def comment(self, document: str, version: int, comment_id: int) -> StoredComment | None: ...

    @abc.abstractmethod
    def reply(self, comment_id: int, reply: str) -> None: ...

    # ---- cleanup campaigns ---------------------------------------------------------------------

    @abc.abstractmethod
    def campaign(self, campaign_id: str) -> Campaign | None: ...

    @abc.abstractmethod
    def save_campaign(self, campaign: Campaign) -> None: ...


class UnitOfWork(abc.ABC):
    @abc.abstractmethod
    async def write(self, work: Callable[[RegistryRepository], T]) -> T: ...

    @abc.abstractmethod
    async def read(self, work: Callable[[RegistryRepository], T]) -> T: ...
