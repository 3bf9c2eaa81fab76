"""Reads over every document (the evaluations due, the history check) hold one page of documents at
a time, never a list of every id: at a million documents such a list alone is some 70 MiB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import pytest
from normreg_common.clock import FakeClock
from normreg_common.profile import JurisdictionProfile
from normreg_registry.adapters.memory import InMemoryRepository, InMemoryUnitOfWork
from normreg_registry.application import service as registry_service
from normreg_registry.application.ports import DocumentFilter, RegistryRepository
from normreg_registry.application.service import ImportItem, RegistryService
from normreg_registry.domain.lifecycle import Kind, State
from normreg_registry.domain.model import Document, ImportedVersion

from tests.registry.test_domain_lifecycle import REGISTRAR
from tests.registry.test_rules import T0

T = TypeVar("T")
PAGE = 2


class PagedOnly(InMemoryRepository):
    """Answers pages and notes their sizes; a read of every id at once fails the test."""

    limits: list[int]

    def find(self, where: DocumentFilter, *, after: str, limit: int) -> Iterator[Document]:
        self.limits.append(limit)
        return super().find(where, after=after, limit=limit)

    def all_ids(self) -> list[str]:
        raise AssertionError("every id read at once")

    def ids_with_states(self, states: Sequence[str]) -> list[str]:
        raise AssertionError("every id read at once")


class RecordingUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.limits: list[int] = []

    async def read(self, work: Callable[[RegistryRepository], T]) -> T:
        store = PagedOnly(self.tables, read_only=True)
        store.limits = self.limits
        return work(store)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_service, "READ_PAGE", PAGE)


async def registry_of(kinds: Sequence[tuple[Kind, dt.date | None]]) -> tuple[RegistryService, RecordingUnitOfWork]:
    uow = RecordingUnitOfWork()
    service = RegistryService(uow, FakeClock(T0), JurisdictionProfile())
    items = [
        ImportItem(
            f"paged-{i}",
            kind,
            "赤峰市人民政府",
            [
                ImportedVersion(
                    f"赤峰市分页第{i}号办法",
                    "第一条 为了测试，制定本办法。",
                    State.IN_FORCE,
                    dt.date(2022, 1, 1),
                    dt.date(2022, 2, 1),
                    validity_end=end,
                )
            ],
        )
        for i, (kind, end) in enumerate(kinds)
    ]
    docs = await service.import_documents(REGISTRAR, items)
    assert all(isinstance(d, Document) for d in docs), docs
    return service, uow


async def test_evaluations_due_are_found_over_more_documents_than_a_page_holding_one_page() -> None:
    soon = T0.date() + dt.timedelta(days=100)
    later = T0.date() + dt.timedelta(days=3 * 365)
    kinds = [(Kind.NORMATIVE_DOCUMENT, soon if i % 2 else later) for i in range(7)]
    service, uow = await registry_of(kinds)
    due = await service.due_evaluations(REGISTRAR)
    assert len(due) == 3
    assert {d.validity_end for d in due} == {soon}
    assert uow.limits == [PAGE] * 4


async def test_the_history_check_of_every_document_reads_them_a_page_at_a_time() -> None:
    service, uow = await registry_of([(Kind.NATIONAL_LAW, None)] * 5)
    checked, entries, problems = await service.verify_history(REGISTRAR, "", [])
    assert (checked, problems) == (5, [])
    assert entries >= 5
    assert uow.limits == [PAGE] * 3
