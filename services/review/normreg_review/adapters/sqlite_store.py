"""The review service's own database: reviews (one row each, with the columns listings filter on),
the outbox of review events, and the inbox of registry events already applied. Every method runs
inside the caller's transaction on the database thread."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from normreg_common.deadletters import DEAD_LETTER_SCHEMA
from normreg_common.eventlog.port import Delivery, Record
from normreg_common.inbox import INBOX_SCHEMA, accept_sequence, save_positions
from normreg_common.outbox import OUTBOX_SCHEMA, enqueue
from normreg_common.sqlite import Database

from normreg_review.adapters import rows
from normreg_review.application.ports import ReviewFilter, ReviewRepository, UnitOfWork
from normreg_review.domain.lifecycle import ACTIVE
from normreg_review.domain.model import Review

T = TypeVar("T")

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS reviews (
    -- Arrival order: listings page by it.
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    document TEXT NOT NULL,
    version_number INTEGER NOT NULL,
    review_round INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    drafting_org TEXT NOT NULL,
    drafters TEXT NOT NULL,
    reviewing_office TEXT NOT NULL,
    state TEXT NOT NULL,
    assignee TEXT NOT NULL,
    decision TEXT NOT NULL,
    opinion TEXT NOT NULL,
    problems TEXT NOT NULL,
    create_time TEXT NOT NULL,
    due_date TEXT NOT NULL,
    claim_time TEXT,
    decide_time TEXT,
    cancel_reason TEXT NOT NULL,
    update_time TEXT,
    sequence INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_document ON reviews (document, state);
CREATE INDEX IF NOT EXISTS reviews_state ON reviews (state, pos);
CREATE INDEX IF NOT EXISTS reviews_org ON reviews (drafting_org, pos);
"""
    + OUTBOX_SCHEMA
    + INBOX_SCHEMA
    + DEAD_LETTER_SCHEMA
)

_COLUMNS = rows.NAMES
_PLACEHOLDERS = rows.placeholders("?")
_UPDATES = rows.UPDATES


class SqliteUnitOfWork(UnitOfWork):
    """Each unit is one transaction on the database's single thread: writers are serialised."""

    def __init__(self, db: Database, on_commit: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self._on_commit = on_commit

    async def write(self, work: Callable[[ReviewRepository], T]) -> T:
        result = await self.db.transaction(lambda conn: work(Store(conn)))
        self._on_commit()
        return result

    async def read(self, work: Callable[[ReviewRepository], T]) -> T:
        return await self.db.read(lambda conn: work(Store(conn)))


class Store(ReviewRepository):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def get(self, review_id: str) -> Review | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM reviews WHERE id = ?", (review_id,)).fetchone()  # noqa: S608
        return None if row is None else rows.review(row, rows.SQLITE)

    def save(self, review: Review, events: Sequence[Record]) -> None:
        self.conn.execute(
            f"INSERT INTO reviews ({_COLUMNS}) VALUES ({_PLACEHOLDERS}) "  # noqa: S608
            f"ON CONFLICT (id) DO UPDATE SET {_UPDATES}",
            rows.row(review, rows.SQLITE),
        )
        enqueue(self.conn, events)

    def accept_sequence(self, source: str, subject: str, sequence: int) -> bool:
        return accept_sequence(self.conn, source, subject, sequence)

    def save_positions(self, group: str, deliveries: Sequence[Delivery]) -> None:
        save_positions(self.conn, group, deliveries)

    def position(self, group: str, topic: str, partition: int) -> int | None:
        row = self.conn.execute(
            "SELECT offset FROM consumer_positions WHERE grp = ? AND topic = ? AND partition = ?",
            (group, topic, partition),
        ).fetchone()
        return None if row is None else int(row[0])

    def active_of_document(self, document: str) -> list[Review]:
        marks = ", ".join("?" for _ in ACTIVE)
        found = self.conn.execute(
            f"SELECT {_COLUMNS} FROM reviews WHERE document = ? AND state IN ({marks}) ORDER BY pos",  # noqa: S608
            (document, *sorted(ACTIVE)),
        ).fetchall()
        return [rows.review(r, rows.SQLITE) for r in found]

    def page(self, where: ReviewFilter, *, after: int, limit: int) -> list[tuple[int, Review]]:
        clauses = ["pos > ?"]
        params: list[Any] = [after]
        if where.state is not None:
            clauses.append("state = ?")
            params.append(where.state.value)
        if where.reviewing_office:
            clauses.append("reviewing_office = ?")
            params.append(where.reviewing_office)
        if where.drafting_org is not None:
            clauses.append("drafting_org = ?")
            params.append(where.drafting_org)
        if where.overdue_on is not None:
            # ISO dates compare as text.
            clauses.append(f"state IN ({', '.join('?' for _ in ACTIVE)}) AND due_date < ?")
            params.extend([*sorted(ACTIVE), where.overdue_on.isoformat()])
        params.append(limit)
        found = self.conn.execute(
            f"SELECT pos, {_COLUMNS} FROM reviews WHERE {' AND '.join(clauses)} ORDER BY pos LIMIT ?",  # noqa: S608
            params,
        ).fetchall()
        return [(int(r["pos"]), rows.review(r, rows.SQLITE)) for r in found]
