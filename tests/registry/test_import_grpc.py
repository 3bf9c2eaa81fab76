"""ImportDocument over gRPC: the articles sent are kept, the acts that amended a version reach its
public timeline, and a version whose effective date is ahead is not in force yet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from google.type import date_pb2
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import search_service_pb2 as spb
from normreg_common.clock import FakeClock

from tests.harness import System


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
