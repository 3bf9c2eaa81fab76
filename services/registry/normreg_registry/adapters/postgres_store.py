"""The registry's store on PostgreSQL: the same operations as the SQLite store, made safe for several
replicas writing at once.

- A document read inside a write is locked (`FOR UPDATE`) until the transaction ends, so two
  replicas changing one document take turns: the second sees the first's result, never overwrites it,
  and history sequences and the outbox order of a document follow the commit order.
- Uniform numbers: the next number of an issuing body and year is chosen under an advisory lock on
  that pair, held until commit, so two promulgations never pick the same one (the primary key stays
  as the last line of defence). Registration numbers come from one upserted counter row.
- Idempotency keys: the check takes an advisory lock on the key, so a retry that reaches another
  replica while the first attempt is still running waits for it and then finds its result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from normreg_common.eventlog.port import Delivery, Record
from normreg_common.postgres import inbox
from normreg_common.postgres.database import Conn, PostgresDatabase
from normreg_registry.adapters import rows
from normreg_registry.adapters.sql_store import SqlStore
from normreg_registry.application.ports import (
    DocumentFilter,
    RegistryRepository,
    UnfiledKey,
    UnfiledObligation,
    UnitOfWork,
)
from normreg_registry.domain.history import HistoryEntry, entry_for
from normreg_registry.domain.model import Change, Document
from psycopg import errors

MIGRATIONS = Path(__file__).with_name("postgres_migrations")
# Stored events a read of them by type holds at once.
EVENT_PAGE = 1000
T = TypeVar("T")


def _key(*parts: object) -> str:
    return "\x1f".join(str(p) for p in parts)


class PostgresUnitOfWork(UnitOfWork):
    """Each unit is one transaction on a pooled connection; the database retries a unit aborted for a
    deadlock or a serialization failure (it had no effect)."""

    def __init__(self, db: PostgresDatabase, on_commit: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self._on_commit = on_commit

    async def write(self, work: Callable[[RegistryRepository], T]) -> T:
        result = await self.db.transaction(lambda conn: work(PostgresStore(conn)))
        self._on_commit()
        return result

    async def read(self, work: Callable[[RegistryRepository], T]) -> T:
        return await self.db.read(lambda conn: work(PostgresStore(conn)))


class PostgresStore(SqlStore):
    """Repository over one connection, used inside one transaction (read-only or read-write)."""

    placeholder = "%s"
    unique_violation = errors.UniqueViolation
    body_text = "body::text"

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        # Reads in a write transaction lock what they read; read-only transactions lock nothing.
        self._for_update = "" if conn.read_only else " FOR UPDATE"

    def _lock(self, namespace: str, *parts: object) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_key(namespace, *parts),))

    def _lock_for_write(self, namespace: str, *parts: object) -> None:
        # A read-only transaction reads what is committed: nothing to wait for.
        if not self.conn.read_only:
            self._lock(namespace, *parts)

    def isolated(self, work: Callable[[], T]) -> T:
        # A nested transaction is a savepoint: rolled back on an exception, which propagates.
        with self.conn.transaction():
            return work()

    # documents
    def get(self, doc_id: str) -> Document | None:
        row = self.conn.execute(
            f"SELECT body::text FROM documents WHERE id = %s{self._for_update}",  # noqa: S608 - a constant
            (doc_id,),
        ).fetchone()
        return None if row is None else rows.load_document(row[0])

    def save(
        self,
        doc: Document,
        records: Sequence[tuple[Change, Record]],
        entries: Sequence[HistoryEntry] | None = None,
    ) -> None:
        self.conn.execute(
            f"INSERT INTO documents ({rows.DOCUMENT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "  # noqa: S608 - constants only
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state, states = excluded.states, body = excluded.body",
            rows.document_row(doc, rows.POSTGRES),
        )
        for i, (change, record) in enumerate(records):
            self._append_history(
                entries[i] if entries is not None else entry_for(doc.name, change, self.history_head(doc.name))
            )
            row = self.conn.execute(
                "INSERT INTO outbox (topic, key, value) VALUES (%s, %s, %s) RETURNING id",
                (record.topic, record.key, record.value),
            ).fetchone()
            assert row is not None
            self.conn.execute(
                "INSERT INTO event_index (outbox_id, type, document, version) VALUES (%s, %s, %s, %s)",
                (row[0], change.action, doc.name, change.version),
            )

    def _append_history(self, entry: HistoryEntry) -> None:
        self.conn.execute(
            f"INSERT INTO history ({rows.HISTORY_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608 - constants only
            rows.history_row(entry),
        )

    # the clock
    def schedule(self, doc_id: str, wake_on: dt.date | None, unfiled: Sequence[UnfiledObligation]) -> None:
        self.conn.execute(
            "INSERT INTO clock (document, wake_on) VALUES (%s, %s) ON CONFLICT (document) DO UPDATE SET "
            "wake_on = excluded.wake_on",
            (doc_id, rows.POSTGRES.day(wake_on or rows.NEVER)),
        )
        self.conn.execute("DELETE FROM unfiled WHERE document = %s", (doc_id,))
        if unfiled:
            with self.conn.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO unfiled ({rows.UNFILED_COLUMNS}) VALUES (%s, %s, %s, %s) "  # noqa: S608 - constants only
                    "ON CONFLICT (document, version, recipient) DO UPDATE SET due = excluded.due",
                    [rows.unfiled_row(o, rows.POSTGRES) for o in unfiled],
                )

    def clock_due(self, today: dt.date, after: tuple[dt.date, str], limit: int) -> list[tuple[dt.date, str]]:
        # One range of the index clock_due (0005_clock_pages.sql).
        found = self.conn.execute(
            "SELECT wake_on, document FROM clock WHERE wake_on <= %s AND (wake_on, document) > (%s, %s) "
            "ORDER BY wake_on, document LIMIT %s",
            (today, after[0], after[1], limit),
        ).fetchall()
        return [(r[0], r[1]) for r in found]

    def unfiled_after(self, until: dt.date, after: UnfiledKey, limit: int) -> list[UnfiledObligation]:
        # One range of unfiled_due_key (0006_unfiled_pages.sql), names in byte order as SQLite sorts.
        found = self.conn.execute(
            f"SELECT {rows.UNFILED_COLUMNS} FROM unfiled WHERE due <= %s "  # noqa: S608 - constants only
            'AND (due, document COLLATE "C", version, recipient COLLATE "C") > (%s, %s, %s, %s) '
            'ORDER BY due, document COLLATE "C", version, recipient COLLATE "C" LIMIT %s',
            (rows.POSTGRES.day(until), rows.POSTGRES.day(after[0]), after[1], after[2], after[3], limit),
        ).fetchall()
        return [rows.unfiled_obligation(r, rows.POSTGRES) for r in found]

    def unfiled_counts(self, today: dt.date) -> tuple[int, int]:
        row = self.conn.execute(
            "SELECT count(*) FILTER (WHERE due >= %s), count(*) FILTER (WHERE due < %s) FROM unfiled",
            (today, today),
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def find(self, where: DocumentFilter, *, after: str, limit: int) -> Iterator[Document]:
        sql = "SELECT body::text FROM documents WHERE id > %s"
        params: list[Any] = [after]
        if where.state:
            sql += " AND states @> ARRAY[%s]"
            params.append(where.state)
        if where.kind:
            sql += " AND kind = %s"
            params.append(where.kind)
        if where.issuing_body:
            sql += " AND issuing_body = %s"
            params.append(where.issuing_body)
        if where.drafting_org:
            sql += " AND drafting_org = %s"
            params.append(where.drafting_org)
        sql += " ORDER BY id LIMIT %s"
        params.append(limit)
        for row in self.conn.execute(sql.encode(), params).fetchall():
            yield rows.load_document(row[0])

    def ids_with_states(self, states: Sequence[str]) -> list[str]:
        rows = self.conn.execute("SELECT id FROM documents WHERE states && %s ORDER BY id", (list(states),)).fetchall()
        return [r[0] for r in rows]

    # numbers: a series (prefix, year) is chosen from under an advisory lock held until commit

    def next_registration(self, year: int) -> int:
        row = self.conn.execute(
            "INSERT INTO registration_numbers (year, last) VALUES (%s, 1) "
            "ON CONFLICT (year) DO UPDATE SET last = registration_numbers.last + 1 RETURNING last",
            (year,),
        ).fetchone()
        assert row is not None
        return int(row[0])

    # comments
    def add_comment(self, document: str, version: int, text: str, at: dt.datetime) -> int:
        row = self.conn.execute(
            "INSERT INTO comments (document, version, text, created_at) VALUES (%s, %s, %s, %s) RETURNING id",
            (document, version, text, at.isoformat()),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def publish(self, record: Record) -> None:
        self.conn.execute(
            "INSERT INTO outbox (topic, key, value) VALUES (%s, %s, %s)", (record.topic, record.key, record.value)
        )

    # event store
    def events_of_types(self, types: Sequence[str]) -> Iterator[tuple[str, str, int, bytes]]:
        # A page at a time: the driver holds a whole result in memory, and these are every event of
        # their types (a report reads every promulgation).
        after = 0
        while True:
            rows = self.conn.execute(
                "SELECT e.outbox_id, e.type, e.document, e.version, o.value FROM event_index e "
                "JOIN outbox o ON o.id = e.outbox_id WHERE e.type = ANY(%s) AND e.outbox_id > %s "
                "ORDER BY e.outbox_id LIMIT %s",
                (list(types), after, EVENT_PAGE),
            ).fetchall()
            for row in rows:
                yield row[1], row[2], int(row[3]), bytes(row[4])
            if len(rows) < EVENT_PAGE:
                return
            after = int(rows[-1][0])

    # inbound events
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
