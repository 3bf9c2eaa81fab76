"""Consumes the registry's document events into the search index.

Positions are saved with `save_positions` in search.db: in the same transaction as the writes with
the embedded index, after the acknowledged bulk write with Elasticsearch (see index/port.py). A
record that is not a CloudEvent, or whose projection fails, is set aside (logged at ERROR with its
position and the error, counted in `normreg_dead_letters`) and the rest of the batch is applied:
one bad document must never stop the projection, the rebuild or the documents behind it.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Sequence

from normreg_common import metrics, tracing
from normreg_common.eventlog.port import Delivery
from normreg_common.events import CloudEvent
from normreg_common.inbox import save_positions
from pydantic import ValidationError

from normreg_search import witness
from normreg_search.index.port import SearchIndex
from normreg_search.model import VersionChange
from normreg_search.projection import project

log = logging.getLogger(__name__)

GROUP = "search-projection"
CONSUMER = "search:documents"


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


def _set_aside(delivery: Delivery, why: str) -> None:
    metrics.record_dead_letter(CONSUMER, delivery.topic)
    log.error("search projection: set aside %s[%d]@%d: %s", delivery.topic, delivery.partition, delivery.offset, why)


class ProjectionHandler:
    """The batch handler given to normreg_common.inbox.ConsumerRunner."""

    def __init__(self, index: SearchIndex, tz: dt.tzinfo, group: str = GROUP) -> None:
        self._index = index
        self._tz = tz
        self._group = group

    async def __call__(self, batch: list[Delivery]) -> None:
        checkpoints: list[tuple[str, int, str]] = []
        changes = changes_of(batch, self._tz, checkpoints)

        def positions(conn: sqlite3.Connection) -> None:
            witness.keep(conn, checkpoints)
            save_positions(conn, self._group, batch)

        with tracing.span("normreg.search", "index apply", **{"normreg.index.changes": len(changes)}):
            await self._index.apply(changes, on_commit=positions)
