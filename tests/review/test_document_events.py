"""The registry's events drive review tasks: real registry documents and events, the review service's
real SQLite database and the embedded event log, no gRPC."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing

from normreg_common.clock import FakeClock
from normreg_common.eventlog.port import Record
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.events import DOCUMENTS_TOPIC, REGISTRY_SOURCE, CloudEvent
from normreg_common.principal import Role, review_decision_actor
from normreg_common.settings import Settings
from normreg_registry.domain.lifecycle import State
from normreg_review.bootstrap import ReviewApp, create_app
from normreg_review.domain.lifecycle import Decision, ReviewState

from tests.conftest import SHANGHAI, principal
from tests.legacy_document_snapshots import legacy_event
from tests.review.support import BODY, ORG, TITLE, Registry, drafter, review_events

RITA = principal("rita", Role.REVIEWER, org="司法局")
# Her decision as the registry receives it: through the review service, never from a token.
RITA_DECISION = review_decision_actor("rita", "司法局")


async def reviews(app: ReviewApp) -> list[tuple[str, ReviewState]]:
    found, _ = await app.service.list_reviews(
        RITA, state=None, reviewing_office="", overdue_only=False, page_size=500, page_token=""
    )
    return [(r.name, r.state) for r in found]


async def review_events_of(app: ReviewApp, event_log: SqliteEventLog) -> list[CloudEvent]:
    """Relays what is pending, then reads the reviews topic."""
    await app.sync()
    return await review_events(event_log)


async def test_a_review_request_opens_a_review_of_that_exact_text(app: ReviewApp, registry: Registry) -> None:
    await registry.submit("doc1")
    await app.sync()
    review = await app.service.get_review(RITA, "doc1-v1-r1")
    assert (review.document, review.version_number, review.review_round, review.revision) == (
        "documents/doc1",
        1,
        1,
        1,
    )
    assert (review.title, review.body, review.drafting_org) == (TITLE, BODY, ORG)
    assert review.drafters == ("alice",)
    assert review.reviewing_office == "司法局"
    assert review.state == ReviewState.OPEN
    assert review.create_time == registry.clock.now()
    assert review.due_date == dt.date(2026, 3, 23)


async def test_a_redelivered_review_request_creates_one_review(
    app: ReviewApp, registry: Registry, event_log: SqliteEventLog
) -> None:
    await registry.submit("doc1")
    await app.sync()
    # The same records again, as a producer retrying after a lost acknowledgement would send them.
    await event_log.publish(registry.published)
    await app.sync()
    assert await reviews(app) == [("reviews/doc1-v1-r1", ReviewState.OPEN)]
    created = [e for e in await review_events_of(app, event_log) if e.type.endswith(".created")]
    assert len(created) == 1


async def test_a_restarted_service_resumes_where_it_stopped(
    settings: Settings, clock: FakeClock, event_log: SqliteEventLog, registry: Registry
) -> None:
    await registry.submit("doc1")
    first = await create_app(settings, clock=clock, event_log=event_log, background=False)
    await first.start()
    await first.sync()
    await first.stop(grace=0)
    await registry.submit("doc2")
    again = await create_app(settings, clock=clock, event_log=event_log, background=False)
    await again.start()
    try:
        # Only doc2's two records (created, review_requested) are new to it, and one review event leaves.
        assert await again.sync() == 2 + 1
        assert [name for name, _ in await reviews(again)] == ["reviews/doc1-v1-r1", "reviews/doc2-v1-r1"]
    finally:
        await again.stop(grace=0)


async def test_withdrawing_the_draft_cancels_its_open_and_claimed_reviews(app: ReviewApp, registry: Registry) -> None:
    doc1 = await registry.submit("doc1")
    doc2 = await registry.submit("doc2")
    await registry.submit("doc3")
    await app.sync()
    await app.service.claim_review(RITA, "doc2-v1-r1")
    await registry.withdraw(doc1)
    await registry.withdraw(doc2, reason="机构改革")
    await app.sync()
    assert await reviews(app) == [
        ("reviews/doc1-v1-r1", ReviewState.CANCELLED),
        ("reviews/doc2-v1-r1", ReviewState.CANCELLED),
        ("reviews/doc3-v1-r1", ReviewState.OPEN),
    ]
    assert (await app.service.get_review(RITA, "doc2-v1-r1")).cancel_reason == "机构改革"


async def test_a_withdrawal_after_the_decision_leaves_the_decided_review_alone(
    app: ReviewApp, registry: Registry
) -> None:
    doc = await registry.submit("doc1")
    await app.sync()
    await app.service.claim_review(RITA, "doc1-v1-r1")
    await app.service.decide_review(
        RITA, "doc1-v1-r1", decision=Decision.RETURN_FOR_REVISION, opinion="缺少上位法依据", problems=[], etag=""
    )
    doc.apply_review_decision(
        "RETURN_FOR_REVISION",
        version=1,
        review_round=1,
        reviewer=RITA_DECISION,
        review="reviews/doc1-v1-r1",
        at=registry.clock.now(),
    )
    await registry.withdraw(doc)
    await app.sync()
    assert await reviews(app) == [("reviews/doc1-v1-r1", ReviewState.DECIDED)]


async def test_a_new_review_round_opens_a_new_review_and_cancels_a_stale_open_one(
    app: ReviewApp, registry: Registry
) -> None:
    doc = await registry.submit("doc1")
    await app.sync()
    # The registry moved on without this service's decision (e.g. restored from another system).
    doc.apply_review_decision(
        "RETURN_FOR_REVISION",
        version=1,
        review_round=1,
        reviewer=RITA_DECISION,
        review="elsewhere",
        at=registry.clock.now(),
    )
    bob = drafter("bob")
    await registry.resubmit(doc, bob, BODY + "\n第三条 本办法自发布之日起施行。")
    await app.sync()
    assert await reviews(app) == [
        ("reviews/doc1-v1-r1", ReviewState.CANCELLED),
        ("reviews/doc1-v1-r2", ReviewState.OPEN),
    ]
    second = await app.service.get_review(RITA, "doc1-v1-r2")
    assert (second.revision, second.drafters) == (2, ("alice", "bob"))


async def test_events_it_does_not_handle_are_consumed_and_change_nothing(app: ReviewApp, registry: Registry) -> None:
    doc = registry.draft("doc1")
    doc.update_draft(drafter(), registry.clock.now(), title="新标题", body=None, etag="")
    await registry.publish(doc)
    assert await app.sync() == 2
    assert await reviews(app) == []
    assert await app.sync() == 0


async def test_an_unreadable_record_is_skipped_without_stalling_the_stream(
    app: ReviewApp, registry: Registry, event_log: SqliteEventLog
) -> None:
    bogus = CloudEvent(
        source=REGISTRY_SOURCE,
        type="normreg.registry.v1.review_requested",
        subject="documents/bad",
        time=registry.clock.now(),
        sequence=1,
        data={"version_number": 1},
    )
    await event_log.publish([Record(DOCUMENTS_TOPIC, "x", b"not json"), Record(DOCUMENTS_TOPIC, "y", bogus.to_bytes())])
    await registry.submit("doc1")
    await app.sync()
    assert await reviews(app) == [("reviews/doc1-v1-r1", ReviewState.OPEN)]


async def test_an_event_it_does_not_handle_moves_its_stream_on_unread_and_a_broken_one_is_set_aside(
    app: ReviewApp, registry: Registry, event_log: SqliteEventLog, settings: Settings
) -> None:
    def event(sequence: int, data: object) -> bytes:
        fields = CloudEvent(
            source=REGISTRY_SOURCE,
            type="normreg.registry.v1.filing_overdue",
            subject="documents/doc9",
            time=registry.clock.now(),
            sequence=1,
            data={},
        ).model_dump(mode="json")
        return json.dumps({**fields, "sequence": sequence, "data": data}).encode()

    # Its data is not even an object, which is for the consumers of that type to find (the search
    # service sets it aside): here only its sequence counts, and its data is never read. A sequence
    # of 0 breaks the envelope itself: that record is set aside here too.
    passed, broken = event(5, "not an object"), event(0, {})
    await event_log.publish([Record(DOCUMENTS_TOPIC, "documents/doc9", v) for v in (passed, broken)])
    await registry.submit("doc1")
    await app.sync()
    assert await reviews(app) == [("reviews/doc1-v1-r1", ReviewState.OPEN)]
    with closing(sqlite3.connect(settings.data_dir / "review.db")) as conn:
        assert conn.execute("SELECT sequence FROM inbox_sequences WHERE subject = 'documents/doc9'").fetchall() == [
            (5,)
        ]
        assert conn.execute("SELECT stage, value FROM dead_letters").fetchall() == [("decode", broken)]


async def test_a_stale_copy_of_an_earlier_event_is_dropped(
    app: ReviewApp, registry: Registry, event_log: SqliteEventLog
) -> None:
    doc = await registry.submit("doc1")
    request = registry.published[-1]
    await registry.withdraw(doc)
    # The review request arrives again after the withdrawal: it must not reopen the review.
    await event_log.publish([request])
    await app.sync()
    assert await reviews(app) == [("reviews/doc1-v1-r1", ReviewState.CANCELLED)]


async def test_a_review_becomes_overdue_after_fifteen_working_days(
    app: ReviewApp, registry: Registry, clock: FakeClock
) -> None:
    await registry.submit("doc1")
    await app.sync()

    async def overdue() -> list[str]:
        found, _ = await app.service.list_reviews(
            RITA, state=None, reviewing_office="", overdue_only=True, page_size=10, page_token=""
        )
        return [r.name for r in found]

    # Fifteen calendar days later it is not yet overdue: the limit counts working days.
    clock.set(dt.datetime(2026, 3, 18, 9, 0, tzinfo=SHANGHAI))
    assert await overdue() == []
    clock.set(dt.datetime(2026, 3, 23, 23, 59, tzinfo=SHANGHAI))
    assert await overdue() == []
    clock.set(dt.datetime(2026, 3, 24, 0, 1, tzinfo=SHANGHAI))
    assert await overdue() == ["reviews/doc1-v1-r1"]
    review = await app.service.get_review(RITA, "doc1-v1-r1")
    assert review.is_overdue(app.service.today())


async def test_the_outbox_is_written_with_the_review_and_relayed_on_sync(
    app: ReviewApp, registry: Registry, event_log: SqliteEventLog, settings: Settings
) -> None:
    await registry.submit("doc1")
    # Two registry records in (created, review_requested), one review event out.
    assert await app.sync() == 2 + 1
    with closing(sqlite3.connect(settings.data_dir / "review.db")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 1


async def test_every_change_of_a_review_is_published_in_order_with_its_own_sequence(
    app: ReviewApp, registry: Registry, event_log: SqliteEventLog
) -> None:
    doc = await registry.submit("doc1")
    await app.sync()
    await app.service.claim_review(RITA, "doc1-v1-r1")
    await app.service.claim_review(RITA, "doc1-v1-r1")  # a retry publishes nothing
    await registry.withdraw(doc)
    events = await review_events_of(app, event_log)
    assert [(e.type, e.sequence, e.subject, e.source) for e in events] == [
        ("normreg.review.v1.created", 1, "reviews/doc1-v1-r1", "/normreg/review"),
        ("normreg.review.v1.claimed", 2, "reviews/doc1-v1-r1", "/normreg/review"),
        ("normreg.review.v1.cancelled", 3, "reviews/doc1-v1-r1", "/normreg/review"),
    ]
    # The payloads are the published messages (normreg.events.v1), dates as google.type.Date.
    assert events[0].dataschema == "type.googleapis.com/normreg.events.v1.ReviewCreated"
    assert events[0].data["due_date"] == {"year": 2026, "month": 3, "day": 23}
    assert events[1].data["assignee"] == "rita"
    assert events[2].data["reason"] == "政策调整，撤回草案"


async def test_the_decided_event_carries_exactly_what_the_registry_applies(
    app: ReviewApp, registry: Registry, event_log: SqliteEventLog
) -> None:
    doc = await registry.submit("doc1")
    await app.sync()
    await app.service.claim_review(RITA, "doc1-v1-r1")
    await app.service.decide_review(
        RITA, "doc1-v1-r1", decision=Decision.APPROVE, opinion="符合上位法", problems=["第五条表述不清"], etag="s2"
    )
    decided = (await review_events_of(app, event_log))[-1]
    assert decided.type == "normreg.review.v1.decided"
    assert decided.sequence == 3
    assert decided.data == {
        "review": "reviews/doc1-v1-r1",
        "document": "documents/doc1",
        "version_number": 1,
        "review_round": 1,
        "revision": 1,
        "decision": "APPROVE",
        "reviewer": "rita",
        "reviewing_office": "司法局",
        "opinion": "符合上位法",
        "problems": ["第五条表述不清"],
    }
    # And the registry's own domain accepts it as it is.
    data = decided.data
    applied = doc.apply_review_decision(
        data["decision"],
        version=data["version_number"],
        review_round=data["review_round"],
        reviewer=review_decision_actor(data["reviewer"], data["reviewing_office"]),
        review=data["review"],
        at=decided.time,
    )
    assert applied
    assert doc.version(1).state == State.AWAITING_DELIBERATION


async def test_requests_and_withdrawals_written_before_the_messages_were_published_still_act(
    app: ReviewApp, registry: Registry, event_log: SqliteEventLog
) -> None:
    """A log that holds the registry's snapshots from before its events were published messages."""
    doc = registry.draft("old")
    doc.submit_for_review(drafter(), registry.clock.now())
    legacy = [legacy_event(doc, change) for change in doc.pop_changes()]
    assert all(e.dataschema is None for e in legacy)
    await event_log.publish([Record(DOCUMENTS_TOPIC, e.subject, e.to_bytes()) for e in legacy])
    await app.sync()
    review = await app.service.get_review(RITA, "old-v1-r1")
    assert (review.document, review.revision, review.title, review.body, review.drafters) == (
        "documents/old",
        1,
        TITLE,
        BODY,
        ("alice",),
    )
    doc.withdraw(drafter(), registry.clock.now(), "政策调整")
    [withdrawn] = [legacy_event(doc, change) for change in doc.pop_changes()]
    await event_log.publish([Record(DOCUMENTS_TOPIC, withdrawn.subject, withdrawn.to_bytes())])
    await app.sync()
    assert await reviews(app) == [("reviews/old-v1-r1", ReviewState.CANCELLED)]
