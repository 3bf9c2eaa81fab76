"""JSON logs, when chosen, carry the trace and span ids of the request they were written in."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import grpc
import pytest
from normreg.v1 import registry_service_pb2 as rpb
from normreg_common import logs
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.e2e.flows import People
from tests.harness import System


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logs.configure(handler, service="registry", fmt="json")
    rpc = logging.getLogger("normreg.rpc")
    rpc.addHandler(handler)
    level = rpc.level
    rpc.setLevel(logging.DEBUG)
    yield out
    rpc.setLevel(level)
    rpc.removeHandler(handler)


@pytest.mark.asyncio
async def test_json_log_lines_carry_the_trace_id_of_their_request(
    spans: InMemorySpanExporter, system: System, json_log: io.StringIO
) -> None:
    p = People(system)
    doc = await p.create("赤峰市城市养犬管理办法", "第一条 为了规范养犬行为，制定本办法。")
    with pytest.raises(grpc.aio.AioRpcError):
        await p.registrar.Promulgate(rpb.PromulgateRequest(name=doc.name))
    # A refused call is logged as its handler unwinds, which may be just after the client has the answer.
    for _ in range(500):
        if "/Promulgate FAILED_PRECONDITION" in json_log.getvalue():
            break
        await asyncio.sleep(0.01)
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    [created] = [line for line in lines if "/CreateDocument OK" in line["message"]]
    [refused] = [line for line in lines if "/Promulgate FAILED_PRECONDITION" in line["message"]]
    by_name = {s.name: s for s in spans.get_finished_spans()}
    for line, method in ((created, "CreateDocument"), (refused, "Promulgate")):
        span = by_name[f"normreg.v1.RegistryService/{method}"]
        assert line["trace_id"] == f"{span.context.trace_id:032x}"
        assert line["span_id"] == f"{span.context.span_id:016x}"
        assert line["service"] == "registry" and line["level"] == "DEBUG" and line["logger"] == "normreg.rpc"
    assert created["trace_id"] != refused["trace_id"]


def test_a_line_outside_any_trace_has_no_trace_id_and_keeps_its_exception() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logs.configure(handler, service="search", fmt="json")
    log = logging.getLogger("normreg.test.json")
    log.addHandler(handler)
    try:
        try:
            raise ValueError("index unreachable")
        except ValueError:
            log.error("batch failed for %s", "normreg.documents", exc_info=True)
    finally:
        log.removeHandler(handler)
    [line] = [json.loads(raw) for raw in out.getvalue().splitlines()]
    assert line["message"] == "batch failed for normreg.documents"
    assert "trace_id" not in line
    assert "ValueError: index unreachable" in line["exception"]
