"""The review service's use cases. Each owns its transaction: it hands the unit of work one function
that loads the review, lets the domain decide, and saves it with its outgoing events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from normreg_common import paging
from normreg_common.clock import Clock
from normreg_common.errors import NotFound
from normreg_common.eventlog.port import Delivery
from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile

from normreg_review.application.events import to_records
from normreg_review.application.inbound import DocumentWithdrawn, Inbound, ReviewRequested
from normreg_review.application.ports import ReviewFilter, ReviewRepository, UnitOfWork
from normreg_review.domain import access
from normreg_review.domain.lifecycle import Decision, ReviewState
from normreg_review.domain.model import Review

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
REVIEW_PAGES: paging.PageTokens[int] = paging.PageTokens("review.reviews", paging.IntCursor())


class ReviewService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        profile: JurisdictionProfile,
        *,
        reviewing_office: str,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._profile = profile
        self._reviewing_office = reviewing_office

    # ---- plumbing ------------------------------------------------------------------------------

    async def _write(self, work: Callable[[ReviewRepository], T]) -> T:
        return await self._uow.write(work)

    async def _read(self, work: Callable[[ReviewRepository], T]) -> T:
        return await self._uow.read(work)

    @staticmethod
    def _save(store: ReviewRepository, review: Review) -> Review:
        store.save(review, to_records(review, review.pop_changes()))
        return review

    @staticmethod
    def _load(store: ReviewRepository, review_id: str) -> Review:
        review = store.get(review_id)
        if review is None:
            raise NotFound(f"reviews/{review_id}")
        return review

    def today(self) -> dt.date:
        return self._profile.local_date(self._clock.now())

    # ---- the API -------------------------------------------------------------------------------

    async def list_reviews(
        self,
        principal: Principal,
        *,
        state: ReviewState | None,
        reviewing_office: str,
        overdue_only: bool,
        page_size: int,
        page_token: str,
        size_of: Callable[[Review], int] = lambda _: 0,
    ) -> tuple[list[Review], str]:
        """A page of reviews, at most `page_size` and at most PAGE_BYTES by `size_of` (the reply's
        measure of one review: a review carries its draft's text)."""
        scope = access.list_scope(principal)
        size = paging.page_size(page_size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
        query = {"state": state, "reviewing_office": reviewing_office, "overdue_only": overdue_only}
        after = REVIEW_PAGES.decode(page_token, query) or 0
        where = ReviewFilter(
            state=state,
            reviewing_office=reviewing_office,
            drafting_org=scope.drafting_org,
            overdue_on=self.today() if overdue_only else None,
        )
        rows = await self._read(lambda store: store.page(where, after=after, limit=size + 1))
        page = rows[: paging.fits(rows[:size], lambda row: size_of(row[1]))]
        token = REVIEW_PAGES.encode(page[-1][0], query) if len(rows) > len(page) else ""
        return [review for _, review in page], token

    async def get_review(self, principal: Principal, review_id: str) -> Review:
        def work(store: ReviewRepository) -> Review:
            review = self._load(store, review_id)
            access.require_readable(principal, review)
            return review

        return await self._read(work)

    async def claim_review(self, principal: Principal, review_id: str) -> Review:
        def work(store: ReviewRepository) -> Review:
            review = self._load(store, review_id)
            review.claim(principal, self._clock.now())
            return self._save(store, review)

        return await self._write(work)

    async def decide_review(
        self,
        principal: Principal,
        review_id: str,
        *,
        decision: Decision,
        opinion: str,
        problems: Sequence[str],
        etag: str,
    ) -> Review:
        def work(store: ReviewRepository) -> Review:
            review = self._load(store, review_id)
            review.decide(
                principal, self._clock.now(), decision=decision, opinion=opinion, problems=problems, etag=etag
            )
            return self._save(store, review)

        return await self._write(work)

    # ---- the registry's events -----------------------------------------------------------------

    async def apply_document_events(
        self, group: str, deliveries: Sequence[Delivery], inbound: Sequence[Inbound]
    ) -> int:
        """Applies a batch with the consumer's positions in one transaction; returns how many reviews changed."""

        def work(store: ReviewRepository) -> int:
            changed = 0
            for item in inbound:
                # Every event moves its stream on, also those ignored here, so a stale copy is dropped.
                if not store.accept_sequence(item.source, item.subject, item.sequence):
                    continue
                if isinstance(item.message, ReviewRequested):
                    changed += self._open_review(store, item.message)
                elif isinstance(item.message, DocumentWithdrawn):
                    changed += self._cancel_active(
                        store,
                        item.message.document,
                        item.message.at,
                        item.message.withdrawn_by,
                        item.message.reason or "the draft was withdrawn",
                    )
            store.save_positions(group, deliveries)
            return changed

        return await self._write(work)

    def _open_review(self, store: ReviewRepository, request: ReviewRequested) -> int:
        review = Review.request(
            document_id=request.document_id,
            version_number=request.version_number,
            review_round=request.review_round,
            revision=request.revision,
            title=request.title,
            body=request.body,
            drafting_org=request.drafting_org,
            drafters=request.drafters,
            reviewing_office=self._reviewing_office,
            requested_by=request.requested_by,
            at=request.at,
            profile=self._profile,
        )
        if store.get(review.id) is not None:
            return 0
        # A new request supersedes any earlier one still open: the registry applies only the newest round.
        changed = self._cancel_active(
            store,
            review.document,
            request.at,
            request.requested_by,
            f"superseded by review round {request.review_round}",
        )
        self._save(store, review)
        return changed + 1

    def _cancel_active(self, store: ReviewRepository, document: str, at: dt.datetime, actor: str, reason: str) -> int:
        active = store.active_of_document(document)
        for review in active:
            review.cancel(at, actor, reason)
            self._save(store, review)
        return len(active)
