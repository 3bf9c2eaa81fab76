"""`python -m normreg_portal`: the portal on NORMREG_PORTAL_ADDR until SIGTERM (uvicorn stops it
gracefully: it finishes the requests in flight)."""

from __future__ import annotations

import logging

import uvicorn
from normreg_common.tls import ServerTls, http_server_ssl_context

from normreg_portal.app import create_app
from normreg_portal.settings import PortalSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = PortalSettings()
    host, port = settings.portal_host_port()
    # With a certificate the portal serves HTTPS; the public presents no client certificate.
    tls = settings.server_tls()
    # Behind a reverse proxy, set FORWARDED_ALLOW_IPS to its address so the rate limit sees clients.
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=5,
        log_level="info",
        ssl_certfile=str(tls.cert_file) if tls else None,
        ssl_keyfile=str(tls.key_file) if tls else None,
        access_log=False,
    )
    config.load()
    if tls is not None:
        # uvicorn reads the certificate once; this context takes a renewed one at the next handshake.
        config.ssl = http_server_ssl_context(ServerTls(tls.cert_file, tls.key_file))
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
