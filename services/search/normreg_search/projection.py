"""From a registry event to the public view of the version it changed. Pure: no I/O, no clock.

Each registry event carries the full snapshot of the one version it changed (`data.version`) and the
document head (`data.document`). The public view is copied from them by allow-list; internal fields
(drafting organisation, drafters, actors, reasons of internal steps, procedures, reviews, filing)
are never read. The index keeps, per version, the highest `sequence` applied and ignores any event
at or below it, so duplicates and out-of-order copies change nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from normreg.events.v1.comment_events_pb2 import CommentReceived
from normreg_common import event_data
from normreg_common.dates import DATE_MAX
from normreg_common.events import CloudEvent

from normreg_search.model import (
    ENDING_EVENTS,
    KINDS,
    PUBLIC_TIMELINE_EVENTS,
    SEARCHABLE_STATES,
    Article,
    CommentCount,
    PublicVersion,
    TimelineEvent,
    VersionChange,
    Visibility,
)

EVENT_TYPE_PREFIX = "normreg.registry.v1."
COMMENT_RECEIVED = EVENT_TYPE_PREFIX + "comment_received"
ENDED_STATES = frozenset({"AMENDED", "REPEALED", "DECLARED_INVALID", "EXPIRED"})


def project(event: CloudEvent, tz: dt.tzinfo) -> VersionChange | None:
    """The change to apply for `event`, or None when the event is not about a document version.

    `tz` is the jurisdiction's time zone, used only to date an ending the registry recorded
    without a date.
    """
    if not event.type.startswith(EVENT_TYPE_PREFIX):
        return None
    head = event.data.get("document")
    version = event.data.get("version")
    if not isinstance(head, Mapping) or not isinstance(version, Mapping):
        return None
    document = _text(head.get("name")) or event.subject
    name = _text(version.get("name"))
    if not document.startswith("documents/") or not name.startswith(f"{document}/versions/"):
        return None
    view = public_view(head, version, tz)
    return VersionChange(name=name, document=document, sequence=event.sequence, version=view)


def project_comment(event: CloudEvent) -> CommentCount | None:
    """The comment count a comment_received event gives its version, or None for any other event.
    Read with the published message (normreg.events.v1.CommentReceived); an event that is not one
    raises event_data.UnreadableData, and the consumer sets it aside."""
    if event.type != COMMENT_RECEIVED:
        return None
    data = event_data.read(event, CommentReceived)
    document = data.document
    if not document.startswith("documents/") or not data.version.startswith(f"{document}/versions/"):
        raise event_data.UnreadableData(f"{event.subject}: {data.version!r} is not a version of {document!r}")
    if data.comment_count < 1:
        raise event_data.UnreadableData(f"{event.subject}: comment_count {data.comment_count}")
    return CommentCount(name=data.version, count=data.comment_count)


def public_view(head: Mapping[str, Any], version: Mapping[str, Any], tz: dt.tzinfo) -> PublicVersion | None:
    document = _text(head.get("name"))
    state = _text(version.get("state"))
    kind = _text(head.get("kind"))
    promulgation = version.get("promulgation")
    promulgation = promulgation if isinstance(promulgation, Mapping) else {}
    window = version.get("comment_window")
    window = window if isinstance(window, Mapping) else {}
    promulgated = _date(promulgation.get("promulgation_date"))
    effective = _date(promulgation.get("effective_date"))
    validity_end = _date(promulgation.get("validity_end"))
    timeline = tuple(
        TimelineEvent(_text(e.get("date")), _text(e.get("event")), _text(e.get("note")), _text(e.get("related")))
        for e in _list(version.get("timeline"))
        if isinstance(e, Mapping) and e.get("event") in PUBLIC_TIMELINE_EVENTS
    )
    view = PublicVersion(
        name=_text(version.get("name")),
        document=document,
        version_number=int(version.get("number") or 0),
        title=_text(version.get("title")),
        kind=kind if kind in KINDS else "",
        state=state,
        issuing_body=_text(head.get("issuing_body")),
        uniform_number=_text(promulgation.get("uniform_number")) if state in SEARCHABLE_STATES else "",
        promulgation_date=promulgated if state in SEARCHABLE_STATES else None,
        effective_date=effective if state in SEARCHABLE_STATES else None,
        validity_end_date=validity_end if state in SEARCHABLE_STATES else None,
        body=_text(version.get("body")),
        articles=tuple(
            Article(_text(a.get("label")), _text(a.get("text")))
            for a in _list(version.get("articles"))
            if isinstance(a, Mapping)
        ),
        timeline=timeline,
        amends=_version_ref(document, version.get("amends")),
        amended_by=_version_ref(document, version.get("amended_by")),
        repealed_by=_text(version.get("repealed_by")),
        comment_start=_date(window.get("start")) if state == "PUBLIC_COMMENT" else None,
        comment_end=_date(window.get("end")) if state == "PUBLIC_COMMENT" else None,
    )
    if view.visibility is Visibility.HIDDEN:
        return None
    if view.visibility is Visibility.SEARCHABLE:
        valid_from, valid_to = validity_interval(view, _datetime(version.get("updated_at")), tz)
        view = replace(view, valid_from=valid_from, valid_to=valid_to)
    return view


def validity_interval(
    view: PublicVersion, state_changed_at: dt.datetime | None, tz: dt.tzinfo
) -> tuple[dt.date | None, dt.date | None]:
    """[valid_from, valid_to) of a promulgated version.

    - From its effective date, but never before its promulgation (a source that gives an amended
      edition the first edition's effective date must not make the edition valid before it existed).
    - To the first ending in its timeline: the effective date of the version that amended it, or the
      date of repeal, invalidation or expiry. An ended version without a dated ending (e.g. one
      imported already repealed) ends at the date its state last changed, the latest date it is
      known to have ended by. A version with a validity period ends after its last valid day.
    """
    if view.effective_date is None and view.promulgation_date is None:
        return None, None
    starts = [d for d in (view.effective_date, view.promulgation_date) if d is not None]
    valid_from = max(starts)
    endings = sorted(d for e in view.timeline if e.event in ENDING_EVENTS and (d := _date(e.date)) is not None)
    valid_to: dt.date | None = endings[0] if endings else None
    if valid_to is None and view.validity_end_date is not None and view.validity_end_date < DATE_MAX:
        # A validity end at or past the last date the registry accepts is no end at all.
        valid_to = view.validity_end_date + dt.timedelta(days=1)
    if valid_to is None and view.state in ENDED_STATES and state_changed_at is not None:
        valid_to = state_changed_at.astimezone(tz).date()
    if valid_to is not None and valid_to < valid_from:
        valid_to = valid_from  # an empty interval: it was never valid on any day we can vouch for
    return valid_from, valid_to


def _version_ref(document: str, number: Any) -> str:
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        return f"{document}/versions/{number}"
    return ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
