"""python -m normreg_search: run the search service from NORMREG_* settings until SIGTERM."""

from __future__ import annotations

import asyncio
import logging

from normreg_common.grpc_server import install_signal_handlers
from normreg_common.settings import Settings

from normreg_search.bootstrap import create_app


async def main() -> None:
    app = await create_app(Settings())
    await app.start()
    logging.getLogger("normreg.search").info("search listening on port %d", app.port)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await stop.wait()
    await app.stop(grace=5.0)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(main())
