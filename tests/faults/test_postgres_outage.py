"""PostgreSQL stopped under a running registry: calls are UNAVAILABLE (never INTERNAL) while it is
down, the same calls succeed once it is back without restarting the registry, and nothing is lost
or doubled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_common.clock import FakeClock

from tests.faults.cluster import Infra, eventually
from tests.harness import System

pytestmark = pytest.mark.postgres


@pytest.fixture
async def system(
    tmp_path: Path, clock: FakeClock, postgres_url: str, postgres_schema_prefix: str
) -> AsyncIterator[System]:
    s = System(
        tmp_path,
        clock,
        services=("registry",),
        settings={"postgres_url": postgres_url, "postgres_schema_prefix": postgres_schema_prefix},
    )
    await s.start()
    yield s
    await s.stop()


def create(request_id: str) -> rpb.CreateDocumentRequest:
    return rpb.CreateDocumentRequest(
        request_id=request_id,
        kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
        title=f"赤峰市停库测试办法{request_id}",
        body="第一条 为了规范管理，制定本办法。",
        issuing_body="赤峰市人民政府",
        number_prefix="赤政规",
    )


async def test_calls_are_unavailable_while_postgres_is_down_and_succeed_when_it_is_back(
    system: System, infra: Infra, postgres_url: str
) -> None:
    drafter = system.stub("registry", system.token("alice", "drafter", org="市城管局"))
    first = await drafter.CreateDocument(create("before"))
    await infra.stop("postgres")
    try:
        for call in (
            drafter.CreateDocument(create("during")),
            drafter.GetDocument(rpb.GetDocumentRequest(name=first.name)),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value.details()
    finally:
        await infra.start("postgres", postgres_url)

    async def created() -> bool:
        try:
            await drafter.CreateDocument(create("during"))
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc.details()
            return False
        return True

    await eventually(created, 60, "a create succeeds once PostgreSQL is back")
    listed = await system.stub("registry", system.token("reg", "registrar")).ListDocuments(
        rpb.ListDocumentsRequest(page_size=10)
    )
    assert sorted(d.title for d in listed.documents) == ["赤峰市停库测试办法before", "赤峰市停库测试办法during"]
    # Both creations' events leave once it is back: the one written before the outage, and the retry's.
    assert await system.pump() == 2
