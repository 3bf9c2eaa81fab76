"""Wires the registry from settings: database, event log, relay, review consumer, scheduler, gRPC."""

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
from normreg_common.events import DOCUMENTS_TOPIC, REVIEWS_TOPIC
from normreg_common.grpc_server import create_server
from normreg_common.inbox import ConsumerRunner, position_loader
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.profile import get_profile
from normreg_common.runtime import Runtime
from normreg_common.settings import Settings

from normreg_registry.adapters.postgres_store import MIGRATIONS
from normreg_registry.adapters.sqlite_store import SCHEMA
from normreg_registry.adapters.stores import unit_of_work
from normreg_registry.application.service import RegistryService
from normreg_registry.entrypoints.grpc_servicer import DOMAIN, REQUEST_LIMITS, RegistryServicer, register
from normreg_registry.entrypoints.review_consumer import CONSUMER, GROUP, review_decision_consumer

log = logging.getLogger(__name__)


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
        self.service = RegistryService(
            self.uow, clock, get_profile(settings.profile), signer=settings.checkpoint_signer()
        )
        self.review_decisions = review_decision_consumer(self.service, DeadLetters(self.db, GROUP))
        consumer = ConsumerRunner(
            event_log.consumer([REVIEWS_TOPIC], GROUP, position_loader(self.db, GROUP)),
            self.review_decisions,
            CONSUMER,
        )
        server, self.port = create_server(
            settings.registry_addr,
            codec,
            DOMAIN,
            [
                register(RegistryServicer(self.service)),
                deadletter_api.register(deadletter_api.DeadLetterServicer(self.review_decisions)),
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

    async def run_scheduler_once(self) -> bool:
        """One scheduler run, counted, then the filing obligations it leaves; False when another
        replica holds the scheduler lease."""
        try:
            async with self._scheduler_lease() as held:
                if not held:
                    return False
                run = await self.service.run_scheduler()
        except Exception:
            metrics.SCHEDULER_RUNS.labels("failed").inc()
            log.exception("scheduler run failed; retrying at the next interval")
        else:
            for document, error in run.failed:
                log.error("scheduler: %s could not be moved on: %s", document, error)
            metrics.SCHEDULER_RUNS.labels("partial" if run.failed else "ok").inc()
            metrics.SCHEDULER_TRANSITIONS.inc(run.changed)
            metrics.SCHEDULER_LAST_SUCCESS.set_to_current_time()
        try:
            due, overdue = await self.service.filing_obligations()
        except Exception:
            log.exception("counting filing obligations failed")
        else:
            metrics.record_filing_obligations(due, overdue)
        return True

    async def _scheduler(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.run_scheduler_once()
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
