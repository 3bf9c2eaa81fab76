"""The registry's SQLite store keeps a document's JSON and its events packed, and still reads and
relays what a release before packing wrote: a TEXT body, outbox rows without the `packed` column."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest
from normreg_common import outbox
from normreg_common.eventlog.port import Consumer, EventLog, PositionLoader, Record
from normreg_common.sqlite import Database
from normreg_registry.adapters import rows
from normreg_registry.adapters.sqlite_store import SCHEMA, SqliteUnitOfWork
from normreg_registry.application.events import to_records
from normreg_registry.application.ports import RegistryRepository
from normreg_registry.domain.model import Document

from tests.registry.repository_contract import DRAFTER, T0, draft

pytestmark = pytest.mark.asyncio

LONG_BODY = "".join(
    f"第{i}条 为了规范赤峰市第{i}项行政管理活动，保障公民、法人和其他组织的合法权益，制定本条。\n" for i in range(60)
)


class KeptLog(EventLog):
    """A log that keeps what it was given, in order."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ensure_topics(self, topics: Sequence[str]) -> None: ...

    async def publish(self, records: Sequence[Record]) -> None:
        self.records.extend(records)

    def consumer(self, topics: Sequence[str], group: str, positions: PositionLoader) -> Consumer:
        raise NotImplementedError


def long_draft(doc_id: str) -> Document:
    doc = draft(doc_id)
    doc.versions[0].body = LONG_BODY
    return doc


def save(store: RegistryRepository, doc: Document) -> list[Record]:
    records = to_records(doc, doc.pop_changes())
    store.save(doc, records)
    return [r for _, r in records]


async def test_a_long_document_and_its_events_are_stored_packed_and_read_back_equal(tmp_path: Path) -> None:
    db = Database(tmp_path / "registry.db", SCHEMA)
    await db.open()
    uow = SqliteUnitOfWork(db)
    doc = long_draft("d1")
    sent = await uow.write(lambda s: save(s, doc))
    assert await uow.read(lambda s: s.get("d1")) == doc
    found = await uow.read(lambda s: list(s.events_of_types(["created"])))
    assert [raw for *_, raw in found] == [r.value for r in sent]
    body, packed_value, packed = await db.read(
        lambda c: c.execute("SELECT d.body, o.value, o.packed FROM documents d, outbox o").fetchone()
    )
    assert isinstance(body, bytes)
    assert len(body) < len(rows.dump_document(doc).encode()) / 2
    assert packed == 1
    assert len(packed_value) < len(sent[0].value) / 2
    log = KeptLog()
    assert await outbox.OutboxRelay(db, log).drain() == 1
    assert log.records == sent
    await db.close()


async def test_a_database_written_before_packing_is_read_and_relayed_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    # The outbox as it was made before the `packed` column.
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, key TEXT NOT NULL, "
            "value BLOB NOT NULL, sent_at REAL, created_at REAL)"
        )
    db = Database(path, SCHEMA)
    await db.open()
    old = long_draft("old")
    old_records = [r for _, r in to_records(old, old.pop_changes())]
    legacy_row = (*rows.document_row(old, rows.SQLITE)[:7], rows.dump_document(old))

    def write_as_before(conn: sqlite3.Connection) -> None:
        conn.execute(f"INSERT INTO documents ({rows.DOCUMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", legacy_row)  # noqa: S608
        cursor = conn.execute(
            "INSERT INTO outbox (topic, key, value) VALUES (?, ?, ?)",
            (old_records[0].topic, old_records[0].key, old_records[0].value),
        )
        conn.execute(
            "INSERT INTO event_index (outbox_id, type, document, version) VALUES (?, 'created', ?, 1)",
            (cursor.lastrowid, old.name),
        )

    await db.transaction(write_as_before)
    await db.transaction(outbox.migrate)
    uow = SqliteUnitOfWork(db)
    assert await uow.read(lambda s: s.get("old")) == old
    new = long_draft("new")
    new_records = await uow.write(lambda s: save(s, new))
    found = await uow.read(lambda s: list(s.events_of_types(["created"])))
    assert [raw for *_, raw in found] == [old_records[0].value, new_records[0].value]
    # An old document saved again is written packed.
    old.submit_for_review(DRAFTER, T0)
    await uow.write(lambda s: save(s, old))
    assert isinstance(
        await db.read(lambda c: c.execute("SELECT body FROM documents WHERE id = 'old'").fetchone()[0]), bytes
    )
    assert await uow.read(lambda s: s.get("old")) == old
    log = KeptLog()
    assert await outbox.OutboxRelay(db, log).drain() == 3
    assert [r.value for r in log.records[:2]] == [old_records[0].value, new_records[0].value]
    await db.close()
