"""One trace follows a promulgation from the registry's gRPC method through the outbox and the
event log to the search index, carried by the CloudEvents `traceparent` extension."""

from __future__ import annotations

import json

import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import review_service_pb2 as vpb
from normreg_cli.dates import to_pb as day
from normreg_common import tracing
from normreg_common.eventlog.port import Record
from normreg_common.events import DOCUMENTS_TOPIC
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.e2e.flows import People
from tests.harness import System

pytestmark = pytest.mark.asyncio

PROMULGATE = "normreg.v1.RegistryService/Promulgate"


async def adopted(p: People, title: str) -> str:
    doc = await p.create(title, "第一条 为了规范管理，制定本办法。")
    await p.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    await p.review(doc, vpb.REVIEW_DECISION_APPROVE)
    await p.secretary.RecordDeliberation(
        rpb.RecordDeliberationRequest(
            name=doc.name,
            decision=rpb.DELIBERATION_DECISION_ADOPT,
            meeting="市政府第8次常务会议",
            meeting_date=day(p.clock.now().date()),
        )
    )
    return doc.name


def render(spans: list[ReadableSpan], root: ReadableSpan) -> list[str]:
    """The trace as an indented tree: `component  kind  name`."""
    children: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        if span.parent is not None:
            children.setdefault(span.parent.span_id, []).append(span)
    lines: list[str] = []

    def walk(span: ReadableSpan, depth: int) -> None:
        scope = span.instrumentation_scope.name if span.instrumentation_scope else "?"
        lines.append(f"{'  ' * depth}{span.name}  [{scope}, {span.kind.name}]")
        for child in sorted(children.get(span.context.span_id, []), key=lambda s: s.start_time or 0):
            walk(child, depth + 1)

    walk(root, 0)
    return lines


async def test_one_trace_runs_from_promulgate_through_the_event_log_to_the_search_index(
    spans: InMemorySpanExporter, system: System
) -> None:
    p = People(system)
    name = await adopted(p, "赤峰市城市道路管理办法")
    await p.settle()
    spans.clear()
    await p.registrar.Promulgate(rpb.PromulgateRequest(name=name))
    await p.settle()

    finished = list(spans.get_finished_spans())
    [server] = [s for s in finished if s.name == PROMULGATE]
    assert server.kind == SpanKind.SERVER and server.parent is None
    assert server.instrumentation_scope is not None and server.instrumentation_scope.name == "normreg.registry"
    trace = [s for s in finished if s.context.trace_id == server.context.trace_id]
    print("\n".join(render(trace, server)))

    def children(kind: SpanKind, scope: str) -> list[ReadableSpan]:
        return [
            s
            for s in trace
            if s.kind == kind
            and s.parent is not None
            and s.parent.span_id == server.context.span_id
            and s.instrumentation_scope is not None
            and s.instrumentation_scope.name == scope
        ]

    # The registry's relay published the event inside the request's trace …
    [publish] = children(SpanKind.PRODUCER, "normreg.registry")
    assert publish.name == f"publish {DOCUMENTS_TOPIC}"
    # … and the search service applied it to the index in the same trace, as did the review service.
    [indexed] = children(SpanKind.CONSUMER, "normreg.search")
    assert indexed.name == f"process {DOCUMENTS_TOPIC}"
    assert indexed.status.is_ok
    [applied] = [s for s in trace if s.parent is not None and s.parent.span_id == indexed.context.span_id]
    assert applied.name == "index apply"
    assert children(SpanKind.CONSUMER, "normreg.review")
    # The event on the log carries the request's trace context as a CloudEvents extension attribute.
    records = await _documents(system)
    promulgated = [json.loads(r.value) for r in records if json.loads(r.value)["type"].endswith(".promulgated")]
    [event] = promulgated
    version, trace_id, parent_id, flags = event["traceparent"].split("-")
    assert (version, trace_id, parent_id) == ("00", f"{server.context.trace_id:032x}", f"{server.context.span_id:016x}")
    assert int(flags, 16) & 1  # sampled


async def test_a_callers_traceparent_is_continued(spans: InMemorySpanExporter, system: System) -> None:
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    registry = system.stub("registry", system.token("zhang", "drafter", org="市城管局"))
    registry._metadata = (*registry._metadata, ("traceparent", caller))
    await registry.CreateDocument(
        rpb.CreateDocumentRequest(
            kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            title="赤峰市测试办法",
            body="第一条 测试。",
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
        )
    )
    [server] = [s for s in spans.get_finished_spans() if s.name.endswith("/CreateDocument")]
    assert f"{server.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert server.parent is not None and f"{server.parent.span_id:016x}" == "b7ad6b7169203331"


async def test_without_configuration_events_carry_no_trace_context(system: System) -> None:
    assert not tracing.enabled()
    p = People(system)
    await p.create("赤峰市不追踪办法", "第一条 测试。")
    await system.pump()
    [record] = await _documents(system)
    assert "traceparent" not in json.loads(record.value)


async def _documents(system: System) -> list[Record]:
    async def none(topic: str, partition: int) -> int | None:
        return None

    consumer = system.event_log.consumer([DOCUMENTS_TOPIC], "trace-test", none)
    await consumer.start()
    try:
        return [Record(d.topic, d.key, d.value) for d in await consumer.poll(max_records=1000, timeout=0)]
    finally:
        await consumer.close()
