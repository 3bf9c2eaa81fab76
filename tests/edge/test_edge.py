"""The edge of every service: what a request's bytes, size and caller can and cannot do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from normreg_common.clock import FakeClock
from normreg_common.errors import NormregError
from normreg_common.grpc_server import AnonymousLimiter, Busy, EdgeInterceptor
from normreg_common.principal import PUBLIC, Principal

from tests.edge.test_descriptor_fuzz import every_method, raw_requests
from tests.harness import System, error_reason, field_violations


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock)
    await s.start()
    yield s
    await s.stop()


async def test_undecodable_request_bytes_are_invalid_argument_on_every_method_without_a_token(system: System) -> None:
    import random

    rng = random.Random(4)
    seen = 0
    async for method, call in every_method(system):
        for raw in raw_requests(method, rng)[:1] + raw_requests(method, rng)[3:4]:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call(raw, timeout=10)
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (method.name, caught.value)
            assert field_violations(caught.value) == ["request"]
            seen += 1
    assert seen >= 2 * 36


async def test_a_request_over_its_methods_size_limit_is_refused_before_it_is_read(system: System) -> None:
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{system.apps['search'].port}", options=[("grpc.max_send_message_length", 16 * 1024 * 1024)]
    ) as channel:
        search = channel.unary_unary("/normreg.v1.SearchService/SearchDocuments")
        # A query string of 100 KiB: over the 64 KiB every search method accepts.
        big = b"\x0a" + bytes([0x80, 0x80, 0x06]) + b"a" * (100 * 1024)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await search(big, timeout=10)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_a_method_that_carries_text_accepts_a_whole_body_but_not_more(system: System) -> None:
    from normreg.v1 import document_pb2 as pb
    from normreg.v1 import registry_service_pb2 as rpb
    from normreg_common.text import BODY_MAX

    drafter = system.stub("registry", system.token("alice", "drafter", org="市城管局"))
    request = rpb.CreateDocumentRequest(
        kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
        title="赤峰市城市绿化管理办法",
        body="规" * BODY_MAX,
        issuing_body="赤峰市人民政府",
        number_prefix="赤政规",
    )
    doc = await drafter.CreateDocument(request)
    assert doc.name.startswith("documents/")
    # Too large for the method's limit (2 MiB), even though the transport would carry it.
    request.body = "𠀀" * 600_000
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await drafter.CreateDocument(request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_reason(caught.value) == "REQUEST_TOO_LARGE"


async def test_anonymous_callers_beyond_the_concurrency_and_queue_are_told_to_come_back() -> None:
    limiter = AnonymousLimiter(concurrency=2, queue=1)
    release = asyncio.Event()
    entered = 0

    async def caller() -> None:
        nonlocal entered
        async with limiter.turn():
            entered += 1
            await release.wait()

    running = [asyncio.create_task(caller()) for _ in range(3)]  # two served, one waiting
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert entered == 2
    with pytest.raises(Busy) as refused:
        async with limiter.turn():
            pass
    assert isinstance(refused.value, NormregError) and refused.value.code == "RESOURCE_EXHAUSTED"
    release.set()
    await asyncio.gather(*running)
    assert entered == 3
    async with limiter.turn():
        pass


async def test_a_health_check_is_answered_while_the_public_holds_every_turn() -> None:
    """A process whose anonymous turns are all taken is busy, not dead: its health check must not
    wait for a turn, or a supervisor (or an orchestrator) kills it and fails every call it serves."""
    release = asyncio.Event()

    async def slow(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await release.wait()
        return request

    edge = EdgeInterceptor(_Public(), "test", anonymous=AnonymousLimiter(concurrency=1, queue=0))
    server = grpc.aio.server(interceptors=[edge])
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("test.Slow", {"Call": grpc.unary_unary_rpc_method_handler(slow)})]
    )
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary("/test.Slow/Call")

            async def hold() -> bytes:
                reply: bytes = await call(b"x", timeout=30)
                return reply

            holding = asyncio.create_task(hold())
            await asyncio.sleep(0.2)
            # The only turn is taken and no one may wait: another anonymous call is refused...
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call(b"y", timeout=10)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            # ...and the health check is answered at once.
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            release.set()
            assert await holding == b"x"
    finally:
        await server.stop(None)


class _Public:
    async def authenticate(self, metadata: object) -> Principal:
        return PUBLIC
