"""Turns recorded review changes into CloudEvents for the reviews topic.

The `decided` event is the registry's input: its data has exactly the keys of DECIDED_KEYS.
"""

from __future__ import annotations

from typing import Any

from normreg_common.eventlog.port import Record
from normreg_common.events import REVIEW_SOURCE, REVIEWS_TOPIC, CloudEvent
from normreg_common.tracing import current_traceparent

from normreg_review.domain.lifecycle import Action
from normreg_review.domain.model import Change, Review

EVENT_TYPE_PREFIX = "normreg.review.v1."

DECIDED_KEYS = frozenset(
    {
        "review",
        "document",
        "version_number",
        "review_round",
        "revision",
        "decision",
        "reviewer",
        "reviewing_office",
        "opinion",
        "problems",
    }
)


def event_data(review: Review, change: Change) -> dict[str, Any]:
    data: dict[str, Any] = {
        "review": review.name,
        "document": review.document,
        "version_number": review.version_number,
        "review_round": review.review_round,
        "revision": review.revision,
        "reviewing_office": review.reviewing_office,
    }
    if change.action == Action.CREATE:
        data |= {
            "title": review.title,
            "drafting_org": review.drafting_org,
            "due_date": review.due_date.isoformat(),
            "requested_by": change.actor,
        }
    elif change.action == Action.CLAIM:
        data["assignee"] = change.actor
    elif change.action == Action.DECIDE:
        data |= {
            "decision": review.decision.value if review.decision else "",
            "reviewer": change.actor,
            "opinion": review.opinion,
            "problems": list(review.problems),
        }
    elif change.action == Action.CANCEL:
        data |= {"cancelled_by": change.actor, "reason": change.reason}
    return data


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
                data=event_data(review, change),
                traceparent=current_traceparent(),
            ).to_bytes(),
        )
        for change in changes
    ]
