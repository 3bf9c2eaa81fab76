"""The outermost server interceptor: counts every unary RPC by status code, times it, and (when
tracing is on) runs it inside a server span that continues the caller's `traceparent`.

It sits outside the edge interceptor, so it sees the code the client sees: refusals mapped from
domain errors, UNAUTHENTICATED tokens, INTERNAL. Per call it costs a clock read and two
prometheus-client updates on children looked up once per method and code.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from normreg_common import metrics, tracing

log = logging.getLogger("normreg.rpc")

FAILURE_CODES = frozenset({"INTERNAL", "UNKNOWN", "UNAVAILABLE", "DATA_LOSS", "DEADLINE_EXCEEDED"})


class _Method:
    """The metric children of one method, looked up once instead of on every call."""

    def __init__(self, full_name: str) -> None:
        self.full_name = full_name
        self.span_name = full_name.lstrip("/")
        self.service, _, self.method = self.span_name.rpartition("/")
        self.seconds = metrics.RPC_SECONDS.labels(self.service, self.method)
        self._handled: dict[str, Any] = {}

    def handled(self, code: str) -> Any:
        child = self._handled.get(code)
        if child is None:
            child = self._handled[code] = metrics.RPC_HANDLED.labels(self.service, self.method, code)
        return child


def _code_of(context: grpc.aio.ServicerContext) -> str:
    code = context.code()
    if code is None:
        return "OK"
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    # Some grpc versions keep the raw integer from abort().
    for candidate in grpc.StatusCode:
        if candidate.value[0] == code:
            return str(candidate.name)
    return "UNKNOWN"


class ObservingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, component: str) -> None:
        self._component = component
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        cached = self._wrapped.get(details.method)
        if cached is not None:
            return cached
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        wrapped = self._wrap(handler, _Method(details.method))
        self._wrapped[details.method] = wrapped
        return wrapped

    def _wrap(self, handler: grpc.RpcMethodHandler, method: _Method) -> grpc.RpcMethodHandler:
        inner = handler.unary_unary
        component = self._component

        async def observed(request: Any, context: grpc.aio.ServicerContext) -> Any:
            start = time.perf_counter()
            code = "OK"
            span = None
            token: object = None
            if tracing.enabled():
                span = tracing.tracer(component).start_span(
                    method.span_name,
                    context=tracing.context_from(_metadata_traceparent(context)),
                    kind=SpanKind.SERVER,
                    attributes={"rpc.system": "grpc", "rpc.service": method.service, "rpc.method": method.method},
                )
                token = otel_context.attach(trace.set_span_in_context(span))
            try:
                return await inner(request, context)
            except grpc.aio.AbortError:
                code = _code_of(context)
                raise
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except Exception:
                code = "UNKNOWN"
                raise
            finally:
                elapsed = time.perf_counter() - start
                method.seconds.observe(elapsed)
                method.handled(code).inc()
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("%s %s %.1fms", method.span_name, code, elapsed * 1000)
                if span is not None:
                    span.set_attribute("rpc.grpc.status_code", grpc.StatusCode[code].value[0])
                    # Refusals are answers, not faults: only the codes that mean a failure mark the span.
                    if code in FAILURE_CODES:
                        span.set_status(trace.Status(trace.StatusCode.ERROR, code))
                    span.end()
                    otel_context.detach(token)  # type: ignore[arg-type]

        return grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _metadata_traceparent(context: grpc.aio.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == tracing.TRACEPARENT:
            return str(value)
    return None
