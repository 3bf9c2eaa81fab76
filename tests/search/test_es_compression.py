"""The Elasticsearch adapter's connection compresses a large request body itself (gzip at level 1, on a
worker thread) and sends a small one as it is; the server gets back exactly what was written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from elastic_transport import NodeConfig
from normreg_search.index.elasticsearch import COMPRESS_FROM_BYTES, CompressingNode


@pytest.fixture
async def received() -> AsyncIterator[tuple[int, list[tuple[str | None, int | None, bytes]]]]:
    """A server that records each request's content-encoding, length on the wire and body (aiohttp
    decompresses it as it reads)."""
    seen: list[tuple[str | None, int | None, bytes]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request.headers.get("content-encoding"), request.content_length, await request.read()))
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield port, seen
    finally:
        await runner.cleanup()


async def test_a_large_body_goes_gzipped_and_a_small_one_as_it_is(
    received: tuple[int, list[tuple[str | None, int | None, bytes]]],
) -> None:
    port, seen = received
    node = CompressingNode(NodeConfig("http", "127.0.0.1", port))
    large = "\n".join(
        json.dumps({"body": f"第{i}条 行政规范性文件的制定和备案"}, ensure_ascii=False) for i in range(5000)
    )
    small = b'{"index":{}}\n{"n":1}\n'
    try:
        await node.perform_request("POST", "/_bulk", body=large.encode(), headers={"content-type": "application/json"})
        await node.perform_request("POST", "/_bulk", body=small, headers={"content-type": "application/json"})
    finally:
        await node.close()
    (encoding, on_the_wire, sent), (small_encoding, small_length, small_sent) = seen
    assert len(large.encode()) >= COMPRESS_FROM_BYTES
    assert encoding == "gzip"
    assert sent == large.encode()
    assert on_the_wire is not None and on_the_wire < len(large.encode()) / 3
    assert (small_encoding, small_length, small_sent) == (None, len(small), small)
