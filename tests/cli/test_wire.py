"""What goes over the wire: the token and the deadline on every call, flags turned into the request's
fields, and a rich google.rpc.Status turned into one line. A stand-in search service records it all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from normreg.v1 import document_pb2 as pb
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_cli.dates import to_pb as day

from tests.cli.conftest import Cli

HIT = spb.SearchHit(
    name="documents/lvhua/versions/2",
    document="documents/lvhua",
    title="赤峰市城市绿化管理办法",
    kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
    state=pb.VERSION_STATE_IN_FORCE,
    issuing_body="赤峰市人民政府",
    uniform_number="赤政规〔2024〕3号",
    promulgation_date=day("2024-05-06"),
    effective_date=day("2024-06-05"),
    snippets=[spb.Snippet(field="第三条", text="城市<em>绿化</em>应当\n统筹规划")],
)


class StandInSearch(sgrpc.SearchServiceServicer):
    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.metadata: list[dict[str, str]] = []
        self.deadlines: list[float | None] = []

    def _record(self, request: Any, context: grpc.aio.ServicerContext) -> None:
        self.requests.append(request)
        self.metadata.append({k: v for k, v in context.invocation_metadata() if isinstance(v, str)})
        self.deadlines.append(context.time_remaining())

    async def SearchDocuments(
        self, request: spb.SearchDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> spb.SearchDocumentsResponse:
        self._record(request, context)
        if request.query == "坏":
            bad = error_details_pb2.BadRequest(
                field_violations=[error_details_pb2.BadRequest.FieldViolation(field="query", description="too short")]
            )
            details = []
            for detail in (error_details_pb2.ErrorInfo(reason="QUERY_TOO_SHORT", domain="normreg.search"), bad):
                packed = any_pb2.Any()
                packed.Pack(detail)
                details.append(packed)
            status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message="query: too short", details=details)
            await context.abort_with_status(rpc_status.to_status(status))
        return spb.SearchDocumentsResponse(hits=[HIT], total=7, next_page_token="p2")

    async def GetPublicDocument(
        self, request: spb.GetPublicDocumentRequest, context: grpc.aio.ServicerContext
    ) -> spb.PublicDocument:
        self._record(request, context)
        return spb.PublicDocument(
            name=HIT.name,
            title=HIT.title,
            state=pb.VERSION_STATE_REPEALED,
            uniform_number=HIT.uniform_number,
            articles=[pb.Article(label="第一条", text="为了加强城市绿化管理，制定本办法。")],
            timeline=[
                spb.TimelineEvent(date=day("2024-05-06"), event="promulgated"),
                spb.TimelineEvent(
                    date=day("2026-01-01"), event="repealed", note="被新办法废止", related="documents/new"
                ),
            ],
            repealed_by="documents/new",
        )

    async def ListOpenConsultations(
        self, request: spb.ListOpenConsultationsRequest, context: grpc.aio.ServicerContext
    ) -> spb.ListOpenConsultationsResponse:
        self._record(request, context)
        return spb.ListOpenConsultationsResponse()


@pytest.fixture
async def stand_in() -> AsyncIterator[tuple[StandInSearch, str]]:
    servicer = StandInSearch()
    server = grpc.aio.server()
    sgrpc.add_SearchServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield servicer, f"127.0.0.1:{port}"
    await server.stop(0)


async def test_flags_become_the_request_and_every_call_carries_token_and_deadline(
    tmp_path: Path, stand_in: tuple[StandInSearch, str]
) -> None:
    servicer, address = stand_in
    cli = Cli(tmp_path, {"search": address})
    result = await cli.ok(
        "search",
        "城市",
        "绿化",
        "--state",
        "in_force",
        "--state",
        "repealed",
        "--kind",
        "normative_document",
        "--body",
        "赤峰市人民政府",
        "--valid-on",
        "2026-06-01",
        "--sort",
        "promulgated",
        "--page-size",
        "5",
        "--promulgated-from",
        "2024-01-01",
        "--as",
        "drafter:alice@市司法局",
        "--timeout",
        "12",
    )
    [request] = servicer.requests
    assert request == spb.SearchDocumentsRequest(
        query="城市 绿化",
        states=[pb.VERSION_STATE_IN_FORCE, pb.VERSION_STATE_REPEALED],
        kinds=[pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT],
        issuing_bodies=["赤峰市人民政府"],
        valid_on=day("2026-06-01"),
        sort=spb.SORT_ORDER_PROMULGATION_DATE_DESC,
        page_size=5,
        promulgation_date=spb.DateRange(from_date=day("2024-01-01")),
    )
    assert servicer.metadata[0]["authorization"].startswith("Bearer ey")
    # The remaining time seen by the server is the deadline give or take clock granularity.
    assert servicer.deadlines[0] is not None and 6 < servicer.deadlines[0] < 12.5
    assert result.out.splitlines() == [
        "title                   number             state     promulgated  effective   document",
        "----------------------  -----------------  --------  -----------  ----------  --------------------------",
        "赤峰市城市绿化管理办法  赤政规〔2024〕3号  in_force  2024-05-06   2024-06-05  documents/lvhua/versions/2",
        "    第三条: 城市[绿化]应当 统筹规划",
        "",
        "1 of 7 documents",
        "more: --page-token p2",
    ]

    await cli.ok("consultations")
    assert "authorization" not in servicer.metadata[1]  # no identity: the public
    assert servicer.deadlines[1] is not None and 20 < servicer.deadlines[1] < 30.5
    await cli.ok("consultations", env={"NORMREG_TOKEN": "from-the-environment"})
    assert servicer.metadata[2]["authorization"] == "Bearer from-the-environment"


async def test_show_by_number_prints_the_public_timeline_and_the_text(
    tmp_path: Path, stand_in: tuple[StandInSearch, str]
) -> None:
    servicer, address = stand_in
    cli = Cli(tmp_path, {"search": address})
    shown = await cli.ok("show", "--number", "赤政规〔2024〕3号")
    assert servicer.requests == [spb.GetPublicDocumentRequest(uniform_number="赤政规〔2024〕3号")]
    assert shown.out.splitlines()[-8:] == [
        "timeline:",
        "date        event        note          related",
        "----------  -----------  ------------  -------------",
        "2024-05-06  promulgated",
        "2026-01-01  repealed     被新办法废止  documents/new",
        "",
        "text:",
        "第一条 为了加强城市绿化管理，制定本办法。",
    ]
    assert "state        repealed（已废止）" in shown.out
    as_json = await cli.ok("show", "lvhua", "--json")
    assert servicer.requests[-1] == spb.GetPublicDocumentRequest(name="documents/lvhua")
    assert as_json.json()["repealed_by"] == "documents/new"


async def test_a_rich_error_shows_code_reason_field_and_message(
    tmp_path: Path, stand_in: tuple[StandInSearch, str]
) -> None:
    _, address = stand_in
    result = await Cli(tmp_path, {"search": address})("search", "坏")
    assert (result.code, result.out) == (1, "")
    assert result.err == "error: INVALID_ARGUMENT (QUERY_TOO_SHORT, field query): query: too short\n"
