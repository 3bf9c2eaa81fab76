"""Consumes the registry's document events into the search index.

Positions are saved with `save_positions` in search.db: in the same transaction as the writes with
the embedded index, after the acknowledged bulk write with Elasticsearch (see index/port.py). A
record that is not a CloudEvent, or whose projection fails, is set aside (a dead letter in search.db
for the live consumer, see normreg_common.consuming; logged and counted during a rebuild, whose
records the live consumer has already met) and the rest is applied: one bad document must never
stop the projection, the rebuild or the documents behind it.

The live consumer projects only the newest event of each version in a batch: one write often emits
several events of a version (an import and the clock's marks that travel with it), each with the
whole snapshot, and the index keeps only the newest anyway. An event it does not project is still
read as a CloudEvent and gives up its checkpoint. Should the newest fail to project, the batch is
applied record by record (normreg_common.consuming), so the older events still apply and the
failing one is set aside.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from elastic_transport import TransportError
from elasticsearch import ApiError
from normreg_common import document_events, metrics, tracing
from normreg_common.consuming import INFRASTRUCTURE, Consuming
from normreg_common.deadletters import DeadLetters
from normreg_common.eventlog.port import Delivery
from normreg_common.events import CloudEvent
from normreg_common.inbox import save_positions
from pydantic import ValidationError

from normreg_search import witness
from normreg_search.index.elasticsearch import IndexBusy
from normreg_search.index.port import SearchIndex
from normreg_search.model import CommentCount, VersionChange
from normreg_search.projection import project, project_comment

log = logging.getLogger(__name__)

GROUP = "search-projection"
CONSUMER = "search:documents"
# The index's own failures that mean "try again later", not "this document cannot be indexed".
INDEX_UNAVAILABLE: tuple[type[BaseException], ...] = (TransportError, ApiError, IndexBusy)


def changes_of(
    batch: Sequence[Delivery], tz: dt.tzinfo, checkpoints: list[tuple[str, int, str]] | None = None
) -> list[VersionChange]:
    """The index changes of `batch`; the registry's checkpoints it carries are added to `checkpoints`."""
    out: list[VersionChange] = []
    for delivery in batch:
        try:
            event = CloudEvent.from_bytes(delivery.value)
        except ValidationError:
            _set_aside(delivery, "not a CloudEvent")
            continue
        if checkpoints is not None and event.checkpoint:
            checkpoints.append((event.subject, event.sequence, event.checkpoint))
        try:
            change = project(event, tz)
        except Exception as exc:  # one document's data must not stop the others
            _set_aside(delivery, f"{event.subject} sequence {event.sequence}: {type(exc).__name__}: {exc}")
            continue
        if change is not None:
            out.append(change)
    return out


async def apply_or_set_aside(
    apply: Callable[[list[VersionChange]], Awaitable[object]], changes: list[VersionChange]
) -> None:
    """`changes` applied together; when the index refuses them for what one holds, one by one, each
    it refuses set aside (logged and counted), the others applied: what a rebuild does with a version
    the live consumer has already set aside as a dead letter."""
    try:
        await apply(changes)
        return
    except (*INFRASTRUCTURE, *INDEX_UNAVAILABLE):
        raise
    except Exception:
        log.info("search rebuild: the index refused a batch; applying its %d versions one by one", len(changes))
    for change in changes:
        try:
            await apply([change])
        except (*INFRASTRUCTURE, *INDEX_UNAVAILABLE):
            raise
        except Exception as exc:  # one document's data must not stop the others
            metrics.record_dead_letter(CONSUMER, "rebuild")
            why = f"{type(exc).__name__}: {exc}"
            log.error("search rebuild: set aside %s sequence %d: %s", change.name, change.sequence, why)


def _set_aside(delivery: Delivery, why: str) -> None:
    metrics.record_dead_letter(CONSUMER, delivery.topic)
    log.error("search projection: set aside %s[%d]@%d: %s", delivery.topic, delivery.partition, delivery.offset, why)


@dataclass(frozen=True)
class Projected:
    change: VersionChange | None
    comment: CommentCount | None
    # (subject, sequence, checkpoint) when the event carries the registry's signed checkpoint.
    checkpoint: tuple[str, int, str] | None
    # A document event whose projection waits for the batch (see the module's docstring), and the
    # version it names.
    pending: CloudEvent | None = None
    version: str = ""


def version_named(event: CloudEvent) -> str:
    """The version a published document event names, or "" when that cannot be told without
    reading it whole (a legacy event, or data of another shape: projected at once, as before)."""
    if event.dataschema is None or not document_events.is_document_event(event):
        return ""
    version = event.data.get("version")
    name = version.get("name") if isinstance(version, dict) else None
    return name if isinstance(name, str) else ""


def newest_per_version(items: Sequence[Projected]) -> list[CloudEvent]:
    """The pending event of the highest sequence for each version, in first-seen order."""
    newest: dict[str, CloudEvent] = {}
    for item in items:
        if item.pending is None:
            continue
        current = newest.get(item.version)
        if current is None or item.pending.sequence > current.sequence:
            newest[item.version] = item.pending
    return list(newest.values())


def projection_consumer(
    index: SearchIndex, tz: dt.tzinfo, dead_letters: DeadLetters, group: str = GROUP
) -> Consuming[Projected]:
    """The live projection: a record that is not a CloudEvent, or whose projection or indexing fails
    for what it holds, becomes a dead letter in search.db and the rest of the stream goes on."""

    def decode(delivery: Delivery) -> Projected:
        event = CloudEvent.from_bytes(delivery.value)
        checkpoint = (event.subject, event.sequence, event.checkpoint) if event.checkpoint else None
        if version := version_named(event):
            return Projected(None, None, checkpoint, pending=event, version=version)
        return Projected(project(event, tz), project_comment(event), checkpoint)

    async def apply(batch: Sequence[Delivery], items: list[Projected]) -> None:
        changes = [i.change for i in items if i.change is not None]
        for event in newest_per_version(items):
            change = project(event, tz)
            if change is not None:
                changes.append(change)
        comments = [i.comment for i in items if i.comment is not None]
        checkpoints = [i.checkpoint for i in items if i.checkpoint is not None]

        def positions(conn: sqlite3.Connection) -> None:
            witness.keep(conn, checkpoints)
            save_positions(conn, group, batch)

        with tracing.span("normreg.search", "index apply", **{"normreg.index.changes": len(changes)}):
            await index.apply(changes, comments=comments, on_commit=positions)

    return Consuming(decode, apply, dead_letters, consumer=CONSUMER, infrastructure=INDEX_UNAVAILABLE)
