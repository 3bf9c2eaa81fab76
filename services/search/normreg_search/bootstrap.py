"""Wires the search service from settings: search.db, the index backend, the event consumer, gRPC.

The backend is Elasticsearch when `settings.elasticsearch_url` is set, else SQLite FTS5 in
`{data_dir}/search.db`. Either way search.db holds the consumer's positions.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
from normreg_common import deadletter_api
from normreg_common.auth import Authenticator
from normreg_common.channels import open_channel
from normreg_common.clock import Clock, SystemClock
from normreg_common.deadletters import DEAD_LETTER_SCHEMA, DeadLetters
from normreg_common.eventlog.factory import event_log_from_settings
from normreg_common.eventlog.port import Consumer, EventLog
from normreg_common.events import DOCUMENTS_TOPIC
from normreg_common.grpc_server import create_server, mark_serving
from normreg_common.inbox import IDLE_POLL_S, INBOX_SCHEMA, ConsumerRunner, position_loader
from normreg_common.metrics import Sampler, consumer_probe
from normreg_common.profile import get_profile
from normreg_common.runtime import stop_service
from normreg_common.settings import Settings
from normreg_common.sqlite import Database
from normreg_common.stopping import STOP
from normreg_common.tls import grpc_server_credentials

from normreg_search import understanding, witness
from normreg_search.entrypoints.consumer import CONSUMER, GROUP, apply_or_set_aside, changes_of, projection_consumer
from normreg_search.entrypoints.forwarding import ForwardingDeadLetterServicer, ForwardingSearchServicer, Writer
from normreg_search.entrypoints.grpc_servicer import SearchServicer, register
from normreg_search.index.elasticsearch import DEFAULT_ALIAS, ElasticsearchIndex
from normreg_search.index.port import IndexBuild, SearchIndex
from normreg_search.index.sqlite_fts import META_SCHEMA, SqliteFtsIndex
from normreg_search.service import PublicSearch
from normreg_search.witness import WITNESS_SCHEMA, Witnessed

log = logging.getLogger(__name__)


def index_from_settings(settings: Settings, db: Database) -> SearchIndex:
    if settings.elasticsearch_url:
        # NORMREG_ELASTICSEARCH_INDEX_PREFIX names the alias; the physical indices are {prefix}-v{n}.
        # Deployments and test runs sharing a cluster keep apart with it.
        alias = settings.elasticsearch_index_prefix or DEFAULT_ALIAS
        return ElasticsearchIndex(
            settings.elasticsearch_url, db, alias=alias, connection=settings.elasticsearch_options()
        )
    return SqliteFtsIndex(db)


class SearchApp:
    """One search process. Its role (settings.search_role) says what it does with the index:

    - "" (alone): consumes the events, writes the index and answers searches;
    - "writer": the same, beside readers on the same port (SO_REUSEPORT), and also on its own
      loopback port (settings.search_private_addr), where readers hand over the calls that write;
    - "reader": only answers; opens search.db read-only, follows the writer's rebuilds, consumes
      nothing, and passes RebuildIndex and RetryDeadLetter to the writer (search_writer_addr); it
      too answers on a port of its own, where the supervisor checks its health.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        event_log: EventLog | None,
        owns_log: bool,
        background: bool,
        codec: Authenticator,
        *,
        index_factory: Callable[[Database], SearchIndex] | None = None,
    ) -> None:
        """`index_factory` replaces the backend chosen from settings (tests name their own ES alias)."""
        self.settings = settings
        self.profile = get_profile(settings.profile)
        self.role = settings.search_role
        reader = self.role == "reader"
        if reader and not settings.search_writer_addr:
            raise ValueError("a reading search process needs NORMREG_SEARCH_WRITER_ADDR")
        if not reader and event_log is None:
            raise ValueError("the search process that writes the index needs the event log")
        # A projection that can be rebuilt from the log: NORMAL is durable enough, and positions
        # roll back with the rows they describe. Searches and every other read run on a connection
        # of their own: they never wait behind the consumer's writes.
        self.db = Database(
            settings.data_dir / "search.db",
            INBOX_SCHEMA + DEAD_LETTER_SCHEMA + META_SCHEMA + WITNESS_SCHEMA,
            synchronous="NORMAL",
            read_only=reader,
            separate_reads=not reader,
        )
        self.index = (index_factory or (lambda db: index_from_settings(settings, db)))(self.db)
        self.event_log = event_log
        self._owns_log = owns_log
        self._background = background
        self.service = PublicSearch(self.index, clock, self.profile, time_budget_s=settings.search_time_budget_s)
        self.projection = projection_consumer(self.index, self.profile.tz, DeadLetters(self.db, GROUP))
        self.consumer: ConsumerRunner | None = None
        self._writer: Writer | None = None
        if event_log is not None and not reader:
            self.consumer = ConsumerRunner(
                event_log.consumer([DOCUMENTS_TOPIC], GROUP, position_loader(self.db, GROUP)),
                self.projection,
                CONSUMER,
            )
        servicers: list[Callable[[grpc.aio.Server], str]]
        if reader:
            self._writer = Writer(_channel(settings, settings.search_writer_addr))
            servicers = [
                register(ForwardingSearchServicer(self.service, witnessed=self.witnessed, writer=self._writer)),
                deadletter_api.register(ForwardingDeadLetterServicer(self.projection, writer=self._writer)),
            ]
        else:
            servicers = [
                register(SearchServicer(self.service, rebuild=self.reindex, witnessed=self.witnessed)),
                deadletter_api.register(deadletter_api.DeadLetterServicer(self.projection)),
            ]
        self.server, self.port = create_server(
            settings.search_addr,
            codec,
            "normreg.search",
            servicers,
            tls=settings.server_tls(),
            reuse_port=bool(self.role),
        )
        if self.role:
            tls = settings.server_tls()
            private = settings.search_private_addr or settings.search_writer_addr
            bound = (
                self.server.add_secure_port(private, grpc_server_credentials(tls))
                if tls
                else self.server.add_insecure_port(private)
            )
            if bound == 0:
                raise RuntimeError(f"could not bind {private}")
        # One consumer step at a time; held by reindex() while it switches indices. The background
        # loop holds it while it waits for records; `_wanted` ends that wait for sync() and reindex().
        self._consuming = asyncio.Lock()
        self._wanted = asyncio.Event()
        self._wanting = 0
        self._reindexing = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sampler = Sampler(
            [consumer_probe(self.consumer)] if self.consumer is not None else [], settings.metrics_interval_s
        )
        self._sampling: asyncio.Task[None] | None = None
        # Background mode: notified after every applied batch, so callers can wait until caught up.
        self._progress = asyncio.Condition()

    def _consumer(self) -> ConsumerRunner:
        if self.consumer is None:
            raise RuntimeError("this search process only reads the index; the writer consumes the events")
        return self.consumer

    async def witnessed(self, after: int, limit: int) -> list[Witnessed]:
        return await self.db.read(lambda conn: witness.page(conn, after, limit))

    async def start(self) -> None:
        # The term table (and a deployment's own, NORMREG_SEARCH_TERMS) is read now: a missing or
        # unreadable file stops the start instead of the first search.
        understanding.default_terms()
        opening = time.monotonic()
        await self.db.open()
        if self.consumer is None or self.event_log is None:
            await self.index.open_for_reading()
        else:
            await self.index.open()
        # A long open (a WAL to recover, an index of an earlier layout to convert) is told apart
        # from what the service does after it.
        log.info(
            "search index opened in %.1f s (%s over %s)",
            time.monotonic() - opening,
            type(self.index).__name__,
            self.settings.data_dir / "search.db",
        )
        if self.consumer is not None and self.event_log is not None:
            if self._owns_log:
                await self.event_log.start()
            await self.event_log.ensure_topics([DOCUMENTS_TOPIC])
            await self.consumer.start()
        await self.server.start()
        await mark_serving(self.server)
        if self._background and self.consumer is not None:
            self._task = asyncio.create_task(self._consume(), name="search: consumer")
            self._sampling = asyncio.create_task(self.sampler.run(self._stop), name="search: metrics sampler")

    async def _consume(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                async with self._consuming:
                    applied = await self._consumer().step(timeout=IDLE_POLL_S, wake=(self._stop, self._wanted))
                backoff = 0.1
                if applied:
                    async with self._progress:
                        self._progress.notify_all()
            except Exception:
                log.warning("search projection: batch failed, retrying in %.1fs", backoff, exc_info=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=backoff)
                backoff = min(backoff * 2, 10.0)

    async def caught_up(self) -> None:
        """Background mode: returns once everything in the log when called has been applied, that
        is when the log holds nothing after the positions applied (checked again after each batch)."""
        if self._task is None:
            raise RuntimeError("caught_up() needs the background consumer; use sync() without it")
        async with self._progress:
            while any((await self._consumer().lag()).values()):
                await self._progress.wait()
        await self.index.refresh()

    @contextlib.asynccontextmanager
    async def _paused(self) -> AsyncIterator[None]:
        """Holds the consumer lock, ending the background loop's wait for records to get it."""
        self._wanting += 1
        self._wanted.set()
        try:
            async with self._consuming:
                yield
        finally:
            self._wanting -= 1
            if not self._wanting:
                self._wanted.clear()

    async def sync(self) -> int:
        """Apply every event already in the log; afterwards searches see all of it."""
        async with self._paused():
            processed = await self._consumer().drain()
        await self.index.refresh()
        return processed

    async def reindex(self) -> None:
        """Rebuild the index from the start of the log into a new physical index, then switch.

        Searches go on against the old index until the switch. The bulk of the log is replayed while
        the live consumer keeps running; the rest is replayed with the live consumer paused, then the
        switch happens. The live consumer then resumes from its own positions: what it re-applies is
        already there and is ignored by sequence.
        """
        async with self._reindexing:
            build = await self.index.begin_rebuild()
            if self.event_log is None:
                raise RuntimeError("only the search process that writes the index can rebuild it")
            replay = _Replay(self.event_log, self.profile.tz, slow_start=bool(self.settings.kafka_bootstrap))
            try:
                await replay.consumer.start()
                try:
                    await replay.into(build)
                    async with self._paused():
                        await replay.into(build)
                        await build.switch()
                finally:
                    await replay.consumer.close()
            except BaseException:
                await build.abort()
                raise
        await self.index.refresh()

    async def stop(self, grace: float = STOP.calls_s) -> None:
        # Health says NOT_SERVING first (in stop_service), so checks steer new callers to the other
        # processes while the calls under way finish.
        loops = [task for task in (self._task, self._sampling) if task is not None]
        self._task = self._sampling = None
        closes: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        if self.consumer is not None:
            closes.append(("the consumer", self.consumer.close))
        if self._writer is not None:
            closes.append(("the channel to the writer", self._writer.close))
        closes.append(("the index", self.index.close))
        if self._owns_log and self.event_log is not None:
            closes.append(("the event log", self.event_log.close))
        closes.append(("the database", self.db.close))
        await stop_service(
            f"search {self.role}" if self.role else "search",
            stop=self._stop,
            server=self.server,
            grace=grace,
            loops=loops,
            closes=closes,
        )


class _Replay:
    """Reads the documents topic from offset 0 with positions kept in memory."""

    def __init__(self, event_log: EventLog, tz: dt.tzinfo, *, slow_start: bool) -> None:
        self._positions: dict[tuple[str, int], int] = {}
        self._tz = tz
        # A Kafka consumer of a new group needs a while to be assigned its partitions.
        self._first_wait = 5.0 if slow_start else 0.0
        self._idle_wait = 1.0 if slow_start else 0.0
        group = f"{GROUP}-rebuild-{uuid.uuid4().hex[:8]}"
        self.consumer: Consumer = event_log.consumer([DOCUMENTS_TOPIC], group, self._load)

    async def _load(self, topic: str, partition: int) -> int | None:
        return self._positions.get((topic, partition))

    async def into(self, build: IndexBuild) -> int:
        """Apply everything up to the end of the log; returns how many records were read."""
        total = 0
        wait = self._first_wait
        while batch := await self.consumer.poll(timeout=wait):
            await apply_or_set_aside(build.apply, changes_of(batch, self._tz))
            for d in batch:
                key = (d.topic, d.partition)
                self._positions[key] = max(d.offset, self._positions.get(key, -1))
            total += len(batch)
            wait = self._idle_wait
        self._first_wait = self._idle_wait
        return total


async def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    event_log: EventLog | None = None,
    background: bool = True,
    codec: Authenticator | None = None,
) -> SearchApp:
    owns = event_log is None
    # A reader consumes nothing, so it does not touch the event log at all.
    if event_log is None and settings.search_role != "reader":
        event_log = event_log_from_settings(settings, "search")
    return SearchApp(settings, clock or SystemClock(), event_log, owns, background, codec or settings.authenticator())


def _channel(settings: Settings, address: str) -> grpc.aio.Channel:
    return open_channel(address, settings.client_tls() if settings.server_tls() is not None else None)
