"""A reading process's writes, handed to the process that owns the index.

Of the search processes sharing one port only the writer consumes events and may change the index,
so a reader passes the calls that write (RebuildIndex, RetryDeadLetter) to the writer's own port
with the caller's token, and returns its answer, refusals included, as it came.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from normreg.v1 import dead_letter_service_pb2 as dpb
from normreg.v1 import search_service_pb2 as spb
from normreg_common.deadletter_api import DeadLetterServicer

from normreg_search.entrypoints.grpc_servicer import SearchServicer

M = TypeVar("M")

# Metadata the writer needs to treat the call as the caller's own.
_PASSED = ("authorization", "traceparent", "tracestate")
# The google.rpc.Status with its details; the transport's own trailers are not ours to repeat.
_DETAILS = "grpc-status-details-bin"


class Writer:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._channel = channel

    async def call(
        self,
        method: str,
        request: Any,
        decode: Callable[[bytes], M],
        context: grpc.aio.ServicerContext,
    ) -> M:
        metadata = tuple((k, v) for k, v in context.invocation_metadata() or () if k in _PASSED)
        stub = self._channel.unary_unary(
            method, request_serializer=type(request).SerializeToString, response_deserializer=decode
        )
        try:
            reply: M = await stub(request, metadata=metadata, timeout=context.time_remaining())
        except grpc.aio.AioRpcError as error:
            # The writer's status with its details (ErrorInfo, BadRequest), unchanged.
            passed = tuple(
                (k, v) for k, v in error.trailing_metadata() or () if not k.startswith("grpc-") or k == _DETAILS
            )
            await context.abort(error.code(), error.details() or "", passed)
            raise  # abort raises; this line only tells the type checker so
        return reply

    async def close(self) -> None:
        await self._channel.close()


class ForwardingSearchServicer(SearchServicer):
    def __init__(self, *args: Any, writer: Writer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer = writer

    async def RebuildIndex(
        self, request: spb.RebuildIndexRequest, context: grpc.aio.ServicerContext
    ) -> spb.RebuildIndexResponse:
        return await self._writer.call(
            "/normreg.v1.SearchService/RebuildIndex", request, spb.RebuildIndexResponse.FromString, context
        )


class ForwardingDeadLetterServicer(DeadLetterServicer):
    def __init__(self, *args: Any, writer: Writer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer = writer

    async def RetryDeadLetter(
        self, request: dpb.RetryDeadLetterRequest, context: grpc.aio.ServicerContext
    ) -> dpb.RetryDeadLetterResponse:
        return await self._writer.call(
            "/normreg.v1.DeadLetterService/RetryDeadLetter", request, dpb.RetryDeadLetterResponse.FromString, context
        )
