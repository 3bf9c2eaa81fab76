"""ImportDocuments: a batch is imported in one call, each document answered on its own. A refused
document names its field and reason and leaves nothing behind while the others land; a batch sent
again imports nothing twice, whichever of the two import methods sent it first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2
from google.type import date_pb2
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import search_service_pb2 as spb
from normreg_common.clock import FakeClock

from tests.harness import Stub, System, error_reason

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock, services=("registry", "search"))
    await s.start()
    yield s
    await s.stop()


def registrar(s: System) -> Stub:
    return s.stub("registry", s.token("zhao", "registrar", org="市政府办"))


def law(n: int, *, title: str | None = None, number: str = "", year: int = 2020) -> rpb.ImportDocumentRequest:
    return rpb.ImportDocumentRequest(
        request_id=f"batch-{n}",
        kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
        issuing_body="赤峰市人民政府",
        versions=[
            rpb.ImportedVersion(
                title=f"赤峰市第{n}号管理办法" if title is None else title,
                body=f"第一条 为了规范第{n}项管理，制定本办法。",
                state=pb.VERSION_STATE_IN_FORCE,
                uniform_number=number,
                promulgation_date=date_pb2.Date(year=year, month=3, day=1),
            )
        ],
    )


def details(status: status_pb2.Status) -> tuple[str, list[str]]:
    reason, fields = "", []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    return reason, fields


async def count(s: System) -> int:
    reply = await registrar(s).ListDocuments(rpb.ListDocumentsRequest(page_size=500))
    return len(reply.documents)


async def test_a_refused_document_names_its_field_and_the_others_land(system: System) -> None:
    reg = registrar(system)
    held = await reg.ImportDocument(law(0, number="赤政规〔2020〕1号"))
    reply = await reg.ImportDocuments(
        rpb.ImportDocumentsRequest(
            documents=[
                law(1, number="赤政规〔2020〕2号"),
                law(2, title=""),  # refused at the edge
                law(3, number="赤政规〔2020〕1号"),  # refused in the transaction: the number is held
                law(4, number="赤政规〔2020〕4号"),
                law(5, year=1900),  # a date before any the registry keeps
            ]
        )
    )
    results = list(reply.results)
    assert [r.request_id for r in results] == [f"batch-{n}" for n in range(1, 6)]
    landed = [r for r in results if not r.HasField("error")]
    assert [r.request_id for r in landed] == ["batch-1", "batch-4"]
    assert all(r.document.startswith("documents/") and r.version_count == 1 for r in landed)

    assert results[1].error.code == code_pb2.INVALID_ARGUMENT
    assert details(results[1].error)[1] == ["documents[1].versions.0.title"]
    assert results[2].error.code == code_pb2.ALREADY_EXISTS
    assert details(results[2].error)[0] == "UNIFORM_NUMBER_TAKEN"
    assert held.name in results[2].error.message
    assert results[4].error.code == code_pb2.INVALID_ARGUMENT
    assert details(results[4].error)[1][0].startswith("documents[4].versions.0.promulgation_date")
    assert all(r.document == "" for r in results if r.HasField("error"))

    # Nothing of a refused document stays: its number is free and its request id unused.
    assert await count(system) == 3
    again = await reg.ImportDocument(law(3, number="赤政规〔2020〕3号"))
    assert again.name not in {r.document for r in landed}

    # Every imported version is searchable; the refused ones are not. Promulgated in 2020 with the
    # five years of validity a normative document has, they are expired from the moment they land.
    await system.pump()
    listed = await system.stub("search").SearchDocuments(
        spb.SearchDocumentsRequest(page_size=50, states=[pb.VERSION_STATE_IN_FORCE, pb.VERSION_STATE_EXPIRED])
    )
    assert {h.state for h in listed.hits} == {pb.VERSION_STATE_EXPIRED}
    assert {h.document for h in listed.hits} == {held.name, again.name, *(r.document for r in landed)}
    assert listed.total == 4


async def test_a_batch_sent_again_imports_nothing_twice(system: System) -> None:
    reg = registrar(system)
    single = await reg.ImportDocument(law(1))
    batch = rpb.ImportDocumentsRequest(documents=[law(n) for n in range(1, 6)])
    first = await reg.ImportDocuments(batch)
    second = await reg.ImportDocuments(batch)
    assert [r.document for r in first.results] == [r.document for r in second.results]
    assert first.results[0].document == single.name
    assert len({r.document for r in first.results}) == 5
    assert await count(system) == 5
    # And the single call finds what the batch imported.
    assert (await reg.ImportDocument(law(4))).name == first.results[3].document
    # The same id with another body is refused for that document alone.
    changed = law(2, title="另一个标题的办法")
    reply = await reg.ImportDocuments(rpb.ImportDocumentsRequest(documents=[changed, law(6)]))
    assert details(reply.results[0].error) == ("REQUEST_ID_REUSED", ["documents[0].request_id"])
    assert not reply.results[1].HasField("error")
    assert await count(system) == 6


async def test_the_same_document_twice_in_one_batch_is_imported_once(system: System) -> None:
    reply = await registrar(system).ImportDocuments(rpb.ImportDocumentsRequest(documents=[law(1), law(1)]))
    assert reply.results[0].document == reply.results[1].document != ""
    assert await count(system) == 1


async def test_the_whole_call_is_refused_when_empty_too_large_or_not_the_registrar(system: System) -> None:
    reg = registrar(system)
    for documents in ([], [law(n) for n in range(201)]):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await reg.ImportDocuments(rpb.ImportDocumentsRequest(documents=documents))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    drafter = system.stub("registry", system.token("alice", "drafter", org="市司法局"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await drafter.ImportDocuments(rpb.ImportDocumentsRequest(documents=[law(1)]))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(err.value) == "ROLE_NOT_ALLOWED"
    assert await count(system) == 0
