"""Wires the filing review service from settings: its database, the event log, the gRPC server and
the outbox relay. What it reviews arrives on subordinates' streams, one consumer per peer deployment
of NORMREG_FEDERATION_PEERS (or the `subordinates` a caller gives). Of its own jurisdiction's stream
it reads only the state of each version, which review suggestions are checked against."""

from __future__ import annotations

from collections.abc import Sequence

from normreg_common import deadletter_api
from normreg_common.auth import Authenticator
from normreg_common.clock import Clock, SystemClock
from normreg_common.consuming import Consuming
from normreg_common.databases import outbox_relay, service_database
from normreg_common.eventlog.factory import event_log_from_settings
from normreg_common.eventlog.port import EventLog
from normreg_common.events import FILINGS_TOPIC
from normreg_common.grpc_server import create_server
from normreg_common.inbox import ConsumerRunner
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.ratelimit import RateLimiter
from normreg_common.runtime import Runtime
from normreg_common.settings import Settings
from normreg_common.sqlite import Database

from normreg_filing.adapters.postgres_store import MIGRATIONS
from normreg_filing.adapters.sqlite_store import SCHEMA, upgrade
from normreg_filing.adapters.stores import unit_of_work
from normreg_filing.application.inbound import Inbound
from normreg_filing.application.service import FilingReviewService
from normreg_filing.entrypoints.grpc_servicer import register
from normreg_filing.entrypoints.own_events import own_events_consumer, own_events_handler
from normreg_filing.entrypoints.subordinate_events import subordinate_consumers

DOMAIN = "normreg.filing"
# A decision carries reasons and provisions, a correction response a letter's substance.
REQUEST_LIMITS = {
    "DecideFilingReview": 256 * 1024,
    "RecordCorrectionResponse": 256 * 1024,
    "ReplyToReviewSuggestion": 256 * 1024,
}


class FilingApp:
    def __init__(
        self, *, service: FilingReviewService, runtime: Runtime, port: int, db: Database | PostgresDatabase
    ) -> None:
        self.port = port
        self.service = service
        self.db = db
        self._runtime = runtime

    async def start(self) -> None:
        await self._runtime.start()

    async def stop(self, grace: float = 1.0) -> None:
        await self._runtime.stop(grace)

    async def sync(self) -> int:
        """Consume every event already in the logs, then relay the whole outbox; how many records moved."""
        return await self._runtime.sync()


async def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    event_log: EventLog | None = None,
    background: bool = True,
    codec: Authenticator | None = None,
    subordinates: Sequence[ConsumerRunner] | None = None,
) -> FilingApp:
    db = service_database(settings, "filing", sqlite_schema=SCHEMA, migrations=MIGRATIONS, sqlite_upgrade=upgrade)
    owns_event_log = event_log is None
    log = event_log if event_log is not None else event_log_from_settings(settings, "filing")
    # The outbox carries what the senders are told (signed with this jurisdiction's key).
    relay = outbox_relay(db, log, service="filing")
    profile = settings.jurisdiction_profile()
    service = FilingReviewService(
        unit_of_work(db, on_commit=relay.notify),
        clock or SystemClock(),
        profile,
        key=settings.federation_signer(),
    )
    own = own_events_handler(service, db)
    handlers: list[Consuming[Inbound]] = []
    if subordinates is None:
        built = subordinate_consumers(settings, service, db, profile)
        handlers = [handler for handler, _ in built]
        subordinates = [runner for _, runner in built]
    limiter = RateLimiter(settings.filing_suggestion_limit, settings.filing_suggestion_window_s)
    server, port = create_server(
        settings.filing_addr,
        codec or settings.authenticator(),
        DOMAIN,
        # Served even with no peer (an empty list), so `normreg dead-letters list` can ask every service.
        [register(service, limiter), deadletter_api.register(deadletter_api.DeadLetterServicer(own, *handlers))],
        request_limits=REQUEST_LIMITS,
        tls=settings.server_tls(),
    )
    runtime = Runtime(
        name="filing",
        db=db,
        event_log=log,
        owns_event_log=owns_event_log,
        topics=[FILINGS_TOPIC],
        relay=relay,
        consumer=own_events_consumer(db, log, own),
        more_consumers=subordinates,
        server=server,
        background=background,
        metrics_interval_s=settings.metrics_interval_s,
    )
    return FilingApp(service=service, runtime=runtime, port=port, db=db)
