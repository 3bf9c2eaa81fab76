"""Turns recorded review changes into CloudEvents for the reviews topic.

Each event's data is a published message (normreg.events.v1.Review*), named by its `dataschema`; the
`decided` event is the registry's input.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message
from google.type import date_pb2
from normreg.events.v1 import review_events_pb2 as ev
from normreg_common.event_data import dataschema, to_data
from normreg_common.eventlog.port import Record
from normreg_common.events import REVIEW_SOURCE, REVIEWS_TOPIC, CloudEvent
from normreg_common.tracing import current_traceparent

from normreg_review.domain.lifecycle import Action
from normreg_review.domain.model import Change, Review

EVENT_TYPE_PREFIX = "normreg.review.v1."


def event_data(review: Review, change: Change) -> Message:
    """The published message of `change` (protos/normreg/events/v1/review_events.proto)."""
    ref: dict[str, Any] = {
        "review": review.name,
        "document": review.document,
        "version_number": review.version_number,
        "review_round": review.review_round,
        "revision": review.revision,
        "reviewing_office": review.reviewing_office,
    }
    if change.action == Action.CREATE:
        created = ev.ReviewCreated(
            **ref, title=review.title, drafting_org=review.drafting_org, requested_by=change.actor
        )
        created.due_date.CopyFrom(
            date_pb2.Date(year=review.due_date.year, month=review.due_date.month, day=review.due_date.day)
        )
        return created
    if change.action == Action.CLAIM:
        return ev.ReviewClaimed(**ref, assignee=change.actor)
    if change.action == Action.DECIDE:
        return ev.ReviewDecided(
            **ref,
            decision=review.decision.value if review.decision else "",
            reviewer=change.actor,
            opinion=review.opinion,
            problems=list(review.problems),
        )
    return ev.ReviewCancelled(**ref, cancelled_by=change.actor, reason=change.reason)


def to_records(review: Review, changes: list[Change]) -> list[Record]:
    # Keyed by document: every review of a document lands in one partition, in order.
    return [
        Record(
            REVIEWS_TOPIC,
            review.document,
            CloudEvent(
                source=REVIEW_SOURCE,
                type=EVENT_TYPE_PREFIX + change.action.value,
                subject=review.name,
                time=change.at,
                sequence=change.sequence,
                data=to_data(message := event_data(review, change)),
                dataschema=dataschema(message),
                traceparent=current_traceparent(),
            ).to_bytes(),
        )
        for change in changes
    ]
