"""Test helpers: real registry documents and events, the review events published, the review DB."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from normreg_common.clock import FakeClock
from normreg_common.eventlog.port import Record
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.events import REVIEWS_TOPIC, CloudEvent
from normreg_common.principal import Principal, Role
from normreg_registry.application.events import to_records
from normreg_registry.domain.lifecycle import Kind
from normreg_registry.domain.model import Document

ORG = "市教育局"
OTHER_ORG = "市交通运输局"
TITLE = "赤峰市校外培训机构管理办法"
BODY = "第一条 为了规范校外培训机构，制定本办法。\n第二条 本办法适用于本市行政区域。"


def drafter(subject: str = "alice", org: str = ORG) -> Principal:
    return Principal(subject=subject, roles=frozenset({Role.DRAFTER}), org=org)


class Registry:
    """Stands in for the registry: its own domain makes the documents, its own code makes the events."""

    def __init__(self, log: SqliteEventLog, clock: FakeClock) -> None:
        self.log = log
        self.clock = clock
        self.published: list[Record] = []

    def draft(self, doc_id: str = "doc1", *, author: Principal | None = None) -> Document:
        return Document.create(
            id=doc_id,
            kind=Kind.NORMATIVE_DOCUMENT,
            title=TITLE,
            body=BODY,
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
            provisional=False,
            principal=author or drafter(),
            at=self.clock.now(),
        )

    async def submit(self, doc_id: str = "doc1", *, author: Principal | None = None) -> Document:
        doc = self.draft(doc_id, author=author)
        doc.submit_for_review(author or drafter(), self.clock.now())
        await self.publish(doc)
        return doc

    async def resubmit(self, doc: Document, editor: Principal, body: str) -> None:
        doc.update_draft(editor, self.clock.now(), title=None, body=body, etag="")
        doc.submit_for_review(editor, self.clock.now())
        await self.publish(doc)

    async def withdraw(self, doc: Document, reason: str = "政策调整，撤回草案") -> None:
        doc.withdraw(drafter(org=doc.drafting_org), self.clock.now(), reason)
        await self.publish(doc)

    async def publish(self, doc: Document) -> list[Record]:
        records = [record for _, record in to_records(doc, doc.pop_changes())]
        await self.log.publish(records)
        self.published.extend(records)
        return records


async def review_events(log: SqliteEventLog) -> list[CloudEvent]:
    """Everything on the reviews topic so far, in order."""

    async def from_start(topic: str, partition: int) -> int | None:
        return None

    consumer = log.consumer([REVIEWS_TOPIC], "test-reader", from_start)
    await consumer.start()
    try:
        return [CloudEvent.from_bytes(d.value) for d in await consumer.poll(timeout=0)]
    finally:
        await consumer.close()


def review_rows(data_dir: Path) -> list[dict[str, Any]]:
    """The review DB as another process would see it, to prove a refused request changed nothing."""
    with closing(sqlite3.connect(data_dir / "review.db")) as conn:
        conn.row_factory = sqlite3.Row
        reviews = [dict(r) for r in conn.execute("SELECT * FROM reviews ORDER BY pos")]
        outbox = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    return [*reviews, {"outbox": outbox}]
