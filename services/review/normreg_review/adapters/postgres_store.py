"""The review service's store on PostgreSQL: the same operations as the SQLite store. A review read
inside a write is locked until commit, so replicas deciding or claiming one review take turns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from normreg_common.eventlog.port import Delivery, Record
from normreg_common.postgres import inbox
from normreg_common.postgres.database import Conn, PostgresDatabase
from normreg_common.postgres.outbox import enqueue
from psycopg.rows import dict_row

from normreg_review.adapters import rows
from normreg_review.application.ports import ReviewFilter, ReviewRepository, UnitOfWork
from normreg_review.domain.lifecycle import ACTIVE
from normreg_review.domain.model import Review

MIGRATIONS = Path(__file__).with_name("postgres_migrations")
T = TypeVar("T")

_NAMES = rows.NAMES
_PLACEHOLDERS = rows.placeholders("%s")
_UPDATES = rows.UPDATES


class PostgresUnitOfWork(UnitOfWork):
    def __init__(self, db: PostgresDatabase, on_commit: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self._on_commit = on_commit

    async def write(self, work: Callable[[ReviewRepository], T]) -> T:
        result = await self.db.transaction(lambda conn: work(PostgresStore(conn)))
        self._on_commit()
        return result

    async def read(self, work: Callable[[ReviewRepository], T]) -> T:
        return await self.db.read(lambda conn: work(PostgresStore(conn)))


class PostgresStore(ReviewRepository):
    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self._for_update = "" if conn.read_only else " FOR UPDATE"

    def get(self, review_id: str) -> Review | None:
        with self.conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(
                f"SELECT {_NAMES} FROM reviews WHERE id = %s{self._for_update}",  # noqa: S608 - constants
                (review_id,),
            )
            row = cursor.fetchone()
        return None if row is None else rows.review(row, rows.POSTGRES)

    def save(self, review: Review, events: Sequence[Record]) -> None:
        self.conn.execute(
            f"INSERT INTO reviews ({_NAMES}) VALUES ({_PLACEHOLDERS}) "  # noqa: S608 - constants
            f"ON CONFLICT (id) DO UPDATE SET {_UPDATES}",
            rows.row(review, rows.POSTGRES),
        )
        enqueue(self.conn, events)

    def accept_sequence(self, source: str, subject: str, sequence: int) -> bool:
        return inbox.accept_sequence(self.conn, source, subject, sequence)

    def save_positions(self, group: str, deliveries: Sequence[Delivery]) -> None:
        inbox.save_positions(self.conn, group, deliveries)

    def position(self, group: str, topic: str, partition: int) -> int | None:
        row = self.conn.execute(
            'SELECT "offset" FROM consumer_positions WHERE grp = %s AND topic = %s AND partition = %s',
            (group, topic, partition),
        ).fetchone()
        return None if row is None else int(row[0])

    def active_of_document(self, document: str) -> list[Review]:
        with self.conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(
                f"SELECT {_NAMES} FROM reviews WHERE document = %s AND state = ANY(%s) "  # noqa: S608 - constants
                f"ORDER BY pos{self._for_update}",
                (document, sorted(ACTIVE)),
            )
            return [rows.review(r, rows.POSTGRES) for r in cursor.fetchall()]

    def page(self, where: ReviewFilter, *, after: int, limit: int) -> list[tuple[int, Review]]:
        clauses = ["pos > %s"]
        params: list[Any] = [after]
        if where.state is not None:
            clauses.append("state = %s")
            params.append(where.state.value)
        if where.reviewing_office:
            clauses.append("reviewing_office = %s")
            params.append(where.reviewing_office)
        if where.drafting_org is not None:
            clauses.append("drafting_org = %s")
            params.append(where.drafting_org)
        if where.overdue_on is not None:
            clauses.append("state = ANY(%s) AND due_date < %s")
            params.extend([sorted(ACTIVE), where.overdue_on])
        params.append(limit)
        with self.conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(
                # Only placeholders are interpolated; the values are bound.
                f"SELECT pos, {_NAMES} FROM reviews WHERE {' AND '.join(clauses)} ORDER BY pos LIMIT %s".encode(),  # noqa: S608
                params,
            )
            return [(int(r["pos"]), rows.review(r, rows.POSTGRES)) for r in cursor.fetchall()]
