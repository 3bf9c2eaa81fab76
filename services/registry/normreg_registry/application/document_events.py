"""A recorded change as its published message (protos/normreg/events/v1/document_events.proto):
the change, the document head and the snapshot of the version, then what the change recorded.

Only what the message declares leaves the registry; the version's internal records (review rounds
and outcomes, procedures, filing bookkeeping, flags) stay in it. A change whose action has no message
of its own is published as its common part (DocumentEvent) so no write is refused for it; a test
over every action the domain records keeps that from happening.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any

from google.protobuf.message import Message
from google.type import date_pb2
from normreg.events.v1 import document_events_pb2 as dev
from normreg_common import document_events
from normreg_common.event_data import dataschema, to_data
from normreg_common.event_fields import date_of, fill, to_date
from normreg_common.events import CloudEvent
from normreg_common.proto_times import rfc3339

from normreg_registry.domain.model import Change, Document, Version

log = logging.getLogger(__name__)

EVENT_TYPE_PREFIX = document_events.TYPE_PREFIX


def data_of(doc: Document, change: Change) -> tuple[str, dict[str, Any]]:
    """`dataschema` and `data` of the event of `change`: `message_of` in the proto3 JSON mapping
    (.proto field names, every field present), with the common part written straight from the
    domain rather than through the message, which took four fifths of a write's event cost for a
    long text; the action's own fields too, by their descriptors. The contract tests hold the two
    equal for every action."""
    cls = _message_class(change.action)
    v = doc.version(change.version)
    data: dict[str, Any] = {
        "change": {
            "version_number": change.version,
            "from_state": change.from_state.value if change.from_state else "",
            "to_state": change.to_state.value if change.to_state else "",
            "actor": change.actor,
            "reason": change.reason,
        },
        "document": {
            "name": doc.name,
            "kind": doc.kind.value,
            "issuing_body": doc.issuing_body,
            "number_prefix": doc.number_prefix,
            "drafting_org": doc.drafting_org,
            "provisional": doc.provisional,
            "version_count": len(doc.versions),
        },
        "version": _snapshot_data(doc, v),
    }
    details = _details(doc, change)
    for name, kind, default in _specific_fields(change.action):
        value = details.get(name)
        if kind == "date":
            if value:
                data[name] = _json_date(dt.date.fromisoformat(str(value)[:10]))
        elif kind == "list":
            data[name] = [str(x) for x in value or ()]
        elif kind == "map":
            data[name] = {str(k): bool(x) for k, x in dict(value or {}).items()}
        else:
            data[name] = default if value is None else type(default)(value)
    return dataschema(cls), data


@functools.cache
def _specific_fields(action: str) -> tuple[tuple[str, str, Any], ...]:
    """(name, how it is written, its proto3 default) of each field after the common three. The
    messages hold dates, strings, booleans, int32s, lists of strings and maps of string to bool."""
    out = []
    for field in _message_class(action).DESCRIPTOR.fields:
        if field.name in document_events.COMMON_FIELDS:
            continue
        if field.message_type is date_pb2.Date.DESCRIPTOR:
            out.append((field.name, "date", None))
        elif field.message_type is not None and field.message_type.GetOptions().map_entry:
            out.append((field.name, "map", None))
        elif field.is_repeated:
            out.append((field.name, "list", None))
        else:
            out.append((field.name, "scalar", field.default_value))
    return tuple(out)


def _snapshot_data(doc: Document, v: Version) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": doc.version_name(v.number),
        "number": v.number,
        "state": v.state.value,
        "title": v.title,
        "body": v.body,
        "articles": [{"label": a.label, "text": a.text} for a in v.articles],
        "revision": v.revision,
        "timeline": [
            {"date": _json_date(e.date), "event": e.event, "note": e.note, "related": e.related} for e in v.timeline
        ],
        "amends": doc.version_name(v.amends) if v.amends else "",
        "amended_by": doc.version_name(v.amended_by) if v.amended_by else "",
        "repealed_by": v.repealed_by,
        "create_time": _json_time(v.created_at),
        "update_time": _json_time(v.updated_at),
    }
    if v.comment_window is not None:
        out["comment_window"] = {
            "start_date": _json_date(v.comment_window.start),
            "end_date": _json_date(v.comment_window.end),
        }
    p = v.promulgation
    if p is not None:
        out["promulgation"] = {
            "uniform_number": str(p.number) if p.number else "",
            "registration_number": p.registration_number,
            "promulgation_date": _json_date(p.promulgation_date),
            "effective_date": _json_date(p.effective_date),
        }
        if p.validity_end is not None:
            out["promulgation"]["validity_end_date"] = _json_date(p.validity_end)
    return out


def _json_date(day: dt.date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}


def _json_time(at: dt.datetime) -> str:
    return rfc3339(at)


@functools.cache
def _message_class(action: str) -> type[Message]:
    cls = document_events.message_class(EVENT_TYPE_PREFIX + action)
    if cls is None:
        log.error("no published message for the document event %s; publishing its common part", action)
        return dev.DocumentEvent
    return cls


def message_of(doc: Document, change: Change, *, strict: bool = False) -> Message:
    """The published message of `change`. `strict` refuses a detail the message has no field for."""
    cls = _message_class(change.action)
    common = common_part(doc, change)
    # Every document event message starts with DocumentEvent's three fields, numbered alike.
    message = cls.FromString(common.SerializeToString())
    fill(message, _details(doc, change), strict=strict and cls is not dev.DocumentEvent)
    return message


def common_part(doc: Document, change: Change) -> dev.DocumentEvent:
    return dev.DocumentEvent(
        change=dev.DocumentChange(
            version_number=change.version,
            from_state=change.from_state.value if change.from_state else "",
            to_state=change.to_state.value if change.to_state else "",
            actor=change.actor,
            reason=change.reason,
        ),
        document=head(doc),
        version=snapshot(doc, doc.version(change.version)),
    )


def head(doc: Document) -> dev.DocumentHead:
    return dev.DocumentHead(
        name=doc.name,
        kind=doc.kind.value,
        issuing_body=doc.issuing_body,
        number_prefix=doc.number_prefix,
        drafting_org=doc.drafting_org,
        provisional=doc.provisional,
        version_count=len(doc.versions),
    )


def snapshot(doc: Document, v: Version) -> dev.VersionSnapshot:
    out = dev.VersionSnapshot(
        name=doc.version_name(v.number),
        number=v.number,
        state=v.state.value,
        title=v.title,
        body=v.body,
        articles=[dev.DocumentArticle(label=a.label, text=a.text) for a in v.articles],
        revision=v.revision,
        timeline=[
            dev.DocumentTimelineEntry(date=to_date(e.date), event=e.event, note=e.note, related=e.related)
            for e in v.timeline
        ],
        amends=doc.version_name(v.amends) if v.amends else "",
        amended_by=doc.version_name(v.amended_by) if v.amended_by else "",
        repealed_by=v.repealed_by,
    )
    if v.comment_window is not None:
        out.comment_window.CopyFrom(
            dev.DocumentCommentWindow(
                start_date=to_date(v.comment_window.start), end_date=to_date(v.comment_window.end)
            )
        )
    p = v.promulgation
    if p is not None:
        out.promulgation.CopyFrom(
            dev.DocumentPromulgation(
                uniform_number=str(p.number) if p.number else "",
                registration_number=p.registration_number,
                promulgation_date=to_date(p.promulgation_date),
                effective_date=to_date(p.effective_date),
                validity_end_date=to_date(p.validity_end),
            )
        )
    out.create_time.FromDatetime(v.created_at)
    out.update_time.FromDatetime(v.updated_at)
    return out


# Details a change records that its message does not repeat: the head already carries them.
_IN_HEAD = ("kind", "issuing_body")
# Details whose field in the message is named otherwise.
_RENAMED = {"comment_opened": {"start": "start_date", "end": "end_date"}}


def recorded_details(raw: bytes) -> dict[str, Any]:
    """What the change an event of this registry records had in its details, read back from the
    stored event: the message's own fields (dates as YYYY-MM-DD) with the head's kind and issuing
    body, or the details themselves for an event stored before the messages were published (the
    outbox keeps those for good, so the filing report reads both)."""
    event = CloudEvent.from_bytes(raw)
    if event.dataschema is None:
        legacy = event.data.get("details")
        return dict(legacy) if isinstance(legacy, dict) else {}
    cls = document_events.message_class(event.type) or dev.DocumentEvent
    message = document_events.read(event, cls)
    data = to_data(message)
    head = data.get("document", {})
    original = {new: old for old, new in _RENAMED.get(event.type.removeprefix(EVENT_TYPE_PREFIX), {}).items()}
    out: dict[str, Any] = {"kind": head.get("kind", ""), "issuing_body": head.get("issuing_body", "")}
    for field in message.DESCRIPTOR.fields:
        if field.name in document_events.COMMON_FIELDS:
            continue
        value = data.get(field.name)
        if field.message_type is date_pb2.Date.DESCRIPTOR:
            day = date_of(getattr(message, field.name))
            value = day.isoformat() if day else ""
        out[original.get(field.name, field.name)] = value
    return out


def _details(doc: Document, change: Change) -> dict[str, Any]:
    renamed = _RENAMED.get(change.action, {})
    details = {renamed.get(k, k): v for k, v in change.details.items() if k not in _IN_HEAD}
    if change.action == "evaluation_recorded" and isinstance(details.get("evaluation"), int):
        details["evaluation"] = f"{doc.name}/evaluations/{details['evaluation']}"
    return details
