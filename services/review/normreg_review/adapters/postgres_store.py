"""The review service's store on PostgreSQL: the same operations as the SQLite store. A review read
inside a write is locked until commit, so replicas deciding or claiming one review take turns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from normreg_common.eventlog.port import Delivery, Record
from normreg_common.postgres import inbox
from normreg_common.postgres.database import Conn, PostgresDatabase
from normreg_common.postgres.outbox import enqueue
from psycopg.rows import dict_row

from normreg_review.application.ports import ReviewFilter, ReviewRepository, UnitOfWork
from normreg_review.domain.lifecycle import ACTIVE, Decision, ReviewState
from normreg_review.domain.model import Review

MIGRATIONS = Path(__file__).with_name("postgres_migrations")
T = TypeVar("T")

_NAMES = (
    "id, document, version_number, review_round, revision, title, body, drafting_org, drafters, "
    "reviewing_office, state, assignee, decision, opinion, problems, create_time, due_date, claim_time, "
    "decide_time, cancel_reason, update_time, sequence"
)
_COLUMNS = [c.strip() for c in _NAMES.split(",")]
_PLACEHOLDERS = ", ".join("%s" for _ in _COLUMNS)
_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "id")


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
        return None if row is None else _review(row)

    def save(self, review: Review, events: Sequence[Record]) -> None:
        self.conn.execute(
            f"INSERT INTO reviews ({_NAMES}) VALUES ({_PLACEHOLDERS}) "  # noqa: S608 - constants
            f"ON CONFLICT (id) DO UPDATE SET {_UPDATES}",
            _row(review),
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
            return [_review(r) for r in cursor.fetchall()]

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
            return [(int(r["pos"]), _review(r)) for r in cursor.fetchall()]


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _row(r: Review) -> tuple[Any, ...]:
    return (
        r.id,
        r.document,
        r.version_number,
        r.review_round,
        r.revision,
        r.title,
        r.body,
        r.drafting_org,
        list(r.drafters),
        r.reviewing_office,
        r.state.value,
        r.assignee,
        r.decision.value if r.decision else "",
        r.opinion,
        list(r.problems),
        r.create_time.isoformat(),
        r.due_date,
        _time(r.claim_time),
        _time(r.decide_time),
        r.cancel_reason,
        _time(r.update_time),
        r.sequence,
    )


def _review(row: dict[str, Any]) -> Review:
    return Review(
        id=row["id"],
        document=row["document"],
        version_number=row["version_number"],
        review_round=row["review_round"],
        revision=row["revision"],
        title=row["title"],
        body=row["body"],
        drafting_org=row["drafting_org"],
        drafters=tuple(row["drafters"]),
        reviewing_office=row["reviewing_office"],
        create_time=dt.datetime.fromisoformat(row["create_time"]),
        due_date=row["due_date"],
        state=ReviewState(row["state"]),
        assignee=row["assignee"],
        decision=Decision(row["decision"]) if row["decision"] else None,
        opinion=row["opinion"],
        problems=tuple(row["problems"]),
        claim_time=_parse_time(row["claim_time"]),
        decide_time=_parse_time(row["decide_time"]),
        cancel_reason=row["cancel_reason"],
        update_time=_parse_time(row["update_time"]),
        sequence=row["sequence"],
    )
