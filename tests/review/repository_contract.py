"""The contract of the review service's repository port and unit of work. Every adapter's test class
subclasses ReviewRepositoryContract and provides the `uow` fixture (a fresh, empty, open store)."""

from __future__ import annotations

import datetime as dt

import pytest
from normreg_common.eventlog.port import Delivery, Record
from normreg_common.principal import Role
from normreg_common.profile import JurisdictionProfile
from normreg_review.application.ports import ReviewFilter, ReviewRepository, UnitOfWork
from normreg_review.domain.lifecycle import ReviewState
from normreg_review.domain.model import Review

from tests.conftest import SHANGHAI, principal

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday
RITA = principal("rita", Role.REVIEWER, org="司法局")


def request(doc: str, round_: int = 1, org: str = "市城管局", office: str = "司法局", days: int = 0) -> Review:
    return Review.request(
        document_id=doc,
        version_number=1,
        review_round=round_,
        revision=1,
        title="办法",
        body="第一条 为了规范管理，制定本办法。",
        drafting_org=org,
        drafters=["zhang"],
        reviewing_office=office,
        requested_by="zhang",
        at=T0 + dt.timedelta(days=days),
        profile=JurisdictionProfile(),
    )


def save(store: ReviewRepository, review: Review) -> Review:
    store.save(review, [Record("normreg.reviews", review.document, f"{review.id}:{review.sequence}".encode())])
    review.pop_changes()
    return review


class Boom(Exception):
    pass


class ReviewRepositoryContract:
    @pytest.fixture
    def uow(self) -> UnitOfWork:
        raise NotImplementedError

    async def test_a_saved_review_reads_back_equal_and_updates_in_place(self, uow: UnitOfWork) -> None:
        review = request("d1")
        await uow.write(lambda s: save(s, review))
        assert await uow.read(lambda s: s.get(review.id)) == review
        review.claim(RITA, T0)
        await uow.write(lambda s: save(s, review))
        loaded = await uow.read(lambda s: s.get(review.id))
        assert loaded is not None and loaded.state == ReviewState.CLAIMED and loaded.assignee == "rita"
        assert await uow.read(lambda s: s.get("missing")) is None

    async def test_a_unit_that_raises_leaves_nothing_behind(self, uow: UnitOfWork) -> None:
        first = request("d1")
        await uow.write(lambda s: save(s, first))

        def fail(s: ReviewRepository) -> None:
            loaded = s.get(first.id)
            assert loaded is not None
            loaded.claim(RITA, T0)
            save(s, loaded)
            save(s, request("d2"))
            s.accept_sequence("registry", "documents/d1", 9)
            raise Boom

        with pytest.raises(Boom):
            await uow.write(fail)
        loaded = await uow.read(lambda s: s.get(first.id))
        assert loaded is not None and loaded.state == ReviewState.OPEN
        assert await uow.read(lambda s: s.get(request("d2").id)) is None
        assert await uow.write(lambda s: s.accept_sequence("registry", "documents/d1", 9))

    async def test_active_reviews_of_a_document_in_arrival_order(self, uow: UnitOfWork) -> None:
        one, two, other = request("d1", 1), request("d1", 2), request("d2")
        for r in (one, two, other):
            await uow.write(lambda s, r=r: save(s, r))
        assert [r.id for r in await uow.read(lambda s: s.active_of_document("documents/d1"))] == [one.id, two.id]
        one.cancel(T0, "zhang", "superseded")
        await uow.write(lambda s: save(s, one))
        assert [r.id for r in await uow.read(lambda s: s.active_of_document("documents/d1"))] == [two.id]

    async def test_pages_follow_arrival_with_filters(self, uow: UnitOfWork) -> None:
        reviews = [
            request("c", org="市教育局"),
            request("a"),
            request("b", office="旗县司法局", days=-40),
        ]
        for r in reviews:
            await uow.write(lambda s, r=r: save(s, r))
        reviews[1].claim(RITA, T0)
        await uow.write(lambda s: save(s, reviews[1]))

        everything = await uow.read(lambda s: s.page(ReviewFilter(), after=0, limit=10))
        assert [r.id for _, r in everything] == [r.id for r in reviews]
        positions = [p for p, _ in everything]
        assert positions == sorted(positions) and positions[0] > 0
        after_first = await uow.read(lambda s: s.page(ReviewFilter(), after=positions[0], limit=1))
        assert [r.id for _, r in after_first] == [reviews[1].id]
        claimed = await uow.read(lambda s: s.page(ReviewFilter(state=ReviewState.CLAIMED), after=0, limit=10))
        assert [r.id for _, r in claimed] == [reviews[1].id]
        by_org = await uow.read(lambda s: s.page(ReviewFilter(drafting_org="市教育局"), after=0, limit=10))
        assert [r.id for _, r in by_org] == [reviews[0].id]
        by_office = await uow.read(lambda s: s.page(ReviewFilter(reviewing_office="旗县司法局"), after=0, limit=10))
        assert [r.id for _, r in by_office] == [reviews[2].id]
        overdue = await uow.read(lambda s: s.page(ReviewFilter(overdue_on=T0.date()), after=0, limit=10))
        assert [r.id for _, r in overdue] == [reviews[2].id]

    async def test_inbound_sequences_and_positions(self, uow: UnitOfWork) -> None:
        assert await uow.write(lambda s: s.accept_sequence("registry", "documents/d1", 3))
        assert not await uow.write(lambda s: s.accept_sequence("registry", "documents/d1", 3))
        assert await uow.write(lambda s: s.accept_sequence("registry", "documents/d1", 4))
        batch = [Delivery("normreg.documents", 0, 7, "k", b""), Delivery("normreg.documents", 0, 5, "k", b"")]
        assert await uow.read(lambda s: s.position("review", "normreg.documents", 0)) is None
        await uow.write(lambda s: s.save_positions("review", batch))
        assert await uow.read(lambda s: s.position("review", "normreg.documents", 0)) == 7
