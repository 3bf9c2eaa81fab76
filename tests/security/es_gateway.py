"""An HTTPS gateway in front of the local Elasticsearch that demands an API key or a password, as
a secured cluster does. The local node runs without x-pack security (one node for the whole
suite); this puts our client's TLS and credentials on a real wire, with the real node behind."""

from __future__ import annotations

import base64
import ssl

import aiohttp
from aiohttp import web
from yarl import URL

# Hop-by-hop and length headers are the gateway's own business.
_DROP = {"host", "content-length", "transfer-encoding", "connection", "authorization"}


class Gateway:
    def __init__(self, upstream: str, context: ssl.SSLContext, *, api_key: str, username: str, password: str) -> None:
        self.upstream = upstream.rstrip("/")
        self._context = context
        self._accepted = {
            f"ApiKey {api_key}",
            "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode(),
        }
        self.refused = 0
        self.forwarded = 0
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") not in self._accepted:
            self.refused += 1
            return web.json_response(
                {"error": {"type": "security_exception", "reason": "unable to authenticate"}, "status": 401},
                status=401,
                headers={"X-Elastic-Product": "Elasticsearch", "WWW-Authenticate": 'ApiKey, Basic realm="security"'},
            )
        assert self._session is not None
        # aiohttp hands over the request body already decompressed: forward it as plain bytes.
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {*_DROP, "content-encoding"}}
        async with self._session.request(
            request.method,
            # Raw: document ids hold %2F, which a decoded path would turn into separators.
            URL(self.upstream + request.raw_path, encoded=True),
            data=await request.read(),
            headers=headers,
            auto_decompress=False,
        ) as upstream:
            body = await upstream.read()
            reply = {k: v for k, v in upstream.headers.items() if k.lower() not in _DROP}
        self.forwarded += 1
        return web.Response(status=upstream.status, body=body, headers=reply)

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._context).start()
        self.url = f"https://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()
