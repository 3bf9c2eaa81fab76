"""Consumes this deployment's own registry stream for one fact: the state each version of its
documents is in, so that a review suggestion names a text promulgated and not yet out of force, not a
draft or an invented name. Only the events that move a version into or out of those states are read,
and of them only the change (version and state it went to); every other event is passed by its type.
A record that cannot be read is set aside as a dead letter, never applied."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from normreg_common import document_events
from normreg_common.consuming import Consuming
from normreg_common.deadletters import DeadLetters
from normreg_common.event_data import UnreadableData
from normreg_common.eventlog.port import Delivery, EventLog
from normreg_common.events import DOCUMENTS_TOPIC, CloudEvent
from normreg_common.inbox import ConsumerRunner, position_loader
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.sqlite import Database
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from normreg_filing.application.inbound import VERSION_STATE_EVENTS, VersionState, document_subject, version_state
from normreg_filing.application.service import FilingReviewService

GROUP = "filing:own"
CONSUMER = "filing:own:documents"
# The actions that take a version into PROMULGATED or IN_FORCE, or out of them; and an import, which
# registers a version in the state it is in.
STATE_EVENTS = VERSION_STATE_EVENTS | {document_events.TYPE_PREFIX + "imported"}


class _Change(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    version_number: int = Field(ge=1)
    to_state: str = Field(min_length=1, max_length=40)


class _Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    kind: str = Field(default="", max_length=40)


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    change: _Change
    document: _Document = _Document()


class _Head(BaseModel):
    """An event's attributes, read from the JSON without building its data (an import's event holds
    the whole law)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    source: str
    type: str
    subject: str
    time: dt.datetime
    sequence: int = Field(ge=1)
    dataschema: str | None = None


class _Event(_Head):
    data: _Data


def translate(raw: bytes) -> VersionState | None:
    """The version state an event leaves, or None for an event that moves none; raises for a record
    that cannot be read (a dead letter)."""
    head = _Head.model_validate_json(raw)
    if head.type not in STATE_EVENTS:
        return None
    if head.dataschema is None:
        # Written before the messages were published: read whole, by the reader that upcasts them.
        return version_state(CloudEvent.from_bytes(raw))
    try:
        data = _Event.model_validate_json(raw).data
    except ValidationError as exc:
        raise UnreadableData(f"{head.type} of {head.subject}: {exc.errors()[0]['msg']}") from None
    subject = document_subject(head.type, head.subject)
    return VersionState(
        head.source, subject, head.sequence, data.change.version_number, data.change.to_state, data.document.kind
    )


def own_events_handler(service: FilingReviewService, db: Database | PostgresDatabase) -> Consuming[VersionState]:
    def decode(delivery: Delivery) -> VersionState | None:
        return translate(delivery.value)

    async def apply(deliveries: Sequence[Delivery], states: list[VersionState]) -> None:
        await service.apply_own(states, GROUP, deliveries)

    return Consuming(decode, apply, DeadLetters(db, GROUP), consumer=CONSUMER)


def own_events_consumer(
    db: Database | PostgresDatabase, event_log: EventLog, handler: Consuming[VersionState]
) -> ConsumerRunner:
    consumer = event_log.consumer([DOCUMENTS_TOPIC], GROUP, position_loader(db, GROUP))
    return ConsumerRunner(consumer, handler, CONSUMER)
