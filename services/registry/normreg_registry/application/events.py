"""Turns recorded changes into CloudEvents for the documents topic.

Each change is published as its message of normreg.events.v1 (document_events.proto, written by
`document_events.data_of`), named in `dataschema`; every one carries the snapshot of the version
it changed, so a consumer can rebuild its view from the newest event per version alone, whatever came
before it. A comment on a version open for comment is an event of its own stream
(normreg.events.v1.CommentReceived), not a change.

The events that cross to another jurisdiction (a promulgation, a filing sent with its materials:
`federation.CROSSING_REGISTRY_EVENTS`) leave signed by the deployment's jurisdiction when the service
has a signer: the superior's filing service reads them from this topic and believes them only so.
The others stay unsigned: a signature costs about as much as building the event, and no other
jurisdiction reads them.
"""

from __future__ import annotations

import datetime as dt

from normreg.events.v1 import comment_events_pb2 as ev
from normreg_common.event_data import dataschema, to_data
from normreg_common.eventlog.port import Record, within_record_limit
from normreg_common.events import DOCUMENTS_TOPIC, REGISTRY_SOURCE, CloudEvent
from normreg_common.federation import CROSSING_REGISTRY_EVENTS, Signer
from normreg_common.tracing import current_traceparent

from normreg_registry.application.document_events import EVENT_TYPE_PREFIX, data_of
from normreg_registry.domain.model import Change, Document

# The changes that set a version's text. Every later event of the version carries the same text and
# more beside it (dates, a filing, a timeline), so these leave room for it: the later ones, which may
# be a scheduler's or a reviewer's, must never be the events too large to publish.
SETS_TEXT = frozenset(("created", "draft_updated", "amendment_started", "imported"))
TEXT_HEADROOM = 1024 * 1024


def _signed(event: CloudEvent, signer: Signer | None) -> bytes:
    crossing = signer is not None and event.type in CROSSING_REGISTRY_EVENTS
    return (signer.sign(event) if signer is not None and crossing else event).to_bytes()


def to_records(
    doc: Document, changes: list[Change], checkpoint: str | None = None, signer: Signer | None = None
) -> list[tuple[Change, Record]]:
    """The events of `changes`; the last one carries `checkpoint`, the signed head of the history
    after it (a CloudEvents extension attribute, for the witnesses)."""
    out = []
    traceparent = current_traceparent()
    for change in changes:
        schema, data = data_of(doc, change)
        event = CloudEvent(
            source=REGISTRY_SOURCE,
            type=EVENT_TYPE_PREFIX + change.action,
            subject=doc.name,
            time=change.at,
            sequence=change.sequence,
            dataschema=schema,
            data=data,
            traceparent=traceparent,
            checkpoint=checkpoint if change is changes[-1] else None,
        )
        record = Record(DOCUMENTS_TOPIC, doc.name, _signed(event, signer))
        # An import's event holds the version as sent (its body and its articles); any other the body.
        field = "versions" if change.action == "imported" else "body"
        headroom = TEXT_HEADROOM if change.action in SETS_TEXT else 0
        out.append((change, within_record_limit(record, field, headroom=headroom)))
    return out


def comment_received(doc: Document, version: int, count: int, at: dt.datetime, signer: Signer | None = None) -> Record:
    """The event of the `count`-th comment on a version open for comment. Its stream is the
    version's comments, not the document's: a comment changes neither the document nor its etag."""
    message = ev.CommentReceived(
        document=doc.name, version=doc.version_name(version), version_number=version, comment_count=count
    )
    event = CloudEvent(
        source=REGISTRY_SOURCE,
        type=EVENT_TYPE_PREFIX + "comment_received",
        subject=f"{doc.version_name(version)}/comments",
        time=at,
        sequence=count,
        dataschema=dataschema(message),
        data=to_data(message),
        traceparent=current_traceparent(),
    )
    return Record(DOCUMENTS_TOPIC, doc.name, _signed(event, signer))
