"""What every service process runs around its use cases: its database, the event log, an outbox
relay, a consumer, the gRPC server and background loops, started and stopped in the right order."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import grpc

from normreg_common import outbox, stopping
from normreg_common.eventlog.port import EventLog
from normreg_common.grpc_server import mark_not_serving, mark_serving
from normreg_common.inbox import ConsumerRunner
from normreg_common.metrics import Sampler, consumer_probe, outbox_probe
from normreg_common.outbox_relay import Relay
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database

log = logging.getLogger(__name__)

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


async def stop_service(
    name: str,
    *,
    stop: asyncio.Event,
    server: grpc.aio.Server,
    grace: float,
    loops: Sequence[asyncio.Task[None]],
    closes: Sequence[tuple[str, Callable[[], Awaitable[None]]]],
    bounds: stopping.StopBounds = stopping.STOP,
) -> None:
    """Every service's stop, in the order and within the bounds `normreg_common.stopping` states:
    the loops told at once, health NOT_SERVING, the calls under way given `grace` (at most the
    bounds' own), then the loops theirs, then each of `closes` in order within one shared bound."""
    started = time.monotonic()
    stop.set()
    await mark_not_serving(server)
    grace = min(grace, bounds.calls_s)
    await stopping.within(grace + bounds.cancel_s, f"{name}: the calls under way", server.stop(grace))
    calls = time.monotonic()
    await stopping.all_within(bounds.loops_s, loops, cancel_s=bounds.cancel_s)
    looped = time.monotonic()
    deadline = stopping.Deadline(bounds.close_s)
    for what, close in closes:
        await stopping.within(deadline.left(), f"{name}: closing {what}", close(), cancel_s=bounds.cancel_s)
    log.info(
        "%s stopped in %.2fs (calls under way %.2fs, background loops %.2fs, closing %.2fs)",
        name,
        time.monotonic() - started,
        calls - started,
        looped - calls,
        time.monotonic() - looped,
    )


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
        bounds: stopping.StopBounds = stopping.STOP,
    ) -> None:
        self._name = name
        self._bounds = bounds
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

    async def stop(self, grace: float = stopping.STOP.calls_s) -> None:
        tasks, self._tasks = self._tasks, []
        closes: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            (f"consumer {consumer.name}", consumer.close) for consumer in self._consumers
        ]
        if self._owns_event_log:
            closes.append(("the event log", self._event_log.close))
        closes.append(("the database", self._db.close))
        await stop_service(
            self._name,
            stop=self._stop,
            server=self._server,
            grace=grace,
            loops=tasks,
            closes=closes,
            bounds=self._bounds,
        )
