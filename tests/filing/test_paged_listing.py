"""A page of received filings is read from the store a page at a time after the last one's arrival
position, never from a list of every filing (each page of the listing used to read them all); missed
filings likewise after the last one's position, and the reports are counted by the store."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from normreg_common.clock import FakeClock
from normreg_common.errors import InvalidArgument
from normreg_common.principal import Role
from normreg_filing.adapters.memory import InMemoryRepository, InMemoryUnitOfWork
from normreg_filing.application import service as filing_service
from normreg_filing.application.ports import FilingRepository
from normreg_filing.application.service import FilingReviewService
from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.suggestions import ReviewSuggestion
from normreg_filing.domain.supervision import SeenPromulgation

from tests.conftest import principal
from tests.filing.repository_contract import suggestion
from tests.filing.test_filing_review_domain import PROVINCE, REVIEWER, at, received, seen

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


class MissingPagesOnly(InMemoryRepository):
    """Missed filings and reports may be asked of the store only by page and by count."""

    limits: list[int]

    def missing_after(
        self,
        after: int,
        limit: int,
        *,
        sender: str = "",
        due_from: dt.date | None = None,
        due_until: dt.date | None = None,
    ) -> list[tuple[int, SeenPromulgation]] | None:
        self.limits.append(limit)
        return super().missing_after(after, limit, sender=sender, due_from=due_from, due_until=due_until)

    def seen(self, sender: str = "") -> list[SeenPromulgation]:
        raise AssertionError("every promulgation seen read at once")

    def filings(self, sender: str = "", state: str = "") -> list[ReceivedFiling]:
        raise AssertionError("every filing read at once")

    def suggestions(self, sender: str = "") -> list[ReviewSuggestion]:
        raise AssertionError("every suggestion read at once")


class MissingRecordingUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.limits: list[int] = []

    async def read(self, work: Callable[[FilingRepository], T]) -> T:
        store = MissingPagesOnly(self.tables)
        store.limits = self.limits
        return work(store)


async def test_missed_filings_and_reports_ask_the_store_for_a_page_or_a_count_never_every_sighting() -> None:
    uow = MissingRecordingUnitOfWork()
    for i in range(7):
        await uow.write(lambda r, i=i: r.see(seen(f"documents/m{i}/versions/1", promulgated=-i)))
    await uow.write(lambda r: r.save_filing(received("documents/m3/versions/1", promulgated=-3)))
    service = FilingReviewService(uow, FakeClock(at(12)), PROVINCE, key=Ed25519PrivateKey.generate())
    listed, after, more = [], 0, True
    while more:
        page, more = await service.missing_page(REVIEWER, after=after, size=2)
        listed += [m.promulgation.document for _, m in page]
        after = page[-1][0]
    assert listed == [f"documents/m{i}/versions/1" for i in (6, 5, 4, 2, 1, 0)]
    # A page of two is asked as two and one more (whether another page follows), three times.
    assert uow.limits == [3, 3, 3]
    uow.limits.clear()
    assert [m.promulgation.document for m in await service.missing(REVIEWER)] == listed
    assert uow.limits and set(uow.limits) == {STORE_PAGE + 1}
    report = await service.report(REVIEWER, "chifeng", 2026)
    assert (report.required, report.filed) == (7, 1)
    assert [r.sender for r in await service.reports(REVIEWER, 2026)] == await service.jurisdictions()


async def test_a_page_token_of_no_sighting_is_refused_as_page_token() -> None:
    uow = MissingRecordingUnitOfWork()
    await uow.write(lambda r: r.see(seen("documents/m1/versions/1")))
    service = FilingReviewService(uow, FakeClock(at(12)), PROVINCE, key=Ed25519PrivateKey.generate())
    with pytest.raises(InvalidArgument) as err:
        await service.missing_page(REVIEWER, after=2, size=5)
    assert err.value.field == "page_token"
