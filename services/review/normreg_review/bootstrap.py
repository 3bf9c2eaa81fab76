"""Wires the review service from settings: its database, the event log, the gRPC server, and the
background tasks (outbox relay, consumer of the registry's events)."""

from __future__ import annotations

from normreg_common import deadletter_api
from normreg_common.auth import Authenticator
from normreg_common.clock import Clock, SystemClock
from normreg_common.databases import outbox_relay, service_database
from normreg_common.eventlog.factory import event_log_from_settings
from normreg_common.eventlog.port import EventLog
from normreg_common.events import DOCUMENTS_TOPIC, REVIEWS_TOPIC
from normreg_common.grpc_server import create_server
from normreg_common.profile import get_profile
from normreg_common.runtime import Runtime
from normreg_common.settings import Settings

from normreg_review.adapters.postgres_store import MIGRATIONS
from normreg_review.adapters.sqlite_store import SCHEMA
from normreg_review.adapters.stores import unit_of_work
from normreg_review.application.service import ReviewService
from normreg_review.entrypoints.document_events import document_events_consumer, document_events_handler
from normreg_review.entrypoints.grpc_servicer import register

DOMAIN = "normreg.review"


class ReviewApp:
    def __init__(self, *, service: ReviewService, runtime: Runtime, port: int) -> None:
        self.port = port
        self.service = service
        self._runtime = runtime

    async def start(self) -> None:
        await self._runtime.start()

    async def stop(self, grace: float = 1.0) -> None:
        await self._runtime.stop(grace)

    async def sync(self) -> int:
        """Consume every event already in the log, then relay the whole outbox; how many records moved."""
        return await self._runtime.sync()


async def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    event_log: EventLog | None = None,
    background: bool = True,
    codec: Authenticator | None = None,
) -> ReviewApp:
    db = service_database(settings, "review", sqlite_schema=SCHEMA, migrations=MIGRATIONS)
    owns_event_log = event_log is None
    log = event_log if event_log is not None else event_log_from_settings(settings, "review")
    relay = outbox_relay(db, log, service="review")
    service = ReviewService(
        unit_of_work(db, on_commit=relay.notify),
        clock or SystemClock(),
        get_profile(settings.profile),
        reviewing_office=settings.reviewing_office,
    )
    handler = document_events_handler(service, db)
    server, port = create_server(
        settings.review_addr,
        codec or settings.authenticator(),
        DOMAIN,
        [register(service), deadletter_api.register(deadletter_api.DeadLetterServicer(handler))],
        request_limits={"DecideReview": 1024 * 1024},
        tls=settings.server_tls(),
    )
    runtime = Runtime(
        name="review",
        db=db,
        event_log=log,
        owns_event_log=owns_event_log,
        topics=[DOCUMENTS_TOPIC, REVIEWS_TOPIC],
        relay=relay,
        consumer=document_events_consumer(service, db, log, handler),
        server=server,
        background=background,
        metrics_interval_s=settings.metrics_interval_s,
    )
    return ReviewApp(service=service, runtime=runtime, port=port)
