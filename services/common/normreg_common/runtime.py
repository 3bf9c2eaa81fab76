"""What every service process runs around its use cases: its database, the event log, an outbox
relay, a consumer, the gRPC server and background loops, started and stopped in the right order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import grpc

from normreg_common import outbox
from normreg_common.eventlog.port import EventLog
from normreg_common.grpc_server import mark_serving
from normreg_common.inbox import ConsumerRunner
from normreg_common.metrics import Sampler, consumer_probe, outbox_probe
from normreg_common.outbox_relay import Relay
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class Runtime:
    def __init__(
        self,
        *,
        name: str,
        db: Database | PostgresDatabase,
        event_log: EventLog,
        owns_event_log: bool,
        topics: Sequence[str],
        relay: Relay,
        consumer: ConsumerRunner | None,
        server: grpc.aio.Server,
        background: bool,
        loops: Sequence[Loop] = (),
        more_consumers: Sequence[ConsumerRunner] = (),
        metrics_interval_s: float = 5.0,
    ) -> None:
        self._name = name
        self._db = db
        self._event_log = event_log
        self._owns_event_log = owns_event_log
        self._topics = list(topics)
        self._relay = relay
        # A service may read several streams (the filing service: one per subordinate jurisdiction)
        # or none of its own.
        self._consumers = [c for c in (consumer, *more_consumers) if c is not None]
        self._server = server
        self._background = background
        self.sampler = Sampler(
            [outbox_probe(name, relay), *(consumer_probe(c) for c in self._consumers)], metrics_interval_s
        )
        self._loops = [relay.run, *(c.run for c in self._consumers), self.sampler.run, *loops]
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self._db.open()
        if isinstance(self._db, Database):
            # PostgreSQL schemas are brought up to date by their migrations when opened.
            await self._db.transaction(outbox.migrate)
        if self._owns_event_log:
            await self._event_log.start()
        await self._event_log.ensure_topics(self._topics)
        # After the database: the consumer resumes from the positions stored there.
        for consumer in self._consumers:
            await consumer.start()
        await self._server.start()
        await mark_serving(self._server)
        if self._background:
            self._tasks = [
                asyncio.create_task(loop(self._stop), name=f"{self._name}: {getattr(loop, '__qualname__', loop)}")
                for loop in self._loops
            ]

    async def sync(self) -> int:
        """Without background loops: consume every event already in the log, then relay the whole outbox."""
        consumed = 0
        for consumer in self._consumers:
            consumed += await consumer.drain()
        return consumed + await self._relay.drain()

    async def stop(self, grace: float = 1.0) -> None:
        self._stop.set()
        await self._server.stop(grace)
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for consumer in self._consumers:
            await consumer.close()
        if self._owns_event_log:
            await self._event_log.close()
        await self._db.close()
