"""Wires the registry from settings: database, event log, relay, the consumer of review decisions and
of what its filings' recipients report (their topics, NORMREG_FEDERATION_PEERS), scheduler, gRPC."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from normreg_common import deadletter_api, metrics
from normreg_common.auth import Authenticator
from normreg_common.clock import Clock, SystemClock
from normreg_common.databases import outbox_relay, service_database
from normreg_common.deadletters import DeadLetters
from normreg_common.eventlog.factory import event_log_from_settings
from normreg_common.eventlog.port import EventLog
from normreg_common.eventlog.qualified import qualified_consumer
from normreg_common.events import DOCUMENTS_TOPIC, FILINGS_TOPIC, REVIEWS_TOPIC
from normreg_common.federation import Signer
from normreg_common.grpc_server import create_server
from normreg_common.inbox import ConsumerRunner, position_loader
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.runtime import Runtime
from normreg_common.settings import Settings

from normreg_registry.adapters.postgres_store import MIGRATIONS
from normreg_registry.adapters.sqlite_store import SCHEMA
from normreg_registry.adapters.stores import unit_of_work
from normreg_registry.application.service import RegistryService
from normreg_registry.entrypoints.filing_outcomes_consumer import filing_outcomes_consumer
from normreg_registry.entrypoints.grpc_servicer import DOMAIN, REQUEST_LIMITS, RegistryServicer, register
from normreg_registry.entrypoints.review_consumer import CONSUMER, GROUP

log = logging.getLogger(__name__)

OUTCOMES_CONSUMER = "registry:filing-outcomes"


class RegistryApp:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        event_log: EventLog,
        owns_log: bool,
        background: bool,
        codec: Authenticator,
    ) -> None:
        self.settings = settings
        self.db = service_database(settings, "registry", sqlite_schema=SCHEMA, migrations=MIGRATIONS)
        self.relay = outbox_relay(self.db, event_log, service="registry")
        self.uow = unit_of_work(self.db, on_commit=self.relay.notify)
        profile = settings.jurisdiction_profile()
        self.service = RegistryService(
            self.uow,
            clock,
            profile,
            signer=settings.checkpoint_signer(),
            federation=Signer(profile.name, settings.federation_signer()),
        )
        # The recipients of our filings that run normreg (the profile's recipient jurisdictions, on
        # the shared log as peers, their key known): their reports arrive on their filings topics.
        self.recipient_prefixes = {
            name: prefix for name, prefix in settings.peers() if profile.receives_for(name) and profile.keys_of(name)
        }
        self.inbound = filing_outcomes_consumer(
            self.service, DeadLetters(self.db, GROUP), profile, self.recipient_prefixes
        )
        consumer = ConsumerRunner(
            event_log.consumer([REVIEWS_TOPIC], GROUP, position_loader(self.db, GROUP)),
            self.inbound,
            CONSUMER,
        )
        outcomes = []
        for name, prefix in self.recipient_prefixes.items():
            # A Kafka group of this deployment's own on their topic: every sender reads all of it.
            peer_log = event_log_from_settings(settings, f"registry-{name}", topic_prefix=prefix)
            group = f"{settings.topics_prefix}{GROUP}.filing-outcomes"
            reader = qualified_consumer(peer_log, prefix, [FILINGS_TOPIC], group, position_loader(self.db, GROUP))
            outcomes.append(ConsumerRunner(reader, self.inbound, f"{OUTCOMES_CONSUMER}:{name}"))
        server, self.port = create_server(
            settings.registry_addr,
            codec,
            DOMAIN,
            [
                register(RegistryServicer(self.service)),
                deadletter_api.register(deadletter_api.DeadLetterServicer(self.inbound)),
            ],
            request_limits=REQUEST_LIMITS,
            tls=settings.server_tls(),
        )
        self._runtime = Runtime(
            name="registry",
            db=self.db,
            event_log=event_log,
            owns_event_log=owns_log,
            topics=[DOCUMENTS_TOPIC, REVIEWS_TOPIC],
            relay=self.relay,
            consumer=consumer,
            more_consumers=outcomes,
            server=server,
            background=background,
            loops=[self._scheduler],
            metrics_interval_s=settings.metrics_interval_s,
        )

    async def start(self) -> None:
        await self._runtime.start()

    async def stop(self, grace: float = 1.0) -> None:
        await self._runtime.stop(grace)

    async def sync(self) -> int:
        """Without background tasks: apply every decision already in the log and send the whole outbox."""
        return await self._runtime.sync()

    async def run_scheduler_once(self, stop: asyncio.Event | None = None) -> bool:
        """One scheduler run, counted, then the filing obligations it leaves; False when another
        replica holds the scheduler lease. `stop` set ends the run before its next transaction."""
        stopping = stop.is_set if stop is not None else (lambda: False)
        try:
            async with self._scheduler_lease() as held:
                if not held:
                    return False
                run = await self.service.run_scheduler(stopping)
        except Exception:
            metrics.SCHEDULER_RUNS.labels("failed").inc()
            log.exception("scheduler run failed; retrying at the next interval")
        else:
            for document, error in run.failed:
                log.error("scheduler: %s could not be moved on: %s", document, error)
            outcome = "stopped" if run.stopped else "partial" if run.failed else "ok"
            metrics.SCHEDULER_RUNS.labels(outcome).inc()
            metrics.SCHEDULER_TRANSITIONS.inc(run.changed)
            if not run.stopped:
                metrics.SCHEDULER_LAST_SUCCESS.set_to_current_time()
        if stopping():
            return True
        try:
            due, overdue = await self.service.filing_obligations()
        except Exception:
            log.exception("counting filing obligations failed")
        else:
            metrics.record_filing_obligations(due, overdue)
        return True

    async def _scheduler(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.run_scheduler_once(stop)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.scheduler_interval_s)

    @contextlib.asynccontextmanager
    async def _scheduler_lease(self) -> AsyncIterator[bool]:
        """Whether this replica runs the scheduler now (PostgreSQL: one replica at a time).

        Two runs at once would be safe (each document changes under its row lock and a transition
        already made is not made again), only wasted: the lease keeps it to one replica per moment.
        """
        if not isinstance(self.db, PostgresDatabase):
            yield True
            return
        async with self.db.exclusive(f"{self.db.schema}:scheduler") as held:
            yield held


async def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    event_log: EventLog | None = None,
    background: bool = True,
    codec: Authenticator | None = None,
) -> RegistryApp:
    owns = event_log is None
    log_ = event_log or event_log_from_settings(settings, "registry")
    return RegistryApp(settings, clock or SystemClock(), log_, owns, background, codec or settings.authenticator())
