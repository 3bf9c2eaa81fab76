"""Turns recorded changes into CloudEvents for the documents topic.

Every change event carries a full snapshot of the version it changed, so a consumer can rebuild its view
from the newest event per version alone, whatever came before it. A comment on a version open for
comment is an event of its own stream (normreg.events.v1.CommentReceived), not a change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from normreg.events.v1 import comment_events_pb2 as ev
from normreg_common.event_data import dataschema, to_data
from normreg_common.eventlog.port import Record
from normreg_common.events import DOCUMENTS_TOPIC, REGISTRY_SOURCE, CloudEvent
from normreg_common.tracing import current_traceparent
from pydantic import TypeAdapter

from normreg_registry.domain.model import Change, Document, Version

EVENT_TYPE_PREFIX = "normreg.registry.v1."

_version = TypeAdapter(Version)


def version_snapshot(doc: Document, v: Version) -> dict[str, Any]:
    data: dict[str, Any] = _version.dump_python(v, mode="json")
    data["name"] = doc.version_name(v.number)
    data["articles"] = [{"label": a.label, "text": a.text} for a in v.articles]
    if v.promulgation is not None:
        number = v.promulgation.number
        data["promulgation"]["uniform_number"] = str(number) if number else ""
    return data


def document_snapshot(doc: Document) -> dict[str, Any]:
    return {
        "name": doc.name,
        "kind": doc.kind.value,
        "issuing_body": doc.issuing_body,
        "number_prefix": doc.number_prefix,
        "drafting_org": doc.drafting_org,
        "provisional": doc.provisional,
        "version_count": len(doc.versions),
    }


def to_records(doc: Document, changes: list[Change], checkpoint: str | None = None) -> list[tuple[Change, Record]]:
    """The events of `changes`; the last one carries `checkpoint`, the signed head of the history
    after it (a CloudEvents extension attribute, for the witnesses)."""
    out = []
    head = document_snapshot(doc)
    traceparent = current_traceparent()
    for change in changes:
        event = CloudEvent(
            source=REGISTRY_SOURCE,
            type=EVENT_TYPE_PREFIX + change.action,
            subject=doc.name,
            time=change.at,
            sequence=change.sequence,
            data={
                "action": change.action,
                "version_number": change.version,
                "from_state": change.from_state.value if change.from_state else "",
                "to_state": change.to_state.value if change.to_state else "",
                "actor": change.actor,
                "reason": change.reason,
                "details": change.details,
                "document": head,
                "version": version_snapshot(doc, doc.version(change.version)),
            },
            traceparent=traceparent,
            checkpoint=checkpoint if change is changes[-1] else None,
        )
        out.append((change, Record(DOCUMENTS_TOPIC, doc.name, event.to_bytes())))
    return out


def comment_received(doc: Document, version: int, count: int, at: dt.datetime) -> Record:
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
    return Record(DOCUMENTS_TOPIC, doc.name, event.to_bytes())
