"""A name is matched whole: `$` in a pattern also matches before a final line break, so
"documents/x\\n" passed for "documents/x" (stored with it by the filing service, found by the search
service, rendered by the portal). Every name a service or the portal reads ends where it ends."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import filing_review_service_pb2 as fpb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import search_service_pb2 as spb
from normreg_common.clock import FakeClock

from tests.harness import System, field_violations, one_version

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    s = System(tmp_path, FakeClock(T0), services=("registry", "review", "search", "filing"))
    await s.start()
    yield s
    await s.stop()


async def test_a_name_with_a_line_break_after_it_is_refused_by_every_service(system: System) -> None:
    registrar = system.stub("registry", system.token("zhao", "registrar", org="市政府办"))
    doc = await registrar.ImportDocument(
        one_version(
            "n1",
            pb.DOCUMENT_KIND_GOVERNMENT_RULE,
            "赤峰市人民政府",
            "赤峰市供水办法",
            pb.VERSION_STATE_IN_FORCE,
            "2020-01-01",
        )
    )
    await system.pump()
    calls = [
        (registrar.GetDocument, rpb.GetDocumentRequest(name=doc.name + "\n"), "name"),
        (registrar.GetHistory, rpb.GetHistoryRequest(name=doc.name + "\n"), "name"),
        (system.stub("search").GetPublicDocument, spb.GetPublicDocumentRequest(name=doc.name + "\n"), "name"),
        (
            system.stub("search").GetPublicDocument,
            spb.GetPublicDocumentRequest(name=doc.name + "/versions/1\n"),
            "name",
        ),
        (
            system.stub("filing").SubmitReviewSuggestion,
            fpb.SubmitReviewSuggestionRequest(
                review_suggestion=fpb.ReviewSuggestion(
                    document=doc.name + "/versions/1\n", reasons="与上位法抵触", contact="13800000000"
                )
            ),
            "document",
        ),
    ]
    for call, request, field in calls:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(request)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, request
        assert field_violations(caught.value) == [field], request
    # The same names without the line break are found.
    assert (await registrar.GetDocument(rpb.GetDocumentRequest(name=doc.name))).name == doc.name
    await system.stub("filing").SubmitReviewSuggestion(
        fpb.SubmitReviewSuggestionRequest(
            review_suggestion=fpb.ReviewSuggestion(document=doc.name, reasons="与上位法抵触", contact="13800000000")
        )
    )
