"""`python -m normreg_<service>`: one way to run every service until SIGTERM, then stop gracefully."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

import uvloop

from normreg_common import logs, tracing
from normreg_common.grpc_server import install_signal_handlers
from normreg_common.metrics import MetricsEndpoint
from normreg_common.settings import Settings
from normreg_common.stopping import STOP


class App(Protocol):
    port: int

    async def start(self) -> None: ...

    async def stop(self, grace: float = 1.0) -> None: ...


async def serve(name: str, create_app: Callable[[Settings], Awaitable[App]], settings: Settings) -> None:
    log = logging.getLogger(f"normreg.{name}")
    # Handlers first: a SIGTERM that arrives while starting still stops the service gracefully.
    stop = asyncio.Event()
    install_signal_handlers(stop)
    if settings.otlp_endpoint:
        tracing.configure_otlp(
            settings.otlp_endpoint, service=f"normreg-{name}", sample_ratio=settings.trace_sample_ratio
        )
        log.info("%s service exports traces to %s", name, settings.otlp_endpoint)
    endpoint = None
    if settings.metrics_addr(name):
        endpoint = MetricsEndpoint(settings.metrics_addr(name), tls=settings.server_tls())
    try:
        app = await create_app(settings)
        await app.start()
        log.info("%s service listening on port %d", name, app.port)
        if endpoint is not None:
            log.info("%s service metrics at %s", name, endpoint.url)
        try:
            await stop.wait()
        finally:
            log.info("%s service stopping", name)
            await app.stop(grace=STOP.calls_s)
    finally:
        if endpoint is not None:
            endpoint.close()
        tracing.shutdown()


class RepeatFilter(logging.Filter):
    """Lets the same message through once per `window_s`, then says how many repeats it held back.

    While a broker is down, aiokafka reports every reconnection attempt, thousands a second. Only
    repeats of one message are held back: same logger, level and text with its arguments, and the
    same exception if it carries one. An error about another method, another document or another
    exception is another message and always passes.
    """

    def __init__(self, window_s: float = 10.0, max_keys: int = 10_000) -> None:
        super().__init__()
        self._window_s = window_s
        self._max_keys = max_keys
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" | {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        key = (record.name, record.levelno, text)
        last, held = self._seen.get(key, (float("-inf"), 0))
        if record.created - last < self._window_s:
            self._seen[key] = (last, held + 1)
            return False
        if held:
            record.msg = f"{record.getMessage()} (and {held} more like it in the last {self._window_s:.0f}s)"
            record.args = None
        if len(self._seen) >= self._max_keys:
            self._seen.clear()  # many distinct messages: none of them is a flood
        self._seen[key] = (record.created, 0)
        return True


def run(name: str, create_app: Callable[[Settings], Awaitable[App]]) -> None:
    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    for handler in logging.getLogger().handlers:
        logs.configure(handler, service=name, fmt=settings.log_format)
        handler.addFilter(RepeatFilter())
    # One line per bulk request is noise at INFO.
    logging.getLogger("elastic_transport").setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))
    # uvloop (libuv): the per-call work of grpc.aio's callbacks, futures and tasks costs less than on
    # the standard loop.
    uvloop.run(serve(name, create_app, settings))
