"""`python -m normreg_review`: the review service on the address and backends of NORMREG_* settings."""

from __future__ import annotations

import asyncio
import logging

from normreg_common.grpc_server import install_signal_handlers
from normreg_common.settings import Settings

from normreg_review.bootstrap import create_app

log = logging.getLogger("normreg_review")


async def serve(settings: Settings) -> None:
    # Handlers first: a SIGTERM that arrives while starting still stops the service gracefully.
    stop = asyncio.Event()
    install_signal_handlers(stop)
    app = await create_app(settings)
    await app.start()
    log.info("review service listening on port %d", app.port)
    try:
        await stop.wait()
    finally:
        log.info("review service stopping")
        await app.stop(grace=5.0)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(Settings()))


if __name__ == "__main__":
    main()
