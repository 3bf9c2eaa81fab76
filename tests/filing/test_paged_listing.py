"""A page of received filings is read from the store a page at a time after the last one's arrival
position, never from a list of every filing (each page of the listing used to read them all)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from normreg_common.clock import FakeClock
from normreg_common.principal import Role
from normreg_filing.adapters.memory import InMemoryRepository, InMemoryUnitOfWork
from normreg_filing.application import service as filing_service
from normreg_filing.application.ports import FilingRepository
from normreg_filing.application.service import FilingReviewService
from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.suggestions import ReviewSuggestion

from tests.conftest import principal
from tests.filing.repository_contract import suggestion
from tests.filing.test_filing_review_domain import PROVINCE, REVIEWER, at, received

T = TypeVar("T")
STORE_PAGE = 2


class PagedOnly(InMemoryRepository):
    limits: list[int]

    def filings_after(
        self, after: int, limit: int, *, sender: str = "", state: str = "", recipient: str = ""
    ) -> list[tuple[int, ReceivedFiling]]:
        self.limits.append(limit)
        return super().filings_after(after, limit, sender=sender, state=state, recipient=recipient)

    def filings(self, sender: str = "", state: str = "") -> list[ReceivedFiling]:
        raise AssertionError("every filing read at once")

    def suggestions_after(self, after: int, limit: int, *, sender: str = "") -> list[tuple[int, ReviewSuggestion]]:
        self.limits.append(limit)
        return super().suggestions_after(after, limit, sender=sender)

    def suggestions(self, sender: str = "") -> list[ReviewSuggestion]:
        raise AssertionError("every suggestion read at once")


class RecordingUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.limits: list[int] = []

    async def read(self, work: Callable[[FilingRepository], T]) -> T:
        store = PagedOnly(self.tables)
        store.limits = self.limits
        return work(store)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filing_service, "READ_PAGE", STORE_PAGE)


async def filed(bodies: list[str]) -> tuple[FilingReviewService, RecordingUnitOfWork, list[ReceivedFiling]]:
    uow = RecordingUnitOfWork()
    filings = [
        dataclasses.replace(received(f"documents/d{i}/versions/1"), issuing_body=body) for i, body in enumerate(bodies)
    ]
    for f in filings:
        await uow.write(lambda r, f=f: r.save_filing(f))
    service = FilingReviewService(uow, FakeClock(at(12)), PROVINCE, key=Ed25519PrivateKey.generate())
    return service, uow, filings


async def test_a_reviewer_pages_through_more_filings_than_a_store_page_each_once_in_arrival_order() -> None:
    service, uow, filings = await filed(["赤峰市人民政府"] * 5)
    seen: list[str] = []
    after, more = 0, True
    while more:
        page, more = await service.received_page(REVIEWER, after=after, size=3)
        assert len(page) <= 3
        seen += [f.id for _, f in page]
        after = page[-1][0]
    assert seen == [f.id for f in filings]
    assert uow.limits and set(uow.limits) == {STORE_PAGE}


async def test_a_sender_person_pages_through_their_own_bodys_filings_across_store_pages() -> None:
    bodies = [
        "赤峰市人民政府",
        "乌海市人民政府",
        "乌海市人民政府",
        "赤峰市人民政府",
        "乌海市人民政府",
        "赤峰市人民政府",
    ]
    service, uow, filings = await filed(bodies)
    registrar = principal("reg", Role.REGISTRAR, org="赤峰市人民政府")
    first, more = await service.received_page(registrar, size=2)
    assert more
    rest, more = await service.received_page(registrar, after=first[-1][0], size=2)
    assert not more
    assert [f.id for _, f in first + rest] == [
        f.id for f, body in zip(filings, bodies, strict=True) if body == bodies[0]
    ]
    assert set(uow.limits) == {STORE_PAGE}
    assert [f.id for f in await service.list_received(registrar)] == [f.id for _, f in first + rest]


async def test_unanswered_suggestions_page_across_store_pages_of_answered_ones() -> None:
    service, uow, _ = await filed([])
    made = [suggestion(f"s{i}") for i in range(7)]
    for i, s in enumerate(made):
        if i % 3:
            s.answer(REVIEWER, at(20), PROVINCE, "已研究")
        await uow.write(lambda r, s=s: r.save_suggestion(s))
    first, more = await service.suggestions_page(REVIEWER, unanswered_only=True, size=2)
    assert more
    rest, more = await service.suggestions_page(REVIEWER, unanswered_only=True, after=first[-1][0], size=2)
    assert not more
    assert [s.id for _, s in first + rest] == ["s0", "s3", "s6"]
    assert set(uow.limits) == {STORE_PAGE}
    assert [s.id for s in await service.list_suggestions(REVIEWER)] == [s.id for s in made]
