"""What the RPC observer adds to each call: a bare unary handler against the same handler behind
ObservingInterceptor, with tracing off (metrics only) and on (a server span per call, kept in
memory). The write path's own figures cannot resolve a few microseconds on a shared machine; this
isolates them, in the same process and the same run.

    python -m bench.observer_overhead
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from normreg_common import tracing
from normreg_common.rpc_observer import ObservingInterceptor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

CALLS = 20000
ROUNDS = 5
METHOD = "/normreg.v1.RegistryService/CreateDocument"


class _Context:
    """What the observer reads of a servicer context on a successful call."""

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", "Bearer x"),)

    def code(self) -> None:
        return None


async def _handler(request: bytes, context: Any) -> bytes:
    return request


async def _per_call_us(call: Callable[[bytes, Any], Awaitable[bytes]]) -> float:
    context = _Context()
    start = time.perf_counter()
    for _ in range(CALLS):
        await call(b"x", context)
    return (time.perf_counter() - start) / CALLS * 1e6


async def main() -> None:
    class Details:
        method = METHOD

    async def continuation(details: Any) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(_handler)

    observed = (await ObservingInterceptor("normreg.registry").intercept_service(continuation, Details())).unary_unary
    figures: dict[str, list[float]] = {"bare handler": [], "observer, tracing off": [], "observer, tracing on": []}
    for _ in range(ROUNDS):
        figures["bare handler"].append(await _per_call_us(_handler))
        figures["observer, tracing off"].append(await _per_call_us(observed))
        tracing.configure([SimpleSpanProcessor(InMemorySpanExporter())], service="bench")
        try:
            figures["observer, tracing on"].append(await _per_call_us(observed))
        finally:
            tracing.shutdown()
    bare = statistics.median(figures["bare handler"])
    for name, values in figures.items():
        median = statistics.median(values)
        print(
            f"{name:24s} {median:8.2f} µs per call (median of {ROUNDS} × {CALLS}; "
            f"range {min(values):.2f}..{max(values):.2f}); added {median - bare:8.2f} µs"
        )


if __name__ == "__main__":
    asyncio.run(main())
