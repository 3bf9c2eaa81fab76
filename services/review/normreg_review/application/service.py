"""The review service's use cases. Each write runs as one transaction on the database thread: load the
review, let the domain decide, save it and its outgoing events together, then wake the relay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from normreg_common import paging
from normreg_common.clock import Clock
from normreg_common.errors import NotFound
from normreg_common.eventlog.port import Delivery
from normreg_common.inbox import accept_sequence, save_positions
from normreg_common.outbox import enqueue
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile
from normreg_common.sqlite import Database

from normreg_review.adapters.sqlite_store import ReviewFilter, Store
from normreg_review.adapters.stores import open_store
from normreg_review.application.events import to_records
from normreg_review.application.inbound import DocumentWithdrawn, Inbound, ReviewRequested
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
        db: Database | PostgresDatabase,
        clock: Clock,
        profile: JurisdictionProfile,
        *,
        reviewing_office: str,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._profile = profile
        self._reviewing_office = reviewing_office
        self._on_commit = on_commit

    # ---- plumbing ------------------------------------------------------------------------------

    async def _write(self, work: Callable[[Store], T]) -> T:
        result = await self._db.transaction(lambda conn: work(open_store(conn)))
        self._on_commit()
        return result

    async def _read(self, work: Callable[[Store], T]) -> T:
        return await self._db.read(lambda conn: work(open_store(conn)))

    @staticmethod
    def _save(store: Store, review: Review) -> Review:
        store.save(review)
        enqueue(store.conn, to_records(review, review.pop_changes()))
        return review

    @staticmethod
    def _load(store: Store, review_id: str) -> Review:
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
        def work(store: Store) -> Review:
            review = self._load(store, review_id)
            access.require_readable(principal, review)
            return review

        return await self._read(work)

    async def claim_review(self, principal: Principal, review_id: str) -> Review:
        def work(store: Store) -> Review:
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
        def work(store: Store) -> Review:
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

        def work(store: Store) -> int:
            changed = 0
            for item in inbound:
                # Every event moves its stream on, also those ignored here, so a stale copy is dropped.
                if not accept_sequence(store.conn, item.source, item.subject, item.sequence):
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
            save_positions(store.conn, group, deliveries)
            return changed

        return await self._write(work)

    def _open_review(self, store: Store, request: ReviewRequested) -> int:
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

    def _cancel_active(self, store: Store, document: str, at: dt.datetime, actor: str, reason: str) -> int:
        active = store.active_of_document(document)
        for review in active:
            review.cancel(at, actor, reason)
            self._save(store, review)
        return len(active)
