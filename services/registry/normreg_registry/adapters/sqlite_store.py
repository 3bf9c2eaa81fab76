"""The registry's own SQLite database: documents (as JSON aggregates with indexed columns), the
hash-chained history, the outbox (which doubles as the registry's event store), numbers, comments,
idempotency keys and cleanup campaigns. `SqliteUnitOfWork` runs each unit of work as one transaction
on the database's single thread, so writers are serialised by construction."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from normreg_common.deadletters import DEAD_LETTER_SCHEMA
from normreg_common.eventlog.port import Delivery, Record
from normreg_common.inbox import INBOX_SCHEMA, accept_sequence, save_positions
from normreg_common.outbox import OUTBOX_SCHEMA
from normreg_common.packing import pack, unpack
from normreg_common.sqlite import Database
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

# Databases written before numbers were keyed as printed: carry their numbers over once.
_CARRY_OVER_NUMBERS = (
    "CREATE TABLE IF NOT EXISTS uniform_numbers (issuing_body TEXT, year INTEGER, sequence INTEGER, number TEXT, "
    "document TEXT); INSERT OR IGNORE INTO held_numbers (printed, prefix, year, sequence, document) SELECT number, "
    "substr(number, 1, instr(number, '〔') - 1), year, sequence, document FROM uniform_numbers; "
    "DELETE FROM uniform_numbers;"
)

# Every save writes the document's schedule; documents stored before schedules were kept get one
# here, due at once (ports.UNSCHEDULED), so a scheduler run reads only the clock's index. Each open
# looks for them in one pass of the documents' key, in the database: nothing is held in memory.
_SCHEDULE_THE_UNSCHEDULED = (
    "INSERT INTO clock (document, wake_on) SELECT id, '0001-01-01' FROM documents "
    "WHERE NOT EXISTS (SELECT 1 FROM clock WHERE clock.document = documents.id);"
)
# Once (noted in upgrades): an imported version owes no filing the registry knows of, but one was kept
# for it in unfiled with an empty recipient, as a version promulgated before obligations were kept
# per recipient still is. Every document holding such a row is due at once: the scheduler's next run
# reads it and writes its obligations again (postgres_migrations/0007_imported_owe_nothing.sql).
_IMPORTED_OWE_NOTHING = (
    "CREATE TABLE IF NOT EXISTS upgrades (name TEXT PRIMARY KEY);"
    "UPDATE clock SET wake_on = '0001-01-01' WHERE document IN "
    "(SELECT DISTINCT document FROM unfiled WHERE recipient = '') "
    "AND NOT EXISTS (SELECT 1 FROM upgrades WHERE name = 'imported_owe_nothing');"
    "INSERT OR IGNORE INTO upgrades (name) VALUES ('imported_owe_nothing');"
)

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    issuing_body TEXT NOT NULL,
    drafting_org TEXT NOT NULL,
    state TEXT NOT NULL,
    states TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_state ON documents (state);
CREATE INDEX IF NOT EXISTS documents_org ON documents (drafting_org);
CREATE TABLE IF NOT EXISTS history (
    document TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    time TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (document, sequence)
) WITHOUT ROWID;
-- Uniform numbers ever held, unique as printed; rows are never deleted (numbers are never reused).
CREATE TABLE IF NOT EXISTS held_numbers (
    printed TEXT PRIMARY KEY,
    prefix TEXT NOT NULL,
    year INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    document TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS held_numbers_series ON held_numbers (prefix, year, sequence);
CREATE TABLE IF NOT EXISTS registration_numbers (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    request_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    PRIMARY KEY (scope, request_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document TEXT NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    reply TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS comments_document ON comments (document, version, id);
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS event_index (
    outbox_id INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    document TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS event_index_type ON event_index (type);
-- What the clock will do, kept with each save: a scheduler run reads only the documents due.
CREATE TABLE IF NOT EXISTS clock (
    document TEXT PRIMARY KEY,
    wake_on TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS clock_wake ON clock (wake_on);
CREATE TABLE IF NOT EXISTS unfiled (
    document TEXT NOT NULL,
    version INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    due TEXT NOT NULL,
    PRIMARY KEY (document, version, recipient)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS unfiled_due ON unfiled (due);
"""
    + OUTBOX_SCHEMA
    + INBOX_SCHEMA
    + DEAD_LETTER_SCHEMA
    + _CARRY_OVER_NUMBERS
    + _SCHEDULE_THE_UNSCHEDULED
    + _IMPORTED_OWE_NOTHING
)

T = TypeVar("T")


class SqliteUnitOfWork(UnitOfWork):
    def __init__(self, db: Database, on_commit: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self._on_commit = on_commit

    async def write(self, work: Callable[[RegistryRepository], T]) -> T:
        result = await self.db.transaction(lambda conn: work(Store(conn)))
        self._on_commit()
        return result

    async def read(self, work: Callable[[RegistryRepository], T]) -> T:
        return await self.db.read(lambda conn: work(Store(conn)))


class Store(SqlStore):
    """The repository over one connection, inside the unit of work's transaction."""

    unique_violation = sqlite3.IntegrityError

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # documents
    def get(self, doc_id: str) -> Document | None:
        row = self.conn.execute("SELECT body FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return None if row is None else rows.load_document(row[0], rows.SQLITE)

    def save(
        self,
        doc: Document,
        records: Sequence[tuple[Change, Record]],
        entries: Sequence[HistoryEntry] | None = None,
    ) -> None:
        self.conn.execute(
            f"INSERT INTO documents ({rows.DOCUMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608 - constants only
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state, states = excluded.states, body = excluded.body",
            rows.document_row(doc, rows.SQLITE),
        )
        now = time.time()
        for i, (change, record) in enumerate(records):
            self._append_history(
                entries[i] if entries is not None else entry_for(doc.name, change, self.history_head(doc.name))
            )
            value, packed = pack(record.value)
            cursor = self.conn.execute(
                "INSERT INTO outbox (topic, key, value, created_at, packed) VALUES (?, ?, ?, ?, ?)",
                (record.topic, record.key, value, now, packed),
            )
            self.conn.execute(
                "INSERT INTO event_index (outbox_id, type, document, version) VALUES (?, ?, ?, ?)",
                (cursor.lastrowid, change.action, doc.name, change.version),
            )

    def _append_history(self, entry: HistoryEntry) -> None:
        self.conn.execute(
            f"INSERT INTO history ({rows.HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608 - constants only
            rows.history_row(entry),
        )

    def isolated(self, work: Callable[[], T]) -> T:
        # Nested in the group commit's own savepoint (normreg_common.sqlite).
        self.conn.execute("SAVEPOINT part")
        try:
            result = work()
        except BaseException:
            self.conn.execute("ROLLBACK TO part")
            self.conn.execute("RELEASE part")
            raise
        self.conn.execute("RELEASE part")
        return result

    def find(self, where: DocumentFilter, *, after: str, limit: int) -> Iterator[Document]:
        sql = "SELECT body FROM documents WHERE id > ?"
        params: list[Any] = [after]
        if where.state:
            sql += " AND (',' || states || ',') LIKE ?"
            params.append(f"%,{where.state},%")
        if where.kind:
            sql += " AND kind = ?"
            params.append(where.kind)
        if where.issuing_body:
            sql += " AND issuing_body = ?"
            params.append(where.issuing_body)
        if where.drafting_org:
            sql += " AND drafting_org = ?"
            params.append(where.drafting_org)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        for row in self.conn.execute(sql, params):
            yield rows.load_document(row[0], rows.SQLITE)

    def ids_with_states(self, states: Sequence[str]) -> list[str]:
        clauses = " OR ".join("(',' || states || ',') LIKE ?" for _ in states)
        rows = self.conn.execute(
            f"SELECT id FROM documents WHERE {clauses} ORDER BY id",  # noqa: S608
            [f"%,{s},%" for s in states],
        ).fetchall()
        return [r[0] for r in rows]

    # the clock
    def schedule(self, doc_id: str, wake_on: dt.date | None, unfiled: Sequence[UnfiledObligation]) -> None:
        self.conn.execute(
            "INSERT INTO clock (document, wake_on) VALUES (?, ?) ON CONFLICT (document) DO UPDATE SET "
            "wake_on = excluded.wake_on",
            (doc_id, rows.SQLITE.day(wake_on or rows.NEVER)),
        )
        self.conn.execute("DELETE FROM unfiled WHERE document = ?", (doc_id,))
        self.conn.executemany(
            f"INSERT OR REPLACE INTO unfiled ({rows.UNFILED_COLUMNS}) VALUES (?, ?, ?, ?)",  # noqa: S608 - constants only
            [rows.unfiled_row(o, rows.SQLITE) for o in unfiled],
        )

    def clock_due(self, today: dt.date, after: tuple[dt.date, str], limit: int) -> list[tuple[dt.date, str]]:
        # One range of clock_wake, whose entries hold (wake_on, document): the table's key follows.
        found = self.conn.execute(
            "SELECT wake_on, document FROM clock WHERE wake_on <= ? AND (wake_on, document) > (?, ?) "
            "ORDER BY wake_on, document LIMIT ?",
            (rows.SQLITE.day(today), rows.SQLITE.day(after[0]), after[1], limit),
        ).fetchall()
        return [(rows.SQLITE.read_day(r[0]), r[1]) for r in found]

    def unfiled_after(self, until: dt.date, after: UnfiledKey, limit: int) -> list[UnfiledObligation]:
        # One range of unfiled_due, whose entries hold (due, document, version, recipient): the
        # table's key follows.
        found = self.conn.execute(
            f"SELECT {rows.UNFILED_COLUMNS} FROM unfiled WHERE due <= ? "  # noqa: S608 - constants only
            "AND (due, document, version, recipient) > (?, ?, ?, ?) ORDER BY due, document, version, recipient LIMIT ?",
            (rows.SQLITE.day(until), rows.SQLITE.day(after[0]), after[1], after[2], after[3], limit),
        ).fetchall()
        return [rows.unfiled_obligation(r, rows.SQLITE) for r in found]

    def unfiled_counts(self, today: dt.date) -> tuple[int, int]:
        row = self.conn.execute(
            "SELECT count(*) FILTER (WHERE due >= ?), count(*) FILTER (WHERE due < ?) FROM unfiled",
            (today.isoformat(), today.isoformat()),
        ).fetchone()
        return int(row[0]), int(row[1])

    # numbers

    def next_registration(self, year: int) -> int:
        row = self.conn.execute(
            "INSERT INTO registration_numbers (year, last) VALUES (?, 1) "
            "ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
            (year,),
        ).fetchone()
        return int(row[0])

    # comments
    def add_comment(self, document: str, version: int, text: str, at: dt.datetime) -> int:
        cursor = self.conn.execute(
            "INSERT INTO comments (document, version, text, created_at) VALUES (?, ?, ?, ?)",
            (document, version, text, at.isoformat()),
        )
        return int(cursor.lastrowid or 0)

    def publish(self, record: Record) -> None:
        self.conn.execute(
            "INSERT INTO outbox (topic, key, value, created_at) VALUES (?, ?, ?, ?)",
            (record.topic, record.key, record.value, time.time()),
        )

    # event store
    def events_of_types(self, types: Sequence[str]) -> Iterator[tuple[str, str, int, bytes]]:
        marks = ",".join("?" for _ in types)
        # Only placeholders are interpolated; the values are bound.
        head = (
            "SELECT e.type, e.document, e.version, o.value, o.packed FROM event_index e "
            "JOIN outbox o ON o.id = e.outbox_id"
        )
        sql = f"{head} WHERE e.type IN ({marks}) ORDER BY e.outbox_id"
        for row in self.conn.execute(sql, types):
            yield row[0], row[1], int(row[2]), unpack(bytes(row[3]), row[4])

    # inbound events
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
