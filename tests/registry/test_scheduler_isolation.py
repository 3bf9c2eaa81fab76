"""One bad document never stops a scheduler run: it is rolled back and reported, every other
document still moves on, and the lists that read deadlines keep answering."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_registry.application.ports import RegistryRepository
from normreg_registry.domain.model import Document

from tests.harness import System, one_version
from tests.registry.stored import reopened_as_stored_before


async def _due_tomorrow(s: System, request_id: str) -> str:
    """A document that takes effect tomorrow: due at the scheduler's first run after `_tomorrow` (an
    import does at once what is already due on the day it lands)."""
    registrar = s.stub("registry", s.token("reg", "registrar", org="政府办"))
    request = one_version(
        request_id,
        pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
        "赤峰市人民政府",
        f"赤峰市测试管理办法{request_id}",
        pb.VERSION_STATE_PROMULGATED,
        "2026-02-01",
        s.clock.now().date() + dt.timedelta(days=1),
    )
    doc = await registrar.ImportDocument(request)
    return str(doc.name)


async def test_a_document_whose_deadline_overflows_does_not_stop_the_run_or_the_due_list(system: System) -> None:
    bad = await _due_tomorrow(system, "old-9999")
    good = [await _due_tomorrow(system, f"good-{i}") for i in range(3)]

    # As stored before obligations were kept per recipient, and the bad one before dates were bounded
    # where they enter: the domain refuses such a date today.
    def overflowing(name: str, stored: dict[str, Any]) -> None:
        if name == bad:
            stored["versions"][0]["promulgation"]["promulgation_date"] = "9999-12-31"
            stored["versions"][0]["promulgation"]["effective_date"] = "9999-12-31"

    await reopened_as_stored_before(system, [bad, *good], overflowing)
    service = system.apps["registry"].service
    system.clock.advance(days=1)  # the day they take effect
    run = await service.run_scheduler()
    assert run.changed == 3
    assert [name for name, _ in run.failed] == [bad]
    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
    for name in good:
        assert (await registrar.GetDocument(rpb.GetDocumentRequest(name=name))).state == pb.VERSION_STATE_IN_FORCE
    due = await registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=60))
    assert sorted(d.document.rsplit("/versions/", 1)[0] for d in due.filings) == sorted(good)


async def test_any_failure_of_one_document_is_reported_and_the_others_move_on(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [await _due_tomorrow(system, f"doc-{i}") for i in range(4)]
    poisoned = names[1].removeprefix("documents/")
    real = Document.run_clock

    def failing(self: Document, *args: object, **kwargs: object) -> bool:
        if self.id == poisoned:
            raise RuntimeError("corrupt row")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Document, "run_clock", failing)
    system.clock.advance(days=1)  # the day they take effect
    run = await system.apps["registry"].service.run_scheduler()
    assert run.changed == 3
    assert run.failed == [(names[1], "RuntimeError: corrupt row")]
    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
    doc = await registrar.GetDocument(rpb.GetDocumentRequest(name=names[1]))
    assert doc.state == pb.VERSION_STATE_PROMULGATED  # rolled back, nothing half-applied


async def test_a_document_that_fails_after_writing_leaves_no_change_or_event_while_its_batch_commits(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [await _due_tomorrow(system, f"late-{i}") for i in range(5)]
    poisoned = names[2].removeprefix("documents/")
    service = system.apps["registry"].service
    real = service._schedule

    def failing(store: RegistryRepository, doc: Document) -> None:
        real(store, doc)  # its document row, history and events are written by now
        if doc.id == poisoned:
            raise RuntimeError("schedule lost")

    monkeypatch.setattr(service, "_schedule", failing)
    system.clock.advance(days=1)  # the day they take effect
    run = await service.run_scheduler()
    assert run.changed == 4
    assert run.failed == [(names[2], "RuntimeError: schedule lost")]
    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
    history = await registrar.GetHistory(rpb.GetHistoryRequest(name=names[2]))
    assert [e.action for e in history.entries] == ["imported"]
    with sqlite3.connect(system.settings.data_dir / "registry.db") as conn:
        events = conn.execute("SELECT type FROM event_index WHERE document = ?", (names[2],)).fetchall()
    assert events == [("imported",)]
    assert (await registrar.GetDocument(rpb.GetDocumentRequest(name=names[2]))).state == pb.VERSION_STATE_PROMULGATED
    for name in names[:2] + names[3:]:
        assert (await registrar.GetDocument(rpb.GetDocumentRequest(name=name))).state == pb.VERSION_STATE_IN_FORCE


async def test_a_batch_whose_transaction_fails_is_run_again_one_document_at_a_time(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [await _due_tomorrow(system, f"alone-{i}") for i in range(3)]
    service = system.apps["registry"].service

    def broken(ids: object, store: RegistryRepository) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(service, "_clock_batch", broken)
    system.clock.advance(days=1)  # the day they take effect
    run = await service.run_scheduler()
    assert (run.changed, run.failed) == (3, [])
    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
    for name in names:
        assert (await registrar.GetDocument(rpb.GetDocumentRequest(name=name))).state == pb.VERSION_STATE_IN_FORCE
