"""Prometheus metrics of every service, and the HTTP endpoint that serves them.

The metrics live in prometheus-client's default registry, so one process serves them all on one
port. Several services in one process (the end-to-end tests) keep apart by their labels: gRPC
service and method, the outbox's service, the consumer's group.

RPC metrics follow the names of go-grpc-prometheus (`grpc_server_handled_total`,
`grpc_server_handling_seconds`), which existing dashboards and alerts already speak.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from normreg_common.tls import ServerTls, http_server_ssl_context

log = logging.getLogger(__name__)

# The `_created` series double every counter's output and no dashboard here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# A durable write costs about a millisecond of CPU; a search tens of milliseconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

RPC_HANDLED = Counter(
    "grpc_server_handled",
    "RPCs completed on the server, by gRPC status code",
    ["grpc_service", "grpc_method", "grpc_code"],
)
RPC_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time from the start of an RPC to its answer, refusals included",
    ["grpc_service", "grpc_method"],
    buckets=LATENCY_BUCKETS,
)

OUTBOX_BACKLOG = Gauge(
    "normreg_outbox_backlog", "Events committed but not yet acknowledged by the event log", ["service"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "normreg_outbox_oldest_age_seconds",
    "How long the oldest event not yet acknowledged by the event log has waited (0 when none waits)",
    ["service"],
)
OUTBOX_PUBLISHED = Counter("normreg_outbox_published", "Events acknowledged by the event log", ["service"])
OUTBOX_PUBLISH_FAILURES = Counter(
    "normreg_outbox_publish_failures", "Relay batches the event log refused or did not answer", ["service"]
)
OUTBOX_HELD = Counter(
    "normreg_outbox_held",
    "Events the event log refused for what they are (larger than the topic takes): kept unsent, held",
    ["service"],
)
OUTBOX_LAST_PUBLISHED = Gauge(
    "normreg_outbox_last_published_timestamp_seconds",
    "When the event log last acknowledged events of this service (the newest published event)",
    ["service"],
)

CONSUMER_LAG = Gauge(
    "normreg_consumer_lag_records",
    "Records in the event log after the position the consumer has applied",
    ["consumer", "topic", "partition"],
)
CONSUMER_RECORDS = Counter("normreg_consumer_records", "Records applied by a consumer", ["consumer", "topic"])
CONSUMER_FAILURES = Counter(
    "normreg_consumer_batch_failures", "Consumer batches rolled back to be retried", ["consumer"]
)
CONSUMER_LAST_APPLIED = Gauge(
    "normreg_consumer_last_applied_timestamp_seconds",
    "When the newest record a consumer has applied was appended to the event log",
    ["consumer", "topic"],
)
DEAD_LETTERS = Counter(
    "normreg_dead_letters",
    "Records a consumer set aside because they can never be applied",
    ["consumer", "topic"],
)

REPLAYED_EVENTS = Counter(
    "normreg_replayed_events",
    "Copies of another jurisdiction's events already applied, not applied again (replays or re-sent records)",
    ["sender"],
)
SCHEDULER_RUNS = Counter("normreg_scheduler_runs", "Scheduler runs, by outcome", ["outcome"])
SCHEDULER_TRANSITIONS = Counter(
    "normreg_scheduler_transitions", "Documents changed by time-driven transitions (in force, expired, …)"
)
SCHEDULER_LAST_SUCCESS = Gauge(
    "normreg_scheduler_last_success_timestamp_seconds", "When the scheduler last completed a run"
)
FILING_OBLIGATIONS = Gauge(
    "normreg_filing_obligations",
    "Promulgated versions that must still be filed with the superior body: due (deadline not passed) or overdue",
    ["state"],
)


def record_dead_letter(consumer: str, topic: str) -> None:
    """For the consumers' dead-letter path: one record set aside."""
    DEAD_LETTERS.labels(consumer, topic).inc()


def record_replayed(sender: str) -> None:
    REPLAYED_EVENTS.labels(sender).inc()


def record_published(service: str, count: int) -> None:
    OUTBOX_PUBLISHED.labels(service).inc(count)
    OUTBOX_LAST_PUBLISHED.labels(service).set(time.time())


def record_publish_failure(service: str) -> None:
    OUTBOX_PUBLISH_FAILURES.labels(service).inc()


def record_held(service: str) -> None:
    OUTBOX_HELD.labels(service).inc()


def record_applied(consumer: str, newest: dict[str, float], counts: dict[str, int]) -> None:
    """`newest`: per topic, the log timestamp of the newest record applied; `counts`: records per topic."""
    for topic, count in counts.items():
        CONSUMER_RECORDS.labels(consumer, topic).inc(count)
    for topic, stamp in newest.items():
        if stamp:
            CONSUMER_LAST_APPLIED.labels(consumer, topic).set(stamp)


def record_consumer_failure(consumer: str) -> None:
    CONSUMER_FAILURES.labels(consumer).inc()


def record_filing_obligations(due: int, overdue: int) -> None:
    FILING_OBLIGATIONS.labels("due").set(due)
    FILING_OBLIGATIONS.labels("overdue").set(overdue)


class Backlogged(Protocol):
    async def backlog(self) -> tuple[int, float | None]: ...


class Lagging(Protocol):
    name: str

    async def lag(self) -> dict[tuple[str, int], int]: ...


Probe = Callable[[], Awaitable[None]]


def outbox_probe(service: str, outbox: Backlogged) -> Probe:
    async def probe() -> None:
        count, oldest = await outbox.backlog()
        OUTBOX_BACKLOG.labels(service).set(count)
        OUTBOX_OLDEST_AGE.labels(service).set(0.0 if oldest is None else max(0.0, time.time() - oldest))

    return probe


def consumer_probe(consumer: Lagging) -> Probe:
    async def probe() -> None:
        for (topic, partition), lag in (await consumer.lag()).items():
            CONSUMER_LAG.labels(consumer.name, topic, str(partition)).set(lag)

    return probe


class Sampler:
    """Refreshes the gauges that need a query (outbox backlog, consumer lag) every `interval_s`.

    A probe that fails (the broker is down) leaves its gauges as they were and is tried again.
    """

    def __init__(self, probes: Sequence[Probe], interval_s: float) -> None:
        self._probes = list(probes)
        self._interval_s = interval_s

    async def sample(self) -> None:
        for probe in self._probes:
            name = getattr(probe, "__qualname__", probe)
            timeout = max(self._interval_s, 1.0)
            try:
                await asyncio.wait_for(probe(), timeout=timeout)
            except TimeoutError:
                # A database busy with a large import answers late; that is load, not a fault, and
                # a traceback every few seconds would bury the log.
                log.warning("metrics probe %s took over %.0fs; its gauges keep their last values", name, timeout)
            except Exception:
                log.warning("metrics probe %s failed", name, exc_info=True)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval_s)


class _MetricsServer6(ThreadingWSGIServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Every scrape is not worth a log line."""


class MetricsEndpoint:
    """`/metrics` over HTTP on `address` (host:port; port 0 picks a free one); HTTPS with the
    service's own certificate when it has one, renewed certificates picked up by new connections
    (and client certificates required under mutual TLS, as on the gRPC port)."""

    def __init__(self, address: str, *, tls: ServerTls | None = None) -> None:
        host, _, port = address.rpartition(":")
        host = host.strip("[]") or "0.0.0.0"  # noqa: S104 - ":9464" means every interface, as for gRPC
        server_class = _MetricsServer6 if ":" in host else ThreadingWSGIServer
        self._server: WSGIServer = make_server(
            host, int(port), make_wsgi_app(), server_class, handler_class=_QuietHandler
        )
        if tls is not None:
            self._server.socket = http_server_ssl_context(tls).wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)
        self._thread.start()
        self.port: int = self._server.server_port
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
