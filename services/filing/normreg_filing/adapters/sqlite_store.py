"""The filing review service's own database (SQLite): received filings, review suggestions, the
promulgations seen on subordinates' streams, the outbox of the events it sends back, and the inbox of
events already applied. Aggregates are kept whole as JSON beside the columns listings filter on."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import TypeVar

from normreg_common.deadletters import DEAD_LETTER_SCHEMA
from normreg_common.eventlog.port import Delivery, Record
from normreg_common.inbox import INBOX_SCHEMA, accept_sequence, save_positions
from normreg_common.outbox import OUTBOX_SCHEMA, enqueue
from normreg_common.sqlite import Database
from pydantic import TypeAdapter

from normreg_filing.application.ports import FilingRepository, OutboxEntry, UnitOfWork
from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.suggestions import ReviewSuggestion
from normreg_filing.domain.supervision import SeenPromulgation

T = TypeVar("T")

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS received_filings (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    sender TEXT NOT NULL,
    document TEXT NOT NULL,
    recipient TEXT NOT NULL,
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (sender, document, recipient)
);
CREATE TABLE IF NOT EXISTS review_suggestions (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    sender TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_promulgations (
    sender TEXT NOT NULL,
    document TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (sender, document, recipient)
);
"""
    + OUTBOX_SCHEMA
    + INBOX_SCHEMA
    + DEAD_LETTER_SCHEMA
)

_filing = TypeAdapter(ReceivedFiling)
_suggestion = TypeAdapter(ReviewSuggestion)
_seen = TypeAdapter(SeenPromulgation)


class SqliteFilingRepository(FilingRepository):
    """Runs inside one transaction on the database thread (writers are serialised by it)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def filing(self, id: str) -> ReceivedFiling | None:
        row = self._c.execute("SELECT body FROM received_filings WHERE id = ?", (id,)).fetchone()
        return None if row is None else _filing.validate_json(row[0])

    def filing_of(self, sender: str, document: str, recipient: str) -> ReceivedFiling | None:
        row = self._c.execute(
            "SELECT body FROM received_filings WHERE sender = ? AND document = ? AND recipient = ?",
            (sender, document, recipient),
        ).fetchone()
        return None if row is None else _filing.validate_json(row[0])

    def save_filing(self, f: ReceivedFiling, events: Sequence[Record] = ()) -> None:
        body = _filing.dump_json(f, exclude={"changes"}).decode()
        self._c.execute(
            "INSERT INTO received_filings (id, sender, document, recipient, state, body) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET state = excluded.state, body = excluded.body",
            (f.id, f.sender, f.document, f.recipient, f.state.value, body),
        )
        enqueue(self._c, events)

    def filings(self, sender: str = "", state: str = "") -> list[ReceivedFiling]:
        rows = self._c.execute(
            "SELECT body FROM received_filings WHERE (? = '' OR sender = ?) AND (? = '' OR state = ?) ORDER BY pos",
            (sender, sender, state, state),
        ).fetchall()
        return [_filing.validate_json(r[0]) for r in rows]

    def filings_after(
        self, after: int, limit: int, *, sender: str = "", state: str = "", recipient: str = ""
    ) -> list[tuple[int, ReceivedFiling]]:
        rows = self._c.execute(
            "SELECT pos, body FROM received_filings WHERE pos > ? AND (? = '' OR sender = ?) "
            "AND (? = '' OR state = ?) AND (? = '' OR recipient = ?) ORDER BY pos LIMIT ?",
            (after, sender, sender, state, state, recipient, recipient, limit),
        ).fetchall()
        return [(int(r[0]), _filing.validate_json(r[1])) for r in rows]

    def outbox(self, after: int, limit: int) -> list[OutboxEntry]:
        rows = self._c.execute(
            "SELECT id, topic, key, value, sent_at FROM outbox WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
        ).fetchall()
        return [OutboxEntry(int(r[0]), Record(r[1], r[2], bytes(r[3])), r[4] is not None) for r in rows]

    def suggestion(self, id: str) -> ReviewSuggestion | None:
        row = self._c.execute("SELECT body FROM review_suggestions WHERE id = ?", (id,)).fetchone()
        return None if row is None else _suggestion.validate_json(row[0])

    def save_suggestion(self, s: ReviewSuggestion) -> None:
        self._c.execute(
            "INSERT INTO review_suggestions (id, sender, body) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            (s.id, s.sender, _suggestion.dump_json(s).decode()),
        )

    def suggestions(self, sender: str = "") -> list[ReviewSuggestion]:
        rows = self._c.execute(
            "SELECT body FROM review_suggestions WHERE (? = '' OR sender = ?) ORDER BY pos", (sender, sender)
        ).fetchall()
        return [_suggestion.validate_json(r[0]) for r in rows]

    def suggestions_after(self, after: int, limit: int, *, sender: str = "") -> list[tuple[int, ReviewSuggestion]]:
        rows = self._c.execute(
            "SELECT pos, body FROM review_suggestions WHERE pos > ? AND (? = '' OR sender = ?) ORDER BY pos LIMIT ?",
            (after, sender, sender, limit),
        ).fetchall()
        return [(int(r[0]), _suggestion.validate_json(r[1])) for r in rows]

    def see(self, p: SeenPromulgation) -> None:
        self._c.execute(
            "INSERT INTO seen_promulgations (sender, document, recipient, body) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (p.sender, p.document, p.recipient, _seen.dump_json(p).decode()),
        )

    def seen(self, sender: str = "") -> list[SeenPromulgation]:
        rows = self._c.execute(
            "SELECT body FROM seen_promulgations WHERE (? = '' OR sender = ?) ORDER BY sender, document, recipient",
            (sender, sender),
        ).fetchall()
        return [_seen.validate_json(r[0]) for r in rows]

    def senders(self) -> list[str]:
        rows = self._c.execute(
            "SELECT sender FROM seen_promulgations UNION SELECT sender FROM received_filings "
            "UNION SELECT sender FROM review_suggestions ORDER BY 1"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def accept_sequence(self, source: str, subject: str, sequence: int) -> bool:
        return accept_sequence(self._c, source, subject, sequence)

    def save_positions(self, group: str, deliveries: Sequence[Delivery]) -> None:
        save_positions(self._c, group, deliveries)

    def position(self, group: str, topic: str, partition: int) -> int | None:
        row = self._c.execute(
            "SELECT offset FROM consumer_positions WHERE grp = ? AND topic = ? AND partition = ?",
            (group, topic, partition),
        ).fetchone()
        return None if row is None else int(row[0])


class SqliteFilingStore(UnitOfWork):
    """Each unit is one transaction on the database's single thread; `on_commit` wakes the relay."""

    def __init__(self, db: Database, on_commit: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self._on_commit = on_commit

    async def write(self, work: Callable[[FilingRepository], T]) -> T:
        result = await self.db.transaction(lambda conn: work(SqliteFilingRepository(conn)))
        self._on_commit()
        return result

    async def read(self, work: Callable[[FilingRepository], T]) -> T:
        return await self.db.read(lambda conn: work(SqliteFilingRepository(conn)))
