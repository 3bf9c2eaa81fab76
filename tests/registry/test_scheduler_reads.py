"""A scheduler run reads only the documents whose clock has something to do, and the filing gauges
and the due-filings list are answered from the store's table of unmet obligations: at a hundred
thousand documents, reading each one every minute held a core and grew the registry by gigabytes."""

from __future__ import annotations

import datetime as dt

import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_common.clock import FakeClock
from normreg_registry.adapters import sqlite_store

from tests.harness import System, one_version
from tests.registry.stored import reopened_as_stored_before

pytestmark = pytest.mark.asyncio


async def _import(s: System, n: int, kind: int, promulgated: dt.date, effective: dt.date) -> str:
    registrar = s.stub("registry", s.token("reg", "registrar", org="政府办"))
    request = one_version(
        f"read-{n}", kind, "赤峰市人民政府", f"赤峰市第{n}号办法", pb.VERSION_STATE_IN_FORCE, promulgated, effective
    )
    reply = await registrar.ImportDocuments(rpb.ImportDocumentsRequest(documents=[request]))
    return str(reply.results[0].document)


async def test_a_run_reads_only_the_documents_due(
    system: System, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = clock.now().date()
    # Laws are not filed: once in force nothing is left for the clock.
    quiet = [
        await _import(system, n, pb.DOCUMENT_KIND_NATIONAL_LAW, dt.date(2019, 1, 1), dt.date(2019, 2, 1))
        for n in range(20)
    ]
    later = await _import(system, 99, pb.DOCUMENT_KIND_NATIONAL_LAW, today, today + dt.timedelta(days=10))
    # A normative document promulgated today owes its filing in 30 days (one promulgated here: an
    # imported one owes none the registry knows of).
    filed = await _import(system, 100, pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT, today, today)
    await reopened_as_stored_before(system, [filed])
    service = system.apps["registry"].service
    # Stored without a schedule, it is read once, and scheduled from then on.
    assert (await service.run_scheduler()).changed == 0

    read: list[str] = []
    real_get = sqlite_store.Store.get

    def counting_get(self: sqlite_store.Store, doc_id: str) -> object:
        read.append(doc_id)
        return real_get(self, doc_id)

    monkeypatch.setattr(sqlite_store.Store, "get", counting_get)
    assert (await service.run_scheduler()).changed == 0
    assert await service.filing_obligations() == (1, 0)
    assert read == []

    clock.advance(days=10)
    assert (await service.run_scheduler()).changed == 1
    assert read == [later.removeprefix("documents/")]
    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
    doc = await registrar.GetDocument(rpb.GetDocumentRequest(name=later))
    assert doc.versions[0].state == pb.VERSION_STATE_IN_FORCE

    read.clear()
    clock.advance(days=21)
    assert await service.filing_obligations() == (0, 1)
    assert (await service.run_scheduler()).changed == 1
    assert read == [filed.removeprefix("documents/")]
    due = await registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=0))
    assert [(d.document, d.overdue) for d in due.filings] == [(f"{filed}/versions/1", True)]
    assert len(quiet) == 20
