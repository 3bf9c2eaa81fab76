"""ImportDocument over gRPC: the articles sent are kept, the acts that amended a version reach its
public timeline, and a version whose effective date is ahead is not in force yet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.type import date_pb2
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import search_service_pb2 as spb
from normreg_common.clock import FakeClock

from tests.harness import System, field_violations


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock, services=("registry", "search"))
    await s.start()
    yield s
    await s.stop()


def day(y: int, m: int, d: int) -> date_pb2.Date:
    return date_pb2.Date(year=y, month=m, day=d)


async def test_an_import_keeps_its_articles_and_names_the_acts_that_amended_it(system: System) -> None:
    registrar = system.stub("registry", system.token("zhao", "registrar", org="市政府办"))
    doc = await registrar.ImportDocument(
        rpb.ImportDocumentRequest(
            request_id="criminal",
            kind=pb.DOCUMENT_KIND_NATIONAL_LAW,
            issuing_body="全国人民代表大会",
            versions=[
                rpb.ImportedVersion(
                    title="中华人民共和国刑法",
                    body="第一章 任务\n第一条 为了惩罚犯罪，制定本法。\n第二章 犯罪\n第十七条之一 已满七十五周岁的人。",
                    articles=[
                        pb.Article(label="第一条", text="为了惩罚犯罪，制定本法。"),
                        pb.Article(label="第十七条之一", text="已满七十五周岁的人。"),
                    ],
                    state=pb.VERSION_STATE_IN_FORCE,
                    promulgation_date=day(2020, 12, 26),
                    effective_date=day(1997, 10, 1),
                    amended_by=[rpb.ImportedAct(title="中华人民共和国刑法修正案（十一）", date=day(2020, 12, 26))],
                )
            ],
        )
    )
    [version] = (await registrar.GetDocument(rpb.GetDocumentRequest(name=doc.name))).versions
    assert version.state == pb.VERSION_STATE_IN_FORCE
    assert [(a.label, a.text) for a in version.articles] == [
        ("第一条", "为了惩罚犯罪，制定本法。"),
        ("第十七条之一", "已满七十五周岁的人。"),
    ]
    await system.pump()
    public = system.stub("search")
    shown = await public.GetPublicDocument(spb.GetPublicDocumentRequest(name=doc.name))
    assert ("amended_by", "中华人民共和国刑法修正案（十一）") in [(e.event, e.note) for e in shown.timeline]


async def test_a_version_taking_effect_after_today_is_imported_not_yet_in_force(
    system: System, clock: FakeClock
) -> None:
    today = clock.now().date()
    registrar = system.stub("registry", system.token("zhao", "registrar", org="市政府办"))
    doc = await registrar.ImportDocument(
        rpb.ImportDocumentRequest(
            request_id="future",
            kind=pb.DOCUMENT_KIND_NATIONAL_LAW,
            issuing_body="全国人民代表大会常务委员会",
            versions=[
                rpb.ImportedVersion(
                    title="中华人民共和国某法",
                    body="第一条 旧文。",
                    state=pb.VERSION_STATE_AMENDED,
                    promulgation_date=day(2019, 1, 1),
                    effective_date=day(2019, 3, 1),
                ),
                rpb.ImportedVersion(
                    title="中华人民共和国某法",
                    body="第一条 新文。",
                    state=pb.VERSION_STATE_IN_FORCE,
                    promulgation_date=day(today.year, today.month, today.day),
                    effective_date=day(today.year + 1, 1, 1),
                ),
            ],
        )
    )
    assert [v.state for v in doc.versions] == [pb.VERSION_STATE_IN_FORCE, pb.VERSION_STATE_PROMULGATED]


async def test_an_import_too_large_to_publish_as_an_event_is_refused_and_changes_nothing(system: System) -> None:
    """4.4 MB of request, under its 8 MiB limit, became an event of 8.8 MB (JSON doubles each \\ and ",
    and the event holds the body and every article): Kafka refused it after the write committed, and
    the outbox relay, which publishes the oldest rows first, stopped every later event behind it. The
    import is now refused, and what comes after it is published as ever."""
    registrar = system.stub("registry", system.token("zhao", "registrar", org="市政府办"))
    articles = [pb.Article(label=f"第{n}条", text='"' * 399_990) for n in range(1, 11)]
    huge = rpb.ImportedVersion(
        title="赤峰市超大导入办法",
        body="\\" * 399_990,
        articles=articles,
        state=pb.VERSION_STATE_IN_FORCE,
        promulgation_date=day(2020, 1, 1),
    )
    request = rpb.ImportDocumentRequest(
        request_id="huge", kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT, issuing_body="赤峰市人民政府", versions=[huge]
    )
    assert request.ByteSize() < 8 * 2**20
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await registrar.ImportDocument(request)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(refused.value) == ["versions"] and "MiB" in (refused.value.details() or "")
    assert list((await registrar.ListDocuments(rpb.ListDocumentsRequest())).documents) == []
    # The same document in its usual size is imported, published and found.
    usual = rpb.ImportedVersion(
        title="赤峰市超大导入办法",
        body="第一条 为了规范导入，制定本办法。",
        state=pb.VERSION_STATE_IN_FORCE,
        promulgation_date=day(2025, 6, 1),
    )
    doc = await registrar.ImportDocument(
        rpb.ImportDocumentRequest(
            request_id="usual",
            kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            issuing_body="赤峰市人民政府",
            versions=[usual],
        )
    )
    await system.pump()
    found = await system.stub("search").SearchDocuments(spb.SearchDocumentsRequest(query="规范导入"))
    assert [h.document for h in found.hits] == [doc.name]
