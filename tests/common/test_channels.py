"""A read refused with UNAVAILABLE (a connection told to go away as the call was sent) is sent again;
a write never is, and the protos, not a list in the client, say which is which."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf.descriptor_pb2 import MethodOptions
from normreg.v1 import document_pb2, registry_service_pb2, registry_service_pb2_grpc
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_common.channels import SERVICES, channel_options, open_channel, safe_to_repeat

READ = re.compile(r"^(Get|List|Search|Verify)[A-Z]")


def test_the_protos_mark_every_read_and_no_write_as_free_of_side_effects() -> None:
    marked = {f"{s.name}.{m.name}" for s in SERVICES for m in s.methods if safe_to_repeat(m)}
    reads = {f"{s.name}.{m.name}" for s in SERVICES for m in s.methods if READ.match(m.name)}
    assert marked == reads
    assert "SearchService.SearchDocuments" in marked
    assert "RegistryService.CreateDocument" not in marked
    for service in SERVICES:
        for method in service.methods:
            if method.name in ("RebuildIndex", "RetryDeadLetter"):
                assert method.GetOptions().idempotency_level == MethodOptions.IDEMPOTENCY_UNKNOWN


def test_a_service_config_given_by_the_caller_is_kept() -> None:
    options = channel_options([("grpc.service_config", "{}"), ("grpc.keepalive_time_ms", 30_000)])
    assert options == [("grpc.service_config", "{}"), ("grpc.keepalive_time_ms", 30_000)]


class _RefusesFirst(sgrpc.SearchServiceServicer, registry_service_pb2_grpc.RegistryServiceServicer):
    """Refuses the first `refusals` calls of each method with UNAVAILABLE, then answers."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.calls: dict[str, int] = {}

    async def _maybe_refuse(self, method: str, context: grpc.aio.ServicerContext) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1
        if self.calls[method] <= self.refusals:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the connection is going away")

    async def SearchDocuments(
        self, request: spb.SearchDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> spb.SearchDocumentsResponse:
        await self._maybe_refuse("SearchDocuments", context)
        return spb.SearchDocumentsResponse(total=7)

    async def CreateComment(
        self, request: registry_service_pb2.CreateCommentRequest, context: grpc.aio.ServicerContext
    ) -> document_pb2.Comment:
        await self._maybe_refuse("CreateComment", context)
        return document_pb2.Comment(text=request.comment.text)


@contextlib.asynccontextmanager
async def _serving(refusals: int) -> AsyncIterator[tuple[_RefusesFirst, str]]:
    servicer = _RefusesFirst(refusals)
    server = grpc.aio.server()
    sgrpc.add_SearchServiceServicer_to_server(servicer, server)
    registry_service_pb2_grpc.add_RegistryServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield servicer, f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


async def test_a_read_refused_as_unavailable_is_sent_again() -> None:
    async with _serving(refusals=2) as (servicer, address), open_channel(address) as channel:
        reply = await sgrpc.SearchServiceStub(channel).SearchDocuments(spb.SearchDocumentsRequest(), timeout=10)
    assert reply.total == 7
    assert servicer.calls["SearchDocuments"] == 3


async def test_without_the_policy_the_same_read_fails() -> None:
    async with _serving(refusals=1) as (servicer, address), grpc.aio.insecure_channel(address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await sgrpc.SearchServiceStub(channel).SearchDocuments(spb.SearchDocumentsRequest(), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert servicer.calls["SearchDocuments"] == 1


async def test_a_read_refused_every_time_fails_after_four_attempts() -> None:
    async with _serving(refusals=100) as (servicer, address), open_channel(address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await sgrpc.SearchServiceStub(channel).SearchDocuments(spb.SearchDocumentsRequest(), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert servicer.calls["SearchDocuments"] == 4


async def test_a_write_refused_as_unavailable_is_not_sent_again() -> None:
    request = registry_service_pb2.CreateCommentRequest(
        parent="documents/d/versions/1", comment=document_pb2.Comment(text="意见")
    )
    async with _serving(refusals=1) as (servicer, address), open_channel(address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await registry_service_pb2_grpc.RegistryServiceStub(channel).CreateComment(request, timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert servicer.calls["CreateComment"] == 1
