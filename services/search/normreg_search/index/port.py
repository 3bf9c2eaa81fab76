"""The search index port: what the service needs from an index, whichever backend holds it.

Both adapters (SQLite FTS5, Elasticsearch) keep, per version, the public view and the highest event
sequence applied; a change at or below it is ignored, so the index is a function of the log whatever
the order or the number of copies of its events. A version that stops being public stays as a
tombstone (never deleted), so a late older event cannot bring it back.

Consumer positions live in `search.db` for both backends. `apply(..., on_commit=...)` runs the
callback in the same SQLite transaction as the embedded index's writes; with Elasticsearch it runs
after the bulk write was acknowledged (writes are idempotent by external versioning, so a crash in
between only replays them).
"""

from __future__ import annotations

import abc
import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import TypeAdapter

from normreg_search import understanding
from normreg_search.model import DEFAULT_STATES, CommentCount, PublicVersion, VersionChange
from normreg_search.query import SearchQuery, SearchResult

OnCommit = Callable[[sqlite3.Connection], None]

_VERSION = TypeAdapter(PublicVersion)
# The longest article label an index keeps: the registry's own are at most 第一千二百六十条之一 long, and
# an imported label at most 40 characters.
LABEL_MAX = 40


def encode_version(version: PublicVersion) -> dict[str, Any]:
    data: dict[str, Any] = _VERSION.dump_python(version, mode="json")
    return data


def decode_version(data: Any) -> PublicVersion:
    return _VERSION.validate_python(data)


def article_rows(version: PublicVersion, limit: int) -> list[tuple[str, str, str]]:
    """What an index holds of each article of a searchable version: (label in the statutes' form,
    text, text for the character stream), at most `limit` of them (the rest joined into the last).
    The title's characters go with the first article; a version without articles is one article
    of its whole body."""
    if version.articles:
        rows = [(_label(a.label), a.text, a.text) for a in version.articles]
    else:
        rows = [("", version.body, version.body)]
    if len(rows) > limit:
        tail = rows[limit - 1 :]
        rows = rows[: limit - 1]
        joined = "\n".join(text for _, text, _ in tail)
        rows.append((tail[0][0], joined, joined))
    label, text, chars = rows[0]
    rows[0] = (label, text, version.title + "\n" + chars)
    return rows


def _label(label: str) -> str:
    """An article's label in the statutes' form; none where the event's is longer than any label is
    (LABEL_MAX): such a label is a term no index should be asked to hold (Elasticsearch refuses a
    keyword past 32,766 bytes), and the article is still found by its text."""
    return understanding.normalise_labels(label) if len(label) <= LABEL_MAX else ""


def latest_per_version(changes: Sequence[VersionChange]) -> list[VersionChange]:
    """The newest change of each version in a batch, in first-seen order."""
    newest: dict[str, VersionChange] = {}
    for change in changes:
        current = newest.get(change.name)
        if current is None or change.sequence > current.sequence:
            newest[change.name] = change
    return list(newest.values())


def highest_counts(comments: Sequence[CommentCount]) -> dict[str, int]:
    """The highest count of each version in a batch."""
    out: dict[str, int] = {}
    for c in comments:
        out[c.name] = max(c.count, out.get(c.name, 0))
    return out


def effective_states(query: SearchQuery) -> frozenset[str] | None:
    """States to filter on; None when valid_on replaces the state filter."""
    if query.valid_on is not None:
        return None
    return query.states or DEFAULT_STATES


class IndexBuild(abc.ABC):
    """A new physical index being filled while searches go on against the current one."""

    @abc.abstractmethod
    async def apply(self, changes: Sequence[VersionChange]) -> int: ...

    @abc.abstractmethod
    async def switch(self) -> None:
        """Make the new index the one searched, atomically, and drop the old one."""

    @abc.abstractmethod
    async def abort(self) -> None: ...


class SearchIndex(abc.ABC):
    @abc.abstractmethod
    async def open(self) -> None:
        """Create what is missing (tables, template, alias and first physical index)."""

    async def open_for_reading(self) -> None:
        """Open an index another process owns and writes: create nothing, follow its switches."""
        await self.open()

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def apply(
        self,
        changes: Sequence[VersionChange],
        *,
        comments: Sequence[CommentCount] = (),
        on_commit: OnCommit | None = None,
    ) -> int:
        """Apply the changes newer than what each version holds, and keep for each version the
        highest comment count read; returns how many changes were applied. Comment counts are
        kept beside the versions, not in them: a rebuild of the versions keeps them."""

    @abc.abstractmethod
    async def comment_counts(self, names: Sequence[str]) -> dict[str, int]:
        """The comment count of each named version that has one."""

    @abc.abstractmethod
    async def get(self, name: str) -> PublicVersion | None:
        """A public version (searchable or consultation) by name; None for unknown or hidden."""

    @abc.abstractmethod
    async def versions_of(self, document: str) -> list[PublicVersion]:
        """The public versions of a document, by version number."""

    @abc.abstractmethod
    async def by_uniform_number(self, number: str) -> list[PublicVersion]:
        """Searchable versions carrying this uniform number."""

    @abc.abstractmethod
    async def search(
        self, query: SearchQuery, *, deadline: float | None = None, budget_s: float | None = None
    ) -> SearchResult:
        """Raises budget.SearchTooLong when the search is still running at `deadline` (the caller's,
        a time.monotonic() value) or after running `budget_s` seconds: it is stopped there, not
        left to hold the backend."""

    @abc.abstractmethod
    async def open_consultations(self, day: dt.date, offset: int, limit: int) -> tuple[list[PublicVersion], int]:
        """Drafts whose comment window contains `day`, closing soonest first; with the total."""

    @abc.abstractmethod
    async def entries(self) -> dict[str, tuple[int, PublicVersion | None]]:
        """Everything held, tombstones included: name -> (sequence, view). For checks and tests."""

    @abc.abstractmethod
    async def begin_rebuild(self) -> IndexBuild: ...

    async def refresh(self) -> None:
        """Make every acknowledged write visible to searches now (near-real-time backends)."""
        return None
