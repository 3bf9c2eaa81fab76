"""Document events written before their messages were published, read as those messages.

Until then the registry wrote `data` as a JSON snapshot of its own records (keys action,
version_number, from_state, to_state, actor, reason, details, document, version) with no
`dataschema`. Event logs and topics written then still hold such events, and a consumer that
rebuilds its view replays them; this module turns one into the published message it would be
today, so consumers have one reading. Kept for one release after the messages were published;
remove it (and the branch that calls it) once every log has been written anew or compacted past it.

Lenient where the old readers were lenient (a missing field is empty); a date that is no date, or a
snapshot that is not an object, raises UnreadableData and the consumer sets the record aside.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from google.protobuf.message import Message
from normreg.events.v1 import document_events_pb2 as dev

from normreg_common.event_data import UnreadableData
from normreg_common.event_fields import fill, parse_date, to_date
from normreg_common.events import CloudEvent

M = TypeVar("M", bound=Message)

# Details the snapshots named otherwise than the messages' fields.
_RENAMED = {"comment_opened": {"start": "start_date", "end": "end_date"}}


def upcast(event: CloudEvent, message: type[M]) -> M:
    data = event.data
    head = data.get("document")
    version = data.get("version")
    if not isinstance(head, Mapping) or not isinstance(version, Mapping):
        raise UnreadableData(f"{event.type} of {event.subject}: neither a published message nor a snapshot")
    document_name = _text(head.get("name")) or event.subject
    common = dev.DocumentEvent(
        change=dev.DocumentChange(
            version_number=_int(data.get("version_number")),
            from_state=_text(data.get("from_state")),
            to_state=_text(data.get("to_state")),
            actor=_text(data.get("actor")),
            reason=_text(data.get("reason")),
        ),
        document=dev.DocumentHead(
            name=document_name,
            kind=_text(head.get("kind")),
            issuing_body=_text(head.get("issuing_body")),
            number_prefix=_text(head.get("number_prefix")),
            drafting_org=_text(head.get("drafting_org")),
            provisional=bool(head.get("provisional")),
            version_count=_int(head.get("version_count")),
        ),
        version=_snapshot(document_name, version),
    )
    # Every document event message starts with DocumentEvent's three fields, numbered alike.
    out = message.FromString(common.SerializeToString())
    details = data.get("details")
    if isinstance(details, Mapping):
        renamed = _RENAMED.get(event.type.removeprefix("normreg.registry.v1."), {})
        details = {renamed.get(k, k): v for k, v in details.items()}
        if event.type.endswith(".evaluation_recorded") and isinstance(details.get("evaluation"), int):
            details["evaluation"] = f"{document_name}/evaluations/{details['evaluation']}"
        fill(out, {k: v for k, v in details.items() if k not in ("change", "document", "version")})
    return out


def _snapshot(document: str, v: Mapping[str, Any]) -> dev.VersionSnapshot:
    snapshot = dev.VersionSnapshot(
        name=_text(v.get("name")),
        number=_int(v.get("number")),
        state=_text(v.get("state")),
        title=_text(v.get("title")),
        body=_text(v.get("body")),
        articles=[
            dev.DocumentArticle(label=_text(a.get("label")), text=_text(a.get("text")))
            for a in _list(v.get("articles"))
            if isinstance(a, Mapping)
        ],
        revision=_int(v.get("revision")),
        timeline=[
            dev.DocumentTimelineEntry(
                date=to_date(parse_date(e.get("date"))),
                event=_text(e.get("event")),
                note=_text(e.get("note")),
                related=_text(e.get("related")),
            )
            for e in _list(v.get("timeline"))
            if isinstance(e, Mapping)
        ],
        amends=_version_ref(document, v.get("amends")),
        amended_by=_version_ref(document, v.get("amended_by")),
        repealed_by=_text(v.get("repealed_by")),
    )
    window = v.get("comment_window")
    if isinstance(window, Mapping):
        snapshot.comment_window.CopyFrom(
            dev.DocumentCommentWindow(
                start_date=to_date(parse_date(window.get("start"))), end_date=to_date(parse_date(window.get("end")))
            )
        )
    p = v.get("promulgation")
    if isinstance(p, Mapping):
        snapshot.promulgation.CopyFrom(
            dev.DocumentPromulgation(
                uniform_number=_text(p.get("uniform_number")),
                registration_number=_text(p.get("registration_number")),
                promulgation_date=to_date(parse_date(p.get("promulgation_date"))),
                effective_date=to_date(parse_date(p.get("effective_date"))),
                validity_end_date=to_date(parse_date(p.get("validity_end"))),
            )
        )
    for field, key in (("create_time", "created_at"), ("update_time", "updated_at")):
        at = _datetime(v.get(key))
        if at is not None:
            getattr(snapshot, field).FromDatetime(at)
    return snapshot


def _version_ref(document: str, number: Any) -> str:
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        return f"{document}/versions/{number}"
    return ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        return 0
    if not -(2**31) <= value < 2**31:
        raise UnreadableData(f"{value} is out of range")
    return value


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
