"""Wires the review service from settings: its database, the event log, the gRPC server, and the
background tasks (outbox relay, consumer of the registry's events)."""

from __future__ import annotations

import asyncio
import contextlib

import grpc
from normreg_common.auth import TokenCodec
from normreg_common.clock import Clock, SystemClock
from normreg_common.eventlog.factory import event_log_from_settings
from normreg_common.eventlog.port import EventLog
from normreg_common.events import DOCUMENTS_TOPIC, REVIEWS_TOPIC
from normreg_common.grpc_server import create_server, mark_serving
from normreg_common.inbox import ConsumerRunner
from normreg_common.outbox import OutboxRelay
from normreg_common.profile import get_profile
from normreg_common.settings import Settings
from normreg_common.sqlite import Database

from normreg_review.adapters.sqlite_store import SCHEMA
from normreg_review.application.service import ReviewService
from normreg_review.entrypoints.document_events import document_events_consumer
from normreg_review.entrypoints.grpc_servicer import register

DOMAIN = "normreg.review"


class ReviewApp:
    def __init__(
        self,
        *,
        db: Database,
        service: ReviewService,
        relay: OutboxRelay,
        consumer: ConsumerRunner,
        event_log: EventLog,
        owns_event_log: bool,
        server: grpc.aio.Server,
        port: int,
        background: bool,
    ) -> None:
        self.port = port
        self.service = service
        self._db = db
        self._relay = relay
        self._consumer = consumer
        self._event_log = event_log
        self._owns_event_log = owns_event_log
        self._server = server
        self._background = background
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self._db.open()
        if self._owns_event_log:
            await self._event_log.start()
        await self._event_log.ensure_topics([DOCUMENTS_TOPIC, REVIEWS_TOPIC])
        # After the database: the consumer resumes from the positions stored there.
        await self._consumer.start()
        await self._server.start()
        await mark_serving(self._server)
        if self._background:
            self._tasks = [
                asyncio.create_task(self._relay.run(self._stop), name="review: outbox relay"),
                asyncio.create_task(self._consumer.run(self._stop), name="review: document events"),
            ]

    async def stop(self, grace: float = 1.0) -> None:
        self._stop.set()
        await self._server.stop(grace)
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._consumer.close()
        await self._db.close()
        if self._owns_event_log:
            await self._event_log.close()

    async def sync(self) -> int:
        """Consume every event already in the log, then relay the whole outbox; how many records moved."""
        consumed = await self._consumer.drain()
        relayed = await self._relay.drain()
        return consumed + relayed


async def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    event_log: EventLog | None = None,
    background: bool = True,
    codec: TokenCodec | None = None,
) -> ReviewApp:
    db = Database(settings.data_dir / "review.db", SCHEMA, synchronous=settings.sqlite_synchronous)
    owns_event_log = event_log is None
    log = event_log if event_log is not None else event_log_from_settings(settings, "review")
    relay = OutboxRelay(db, log)
    service = ReviewService(
        db,
        clock or SystemClock(),
        get_profile(settings.profile),
        reviewing_office=settings.reviewing_office,
        on_commit=relay.notify,
    )
    server, port = create_server(settings.review_addr, codec or settings.token_codec(), DOMAIN, [register(service)])
    return ReviewApp(
        db=db,
        service=service,
        relay=relay,
        consumer=document_events_consumer(service, db, log),
        event_log=log,
        owns_event_log=owns_event_log,
        server=server,
        port=port,
        background=background,
    )
