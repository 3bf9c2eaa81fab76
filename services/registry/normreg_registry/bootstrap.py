"""Wires the registry from settings: database, event log, relay, review consumer, scheduler, gRPC."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from normreg_common.auth import TokenCodec
from normreg_common.clock import Clock, SystemClock
from normreg_common.eventlog.factory import event_log_from_settings
from normreg_common.eventlog.port import EventLog
from normreg_common.events import DOCUMENTS_TOPIC, REVIEWS_TOPIC
from normreg_common.grpc_server import create_server, mark_serving
from normreg_common.inbox import ConsumerRunner, position_loader
from normreg_common.outbox import OutboxRelay
from normreg_common.profile import get_profile
from normreg_common.settings import Settings
from normreg_common.sqlite import Database

from normreg_registry.adapters.sqlite_store import SCHEMA
from normreg_registry.application.service import RegistryService
from normreg_registry.entrypoints.grpc_servicer import RegistryServicer, register
from normreg_registry.entrypoints.review_consumer import GROUP, ReviewDecisionHandler

log = logging.getLogger(__name__)


class RegistryApp:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        event_log: EventLog,
        owns_log: bool,
        background: bool,
        codec: TokenCodec,
    ) -> None:
        self.settings = settings
        self.db = Database(settings.data_dir / "registry.db", SCHEMA, synchronous=settings.sqlite_synchronous)
        self.event_log = event_log
        self._owns_log = owns_log
        self._background = background
        self.relay = OutboxRelay(self.db, event_log)
        self.service = RegistryService(self.db, clock, get_profile(settings.profile), on_commit=self.relay.notify)
        self.consumer = ConsumerRunner(
            event_log.consumer([REVIEWS_TOPIC], GROUP, position_loader(self.db, GROUP)),
            ReviewDecisionHandler(self.db, self.service, self.relay.notify),
            "registry:review-decisions",
        )
        self.server, self.port = create_server(
            settings.registry_addr, codec, "normreg.registry", [register(RegistryServicer(self.service))]
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.db.open()
        if self._owns_log:
            await self.event_log.start()
        await self.event_log.ensure_topics([DOCUMENTS_TOPIC, REVIEWS_TOPIC])
        await self.consumer.start()
        await self.server.start()
        await mark_serving(self.server)
        if self._background:
            self._tasks = [
                asyncio.create_task(self.relay.run(self._stop)),
                asyncio.create_task(self.consumer.run(self._stop)),
                asyncio.create_task(self._scheduler()),
            ]

    async def _scheduler(self) -> None:
        while not self._stop.is_set():
            try:
                await self.service.run_scheduler()
            except Exception:
                log.exception("scheduler run failed; retrying at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.settings.scheduler_interval_s)

    async def sync(self) -> int:
        """Without background tasks: apply every decision already in the log and send the whole outbox."""
        moved = await self.consumer.drain()
        moved += await self.relay.drain()
        return moved

    async def stop(self, grace: float = 1.0) -> None:
        self._stop.set()
        await self.server.stop(grace)
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.consumer.close()
        if self._owns_log:
            await self.event_log.close()
        await self.db.close()


async def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    event_log: EventLog | None = None,
    background: bool = True,
    codec: TokenCodec | None = None,
) -> RegistryApp:
    owns = event_log is None
    log_ = event_log or event_log_from_settings(settings, "registry")
    return RegistryApp(settings, clock or SystemClock(), log_, owns, background, codec or settings.token_codec())
