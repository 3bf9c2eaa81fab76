"""Consumes the registry's document events: a review request opens a review task, a withdrawal
cancels the open ones. The events are read with their published messages (normreg.events.v1
DocumentReviewRequested, DocumentWithdrawn; normreg_common.document_events), and translated here, at
the edge, and nowhere else."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from normreg.events.v1 import document_events_pb2 as dev
from normreg_common import document_events
from normreg_common.consuming import Consuming
from normreg_common.deadletters import DeadLetters
from normreg_common.event_data import UnreadableData
from normreg_common.eventlog.port import Delivery, EventLog
from normreg_common.events import DOCUMENTS_TOPIC, CloudEvent, EventHead
from normreg_common.inbox import ConsumerRunner, position_loader
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database
from normreg_common.validation import resource_id

from normreg_review.application.inbound import DocumentWithdrawn, Inbound, ReviewRequested
from normreg_review.application.service import ReviewService

log = logging.getLogger(__name__)

GROUP = "review"
CONSUMER = "review:documents"
REGISTRY_TYPE_PREFIX = document_events.TYPE_PREFIX
REVIEW_REQUESTED = REGISTRY_TYPE_PREFIX + "review_requested"
WITHDRAWN = REGISTRY_TYPE_PREFIX + "withdrawn"


def _message(event: CloudEvent) -> ReviewRequested | DocumentWithdrawn | None:
    if event.type == REVIEW_REQUESTED:
        data = document_events.read(event, dev.DocumentReviewRequested)
        if data.review_round < 1 or data.revision < 1 or data.change.version_number < 1:
            raise UnreadableData(
                f"{event.subject}: review round {data.review_round}, revision {data.revision} "
                f"of version {data.change.version_number}"
            )
        return ReviewRequested(
            document_id=resource_id(data.document.name, "documents", "document.name"),
            version_number=data.change.version_number,
            review_round=data.review_round,
            revision=data.revision,
            title=data.version.title,
            body=data.version.body,
            drafting_org=data.document.drafting_org,
            drafters=tuple(data.drafters),
            requested_by=data.change.actor,
            at=event.time,
        )
    if event.type == WITHDRAWN:
        withdrawn = document_events.read(event, dev.DocumentWithdrawn)
        return DocumentWithdrawn(event.subject, withdrawn.change.actor, withdrawn.change.reason, event.time)
    return None


# The events read here whole; of every other one only its attributes, to move its stream on.
READ_WHOLE = frozenset({REVIEW_REQUESTED, WITHDRAWN})


def translate(delivery: Delivery) -> Inbound:
    """The inbound message a record carries; raises for a record that cannot be read, which the
    consumer sets aside as a dead letter so it cannot stall the stream. Of an event of a type not
    handled here (nearly all of an import's) only the attributes are read, not the data: its data is
    for its own consumers to read, or set aside, and this one records its sequence all the same."""
    head = EventHead.from_bytes(delivery.value)
    if head.type not in READ_WHOLE:
        return Inbound(head.source, head.subject, head.sequence, None)
    event = CloudEvent.from_bytes(delivery.value)
    return Inbound(event.source, event.subject, event.sequence, _message(event))


def document_events_handler(service: ReviewService, db: Database | PostgresDatabase) -> Consuming[Inbound]:
    async def apply(deliveries: Sequence[Delivery], inbound: list[Inbound]) -> None:
        await service.apply_document_events(GROUP, deliveries, inbound)

    return Consuming(translate, apply, DeadLetters(db, GROUP), consumer=CONSUMER)


def document_events_consumer(
    service: ReviewService, db: Database | PostgresDatabase, event_log: EventLog, handler: Consuming[Inbound]
) -> ConsumerRunner:
    consumer = event_log.consumer([DOCUMENTS_TOPIC], GROUP, position_loader(db, GROUP))
    return ConsumerRunner(consumer, handler, CONSUMER)
