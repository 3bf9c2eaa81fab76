"""A scheduler run told to stop ends before its next transaction and leaves the rest due for the next
run: a registry stopped during a run used to wait until every due document was moved on (9.7 s at
20,000 imported documents; at a million one run marks hundreds of thousands)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_common.clock import FakeClock
from normreg_registry.application import service as registry_service
from prometheus_client import REGISTRY

from tests.harness import System, one_version

LAWS = 10
BATCH = 4


async def _laws_in_force_in_ten_days(s: System, today: dt.date) -> list[str]:
    registrar = s.stub("registry", s.token("reg", "registrar", org="政府办"))
    reply = await registrar.ImportDocuments(
        rpb.ImportDocumentsRequest(
            documents=[
                one_version(
                    f"stop-{n}",
                    pb.DOCUMENT_KIND_NATIONAL_LAW,
                    "全国人民代表大会常务委员会",
                    f"中华人民共和国停止测试第{n}号法",
                    pb.VERSION_STATE_PROMULGATED,
                    today,
                    today + dt.timedelta(days=10),
                    body="第一条 为了测试，制定本法。",
                )
                for n in range(LAWS)
            ]
        )
    )
    assert [r.HasField("error") for r in reply.results] == [False] * LAWS, reply
    return [r.document for r in reply.results]


def _stopped_runs() -> float:
    return REGISTRY.get_sample_value("normreg_scheduler_runs_total", {"outcome": "stopped"}) or 0.0


async def test_a_run_told_to_stop_ends_before_its_next_transaction_and_leaves_the_rest_due(
    system: System, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_service, "SCHEDULER_BATCH", BATCH)
    service = system.apps["registry"].service
    names = await _laws_in_force_in_ten_days(system, clock.now().date())
    clock.advance(days=10)

    asked = 0

    def stopping_after_the_first_transaction() -> bool:
        nonlocal asked
        asked += 1
        return asked > 1

    first = await service.run_scheduler(stopping_after_the_first_transaction)
    assert (first.stopped, first.changed) == (True, BATCH)
    rest = await service.run_scheduler()
    assert (rest.stopped, rest.changed) == (False, LAWS - BATCH)
    assert (await service.run_scheduler()).changed == 0

    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
    for name in names:
        doc = await registrar.GetDocument(rpb.GetDocumentRequest(name=name))
        assert doc.versions[0].state == pb.VERSION_STATE_IN_FORCE, name


async def test_the_service_scheduler_stopped_before_a_run_moves_nothing_and_counts_the_run_as_stopped(
    system: System, clock: FakeClock
) -> None:
    app = system.apps["registry"]
    await _laws_in_force_in_ten_days(system, clock.now().date())
    clock.advance(days=10)
    stop = asyncio.Event()
    stop.set()
    before = _stopped_runs()
    assert await app.run_scheduler_once(stop) is True
    assert _stopped_runs() == before + 1
    assert (await app.service.run_scheduler()).changed == LAWS
