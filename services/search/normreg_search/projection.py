"""From a registry event to the public view of the version it changed. Pure: no I/O, no clock.

Every registry document event carries the published message (normreg.events.v1, see
normreg_common.document_events) that starts with the document head and the full snapshot of the one
version it changed; it is read as DocumentEvent, so a type added later still updates the view. The
public view is copied from it by allow-list; internal fields (drafting organisation, actors, reasons
of internal steps, registration numbers) are never read. The index keeps, per version, the highest
`sequence` applied and ignores any event at or below it, so duplicates and out-of-order copies
change nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from normreg.events.v1.comment_events_pb2 import CommentReceived
from normreg.events.v1.document_events_pb2 import DocumentHead, VersionSnapshot
from normreg_common import document_events, event_data
from normreg_common.dates import DATE_MAX
from normreg_common.event_fields import date_of
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

EVENT_TYPE_PREFIX = document_events.TYPE_PREFIX
COMMENT_RECEIVED = EVENT_TYPE_PREFIX + "comment_received"
ENDED_STATES = frozenset({"AMENDED", "REPEALED", "DECLARED_INVALID", "EXPIRED"})


def project(event: CloudEvent, tz: dt.tzinfo) -> VersionChange | None:
    """The change to apply for `event`, or None when the event is not about a document version.
    Data that is not a document event raises event_data.UnreadableData (the consumer sets it aside).

    `tz` is the jurisdiction's time zone, used only to date an ending the registry recorded
    without a date.
    """
    data = document_events.read_common(event)
    if data is None:
        return None
    document = data.document.name or event.subject
    name = data.version.name
    if not document.startswith("documents/") or not name.startswith(f"{document}/versions/"):
        raise event_data.UnreadableData(f"{event.type} of {event.subject}: {name!r} is not a version of {document!r}")
    view = public_view(data.document, data.version, tz)
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


def public_view(head: DocumentHead, version: VersionSnapshot, tz: dt.tzinfo) -> PublicVersion | None:
    document = head.name
    state = version.state
    kind = head.kind
    promulgation = version.promulgation
    window = version.comment_window
    promulgated = date_of(promulgation.promulgation_date)
    effective = date_of(promulgation.effective_date)
    validity_end = date_of(promulgation.validity_end_date)
    timeline = tuple(
        TimelineEvent(_iso(date_of(e.date)), e.event, e.note, e.related)
        for e in version.timeline
        if e.event in PUBLIC_TIMELINE_EVENTS
    )
    view = PublicVersion(
        name=version.name,
        document=document,
        version_number=version.number,
        title=version.title,
        kind=kind if kind in KINDS else "",
        state=state,
        issuing_body=head.issuing_body,
        uniform_number=promulgation.uniform_number if state in SEARCHABLE_STATES else "",
        promulgation_date=promulgated if state in SEARCHABLE_STATES else None,
        effective_date=effective if state in SEARCHABLE_STATES else None,
        validity_end_date=validity_end if state in SEARCHABLE_STATES else None,
        body=version.body,
        articles=tuple(Article(a.label, a.text) for a in version.articles),
        timeline=timeline,
        amends=_version_ref(document, version.amends),
        amended_by=_version_ref(document, version.amended_by),
        repealed_by=version.repealed_by,
        comment_start=date_of(window.start_date) if state == "PUBLIC_COMMENT" else None,
        comment_end=date_of(window.end_date) if state == "PUBLIC_COMMENT" else None,
    )
    if view.visibility is Visibility.HIDDEN:
        return None
    if view.visibility is Visibility.SEARCHABLE:
        changed = version.update_time.ToDatetime(dt.UTC) if version.HasField("update_time") else None
        valid_from, valid_to = validity_interval(view, changed, tz)
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


def _version_ref(document: str, name: str) -> str:
    """A version of the same document, or nothing: a link elsewhere is not this document's to show."""
    return name if name.startswith(f"{document}/versions/") else ""


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day is not None else ""


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None
