"""Turns a received filing's recorded changes into the signed events the sender reads back
(protos/normreg/events/v1/filing_events.proto). Built from the fields the messages name, so what the
recipient's reviewers note for themselves cannot reach the sender."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.message import Message
from google.type import date_pb2
from normreg.events.v1 import filing_events_pb2 as ev
from normreg_common.event_data import dataschema, to_data
from normreg_common.eventlog.port import Record
from normreg_common.events import FILING_SOURCE, FILINGS_TOPIC, CloudEvent
from normreg_common.federation import sign

from normreg_filing.domain.lifecycle import Action
from normreg_filing.domain.received import PARTLY_COMPLETED, Change, ReceivedFiling

EVENT_TYPE_PREFIX = "normreg.filing.v1."
DECIDED = {Action.ACCEPT.value, Action.REQUIRE_CORRECTION.value, Action.REVOKE.value}
# A change told as another step: the request a partial completion leaves is a request for materials.
TOLD_AS = {PARTLY_COMPLETED: Action.REQUEST_MATERIALS.value}


def _date(day: dt.date | None) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day) if day else date_pb2.Date()


def _text_date(text: object) -> dt.date | None:
    return dt.date.fromisoformat(str(text)) if text else None


def event_data(f: ReceivedFiling, change: Change) -> Message | None:
    """The published message of `change`, or None for a change the sender is not told of (the
    filing's own arrival). A partial completion is told as the request it leaves: what is still
    missing, by the same date, so the sender knows what to send."""
    ref = ev.FilingRef(received_filing=f.name, recipient=f.recipient, sender=f.sender, document=f.document)
    d = change.details
    if change.action == Action.REGISTER.value:
        return ev.FilingRegistered(
            # The day on the recipient's calendar, as it counts the review period from it (the
            # instant's UTC date is the day before for a registration after 16:00 UTC).
            filing=ref,
            registered_date=_date(_text_date(d["registered_on"])),
            review_due=_date(_text_date(d.get("review_due"))),
        )
    if change.action in (Action.REQUEST_MATERIALS.value, PARTLY_COMPLETED):
        return ev.FilingMaterialsRequested(
            filing=ref, missing=list(d["missing"]), completion_due=_date(_text_date(d.get("completion_due")))
        )
    if change.action == Action.COMPLETE_MATERIALS.value:
        return ev.FilingMaterialsCompleted(filing=ref, review_due=_date(_text_date(d.get("review_due"))))
    if change.action in DECIDED:
        return ev.FilingDecided(
            filing=ref,
            outcome=str(d["outcome"]),
            decided_date=_date(_text_date(d["decided_on"])),
            reasons=str(d.get("reasons", "")),
            provisions=list(d.get("provisions", [])),
            correction_due=_date(_text_date(d.get("correction_due"))),
        )
    if change.action == Action.ANSWER_CORRECTION.value:
        return ev.FilingCorrectionAnswered(filing=ref, response=str(d.get("response", "")))
    return None


def to_records(
    f: ReceivedFiling, changes: list[Change], first_sequence: int, jurisdiction: str, key: Ed25519PrivateKey
) -> list[Record]:
    """Signed records of `changes`, numbered from `first_sequence` (the next number of the filing's
    published stream: changes the sender is not told of take none, so the stream has no gaps);
    keyed by the sender's document so its outcomes stay in order."""
    out: list[Record] = []
    for change in changes:
        message = event_data(f, change)
        if message is None:
            continue
        event = CloudEvent(
            source=FILING_SOURCE,
            type=EVENT_TYPE_PREFIX + TOLD_AS.get(change.action, change.action),
            subject=f.name,
            time=change.at,
            sequence=first_sequence + len(out),
            data=to_data(message),
            dataschema=dataschema(message),
        )
        out.append(Record(FILINGS_TOPIC, f.document, sign(event, jurisdiction, key).to_bytes()))
    return out
