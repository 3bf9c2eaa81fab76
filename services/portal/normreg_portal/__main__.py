"""`python -m normreg_portal`: the portal on NORMREG_PORTAL_ADDR until SIGTERM, then a graceful stop
(requests in flight finish) and exit status 0, like the other services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn
import uvloop
from normreg_common.grpc_server import install_signal_handlers
from normreg_common.tls import ServerTls, http_server_ssl_context

from normreg_portal.app import create_app
from normreg_portal.settings import PortalSettings

log = logging.getLogger("normreg.portal")


class Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Signals are ours (serve() below): uvicorn's own handling re-raises SIGTERM after the
        # shutdown, which ends the process with -15 instead of 0.
        yield


async def serve(settings: PortalSettings) -> None:
    host, port = settings.portal_host_port()
    # With a certificate the portal serves HTTPS; the public presents no client certificate.
    tls = settings.server_tls()
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        # Behind a reverse proxy, set FORWARDED_ALLOW_IPS to its address so the rate limit sees clients.
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=5,
        log_level="info",
        access_log=False,
        ssl_certfile=str(tls.cert_file) if tls else None,
        ssl_keyfile=str(tls.key_file) if tls else None,
    )
    config.load()
    if tls is not None:
        # uvicorn reads the certificate once; this context takes a renewed one at the next handshake.
        config.ssl = http_server_ssl_context(ServerTls(tls.cert_file, tls.key_file))
    server = Server(config)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not serving.done():
        log.info("portal stopping")
        server.should_exit = True
    stopping.cancel()
    await serving
    if not server.started:
        raise SystemExit(f"the portal could not listen on {settings.portal_addr}")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # uvloop (libuv) runs the HTTP side of every page faster than the standard loop.
    uvloop.run(serve(PortalSettings()))


if __name__ == "__main__":
    main()
