"""Applies legality review decisions that arrive from the review service as events.

Positions and applied sequences are saved in the same transaction as the document change, so a
redelivered or duplicated decision changes nothing; a decision for an older round is ignored."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from normreg_common.eventlog.port import Delivery
from normreg_common.events import CloudEvent
from normreg_common.inbox import accept_sequence, save_positions
from normreg_common.postgres.database import Conn, PostgresDatabase
from normreg_common.principal import Principal, Role
from normreg_common.sqlite import Database

from normreg_registry.adapters.stores import open_store
from normreg_registry.application.service import RegistryService

log = logging.getLogger(__name__)

GROUP = "registry"
DECIDED = "normreg.review.v1.decided"


class ReviewDecisionHandler:
    def __init__(
        self, db: Database | PostgresDatabase, service: RegistryService, on_commit: Callable[[], None]
    ) -> None:
        self._db = db
        self._service = service
        self._on_commit = on_commit

    async def __call__(self, batch: list[Delivery]) -> None:
        def work(conn: sqlite3.Connection | Conn) -> None:
            store = open_store(conn)
            for delivery in batch:
                event = CloudEvent.from_bytes(delivery.value)
                if event.type != DECIDED or not accept_sequence(conn, event.source, event.subject, event.sequence):
                    continue
                data = event.data
                reviewer = Principal(
                    subject=str(data["reviewer"]),
                    roles=frozenset({Role.REVIEWER}),
                    org=str(data.get("reviewing_office", "")),
                )
                applied = self._service.apply_review_decision_sync(
                    store,
                    doc_id=str(data["document"]).removeprefix("documents/"),
                    decision=str(data["decision"]),
                    version=int(data["version_number"]),
                    review_round=int(data["review_round"]),
                    reviewer=reviewer,
                    review=str(data["review"]),
                    at=event.time,
                )
                if not applied:
                    log.info("ignored stale review decision %s for %s", data["review"], data["document"])
            save_positions(conn, GROUP, batch)

        await self._db.transaction(work)
        self._on_commit()
