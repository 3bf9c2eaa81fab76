"""`python -m normreg_<service>`: one way to run every service until SIGTERM, then stop gracefully."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from normreg_common.grpc_server import install_signal_handlers
from normreg_common.settings import Settings


class App(Protocol):
    port: int

    async def start(self) -> None: ...

    async def stop(self, grace: float = 1.0) -> None: ...


async def serve(name: str, create_app: Callable[[Settings], Awaitable[App]], settings: Settings) -> None:
    log = logging.getLogger(f"normreg.{name}")
    # Handlers first: a SIGTERM that arrives while starting still stops the service gracefully.
    stop = asyncio.Event()
    install_signal_handlers(stop)
    app = await create_app(settings)
    await app.start()
    log.info("%s service listening on port %d", name, app.port)
    try:
        await stop.wait()
    finally:
        log.info("%s service stopping", name)
        await app.stop(grace=5.0)


def run(name: str, create_app: Callable[[Settings], Awaitable[App]]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(name, create_app, Settings()))
