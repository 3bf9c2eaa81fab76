"""Consumes the registry's document events: a review request opens a review task, a withdrawal
cancels the open ones. The registry's event data is translated here, at the edge, and nowhere else."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from normreg_common.consuming import Consuming
from normreg_common.deadletters import DeadLetters
from normreg_common.eventlog.port import Delivery, EventLog
from normreg_common.events import DOCUMENTS_TOPIC, CloudEvent
from normreg_common.inbox import ConsumerRunner, position_loader
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database
from normreg_common.validation import resource_id
from pydantic import BaseModel, ConfigDict, Field

from normreg_review.application.inbound import DocumentWithdrawn, Inbound, ReviewRequested
from normreg_review.application.service import ReviewService

log = logging.getLogger(__name__)

GROUP = "review"
CONSUMER = "review:documents"
REGISTRY_TYPE_PREFIX = "normreg.registry.v1."
REVIEW_REQUESTED = REGISTRY_TYPE_PREFIX + "review_requested"
WITHDRAWN = REGISTRY_TYPE_PREFIX + "withdrawn"


class _Snapshot(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _RequestDetails(_Snapshot):
    review_round: int = Field(ge=1)
    revision: int = Field(ge=1)
    drafters: list[str]


class _DocumentHead(_Snapshot):
    name: str
    drafting_org: str


class _VersionSnapshot(_Snapshot):
    title: str
    body: str


class _ReviewRequestedData(_Snapshot):
    version_number: int = Field(ge=1)
    actor: str
    details: _RequestDetails
    document: _DocumentHead
    version: _VersionSnapshot


class _WithdrawnData(_Snapshot):
    actor: str = ""
    reason: str = ""


def _message(event: CloudEvent) -> ReviewRequested | DocumentWithdrawn | None:
    if event.type == REVIEW_REQUESTED:
        data = _ReviewRequestedData.model_validate(event.data)
        return ReviewRequested(
            document_id=resource_id(data.document.name, "documents", "document.name"),
            version_number=data.version_number,
            review_round=data.details.review_round,
            revision=data.details.revision,
            title=data.version.title,
            body=data.version.body,
            drafting_org=data.document.drafting_org,
            drafters=tuple(data.details.drafters),
            requested_by=data.actor,
            at=event.time,
        )
    if event.type == WITHDRAWN:
        withdrawn = _WithdrawnData.model_validate(event.data)
        return DocumentWithdrawn(event.subject, withdrawn.actor, withdrawn.reason, event.time)
    return None


def translate(delivery: Delivery) -> Inbound:
    """The inbound message a record carries; raises for a record that cannot be read, which the
    consumer sets aside as a dead letter so it cannot stall the stream."""
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
