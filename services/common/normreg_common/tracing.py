"""OpenTelemetry traces across gRPC and the event log, off unless configured.

A trace starts (or continues, from a caller's `traceparent` metadata) at a gRPC method. Events
written by that request carry the W3C `traceparent` of the request as a CloudEvents extension
attribute (CloudEvents' distributed tracing extension), so the relay that publishes them and every
consumer that applies them add their spans to the same trace.

Unconfigured, `enabled()` is false and every hook returns before touching OpenTelemetry: no
provider, no exporter, no context switch per request. The module keeps its own provider instead of
installing a global one, so tests can swap an in-memory exporter in and out.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"

_propagator = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None
# get_tracer() builds a new tracer each call (a third of a span's cost): one per component.
_tracers: dict[str, trace.Tracer] = {}


def enabled() -> bool:
    return _provider is not None


def configure(processors: Sequence[SpanProcessor], *, service: str = "normreg", sample_ratio: float = 1.0) -> None:
    """Turn tracing on for this process with these span processors (an OTLP exporter, or tests' in-memory one)."""
    global _provider
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "service.namespace": "normreg"}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )
    for processor in processors:
        provider.add_span_processor(processor)
    _tracers.clear()
    _provider = provider


def configure_otlp(endpoint: str, *, service: str, sample_ratio: float = 1.0) -> None:
    """Export to an OTLP/gRPC collector. TLS, headers and timeouts come from the standard
    OTEL_EXPORTER_OTLP_* variables."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    configure([BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint))], service=service, sample_ratio=sample_ratio)


def shutdown() -> None:
    """Flush what is buffered and turn tracing off."""
    global _provider
    provider, _provider = _provider, None
    _tracers.clear()
    if provider is not None:
        provider.shutdown()


def tracer(component: str) -> trace.Tracer:
    """The tracer of one service (`normreg.registry`, …): its spans name the service even when
    several run in one process."""
    if _provider is None:
        return trace.NoOpTracer()
    found = _tracers.get(component)
    if found is None:
        found = _tracers[component] = _provider.get_tracer(component)
    return found


@contextlib.contextmanager
def span(component: str, name: str, **attributes: str | int) -> Iterator[None]:
    """A child span of the current one, or nothing at all when tracing is off."""
    if _provider is None:
        yield
        return
    with tracer(component).start_as_current_span(name, attributes=attributes):
        yield


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, for an event written now; None when not tracing."""
    if _provider is None:
        return None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_from(traceparent: str | None) -> Context | None:
    if not traceparent:
        return None
    extracted = _propagator.extract({TRACEPARENT: traceparent})
    if not trace.get_current_span(extracted).get_span_context().is_valid:
        return None
    return extracted


def traceparent_of_event(raw: bytes) -> str | None:
    """The traceparent extension attribute of a CloudEvent in structured JSON mode."""
    try:
        value = json.loads(raw).get(TRACEPARENT)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


@contextlib.contextmanager
def message_spans(
    component: str, operation: str, records: Sequence[tuple[str, bytes]], *, current: bool = False
) -> Iterator[list[Span]]:
    """One span per event, each a child of the request that wrote it (`publish` on the producer,
    `process` on a consumer), ended together when the batch is done.

    With `current`, a batch of one makes its span current, so what the work writes (a review task's
    events) stays in the same trace; a larger batch runs under one span linked to every event's.
    """
    if _provider is None:
        yield []
        return
    tracer_ = tracer(component)
    kind = SpanKind.PRODUCER if operation == "publish" else SpanKind.CONSUMER
    spans = [
        tracer_.start_span(
            f"{operation} {topic}",
            context=context_from(traceparent_of_event(raw)),
            kind=kind,
            attributes={
                "messaging.system": "normreg",
                "messaging.destination.name": topic,
                "messaging.operation": operation,
            },
        )
        for topic, raw in records
    ]
    try:
        if current and len(spans) == 1:
            with trace.use_span(spans[0], end_on_exit=False):
                yield spans
        elif current and spans:
            links = [Link(s.get_span_context()) for s in spans]
            with tracer_.start_as_current_span(
                f"{operation} batch", kind=kind, links=links, attributes={"messaging.batch.message_count": len(spans)}
            ):
                yield spans
        else:
            yield spans
    except BaseException as exc:
        for span in spans:
            span.record_exception(exc)
            span.set_status(trace.Status(trace.StatusCode.ERROR, str(exc)))
        raise
    finally:
        for span in spans:
            span.end()
