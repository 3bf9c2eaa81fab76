"""A scheduler run holds one page of the documents due, never all of them: it asks the store for a
page at a time (each in its own read) and still moves every document due, each once, and stops
between pages when told. (At a million documents one run marked 1.15 million, and the registry
held every id at once.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import pytest
from normreg_common.clock import FakeClock
from normreg_common.profile import JurisdictionProfile
from normreg_registry.adapters.memory import InMemoryRepository, InMemoryUnitOfWork
from normreg_registry.application import service as registry_service
from normreg_registry.application.ports import RegistryRepository
from normreg_registry.application.service import ImportItem, RegistryService
from normreg_registry.domain.lifecycle import Kind, State
from normreg_registry.domain.model import Document, ImportedVersion

from tests.registry.test_domain_lifecycle import REGISTRAR
from tests.registry.test_rules import T0

T = TypeVar("T")
PAGE = 4
BATCH = 2
DUE = 11


class RecordingRepository(InMemoryRepository):
    """Notes each page the scheduler asks for: the size asked and the size answered."""

    pages: list[tuple[int, int]]

    def clock_due(self, today: dt.date, after: tuple[dt.date, str], limit: int) -> list[tuple[dt.date, str]]:
        found = super().clock_due(today, after, limit)
        self.pages.append((limit, len(found)))
        return found


class RecordingUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.pages: list[tuple[int, int]] = []
        self.reads = 0

    async def read(self, work: Callable[[RegistryRepository], T]) -> T:
        self.reads += 1
        store = RecordingRepository(self.tables, read_only=True)
        store.pages = self.pages
        return work(store)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_service, "SCHEDULER_PAGE", PAGE)
    monkeypatch.setattr(registry_service, "SCHEDULER_BATCH", BATCH)


async def laws_in_force_in_ten_days(n: int) -> tuple[RegistryService, RecordingUnitOfWork, FakeClock, list[str]]:
    uow = RecordingUnitOfWork()
    clock = FakeClock(T0)
    service = RegistryService(uow, clock, JurisdictionProfile())
    today = T0.date()
    items = [
        ImportItem(
            f"page-{i}",
            Kind.NATIONAL_LAW,
            "全国人民代表大会常务委员会",
            [
                ImportedVersion(
                    f"测试第{i}号法",
                    "第一条 为了测试，制定本法。",
                    State.PROMULGATED,
                    today,
                    today + dt.timedelta(days=10),
                )
            ],
        )
        for i in range(n)
    ]
    docs = await service.import_documents(REGISTRAR, items)
    assert all(isinstance(d, Document) for d in docs), docs
    clock.advance(days=10)
    return service, uow, clock, [d.id for d in docs if isinstance(d, Document)]


async def test_a_run_over_more_documents_than_a_page_asks_a_page_at_a_time_and_moves_each_once() -> None:
    service, uow, _, ids = await laws_in_force_in_ten_days(DUE)
    moved: list[str] = []
    real = service._run_clock

    def recording(store: RegistryRepository, doc_id: str) -> bool:
        moved.append(doc_id)
        return real(store, doc_id)

    service._run_clock = recording  # type: ignore[method-assign]
    run = await service.run_scheduler()
    assert (run.changed, run.failed, run.stopped) == (DUE, [], False)
    assert sorted(moved) == sorted(ids)
    # Never more than one page asked for or held; the last one comes back empty.
    assert uow.pages == [(PAGE, PAGE), (PAGE, PAGE), (PAGE, DUE - 2 * PAGE), (PAGE, 0)]
    assert uow.reads == len(uow.pages)
    for doc_id in ids:
        doc = await uow.read(lambda s, doc_id=doc_id: s.get(doc_id))
        assert doc is not None and doc.latest.state == State.IN_FORCE
    uow.pages.clear()
    assert (await service.run_scheduler()).changed == 0
    assert uow.pages == [(PAGE, 0)]


async def test_a_run_told_to_stop_at_the_end_of_a_page_moves_nothing_of_the_next_and_leaves_it_due() -> None:
    service, uow, _, _ = await laws_in_force_in_ten_days(DUE)
    asked = 0

    def stopping_after_one_page() -> bool:
        nonlocal asked
        asked += 1
        return asked > PAGE // BATCH

    first = await service.run_scheduler(stopping_after_one_page)
    assert (first.stopped, first.changed) == (True, PAGE)
    assert len(uow.pages) == 2
    rest = await service.run_scheduler()
    assert (rest.stopped, rest.changed) == (False, DUE - PAGE)
