"""Reads what a recipient jurisdiction's filing service says about our filings (its `normreg.filings`
topic, under its own prefix on the shared cluster) and hands it to the use case, which applies it
with the consumer's positions in one transaction.

A record is believed only when the jurisdiction whose stream it is signed it with a key our profile
lists for it, and only for a recipient body that jurisdiction receives for: anything unsigned,
forged, foreign (another jurisdiction's signature, a recipient it does not speak for) or unreadable
is set aside as a dead letter with the reason and never applied; so is a copy of an event already
applied (REPLAYED) and a report on a filing this registry never sent. Reports on other senders'
filings, which share the topic, are skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence

from google.protobuf.message import Message
from google.type import date_pb2
from normreg.events.v1 import filing_events_pb2 as ev
from normreg_common import event_data
from normreg_common.consuming import Consuming
from normreg_common.dates import in_range
from normreg_common.deadletters import DeadLetters
from normreg_common.eventlog.port import Delivery
from normreg_common.events import FILINGS_TOPIC, REVIEWS_TOPIC, CloudEvent
from normreg_common.federation import Untrusted, verify
from normreg_common.profile import JurisdictionProfile

from normreg_registry.application.service import RecipientEvent, RegistryService, ReviewDecision
from normreg_registry.domain.filing_outcomes import OUTCOMES, RecipientReport, Said
from normreg_registry.entrypoints import review_consumer

log = logging.getLogger(__name__)

TYPE_PREFIX = "normreg.filing.v1."
_VERSION = re.compile(r"^documents/([A-Za-z0-9_-]{1,64})/versions/([1-9][0-9]{0,5})\Z")

# Event type (after the prefix) -> what was said and the message that says it.
_MESSAGES: dict[str, tuple[Said, type[Message]]] = {
    "registered": (Said.REGISTERED, ev.FilingRegistered),
    "materials_requested": (Said.MATERIALS_REQUESTED, ev.FilingMaterialsRequested),
    "materials_completed": (Said.MATERIALS_COMPLETED, ev.FilingMaterialsCompleted),
    "correction_answered": (Said.CORRECTION_ANSWERED, ev.FilingCorrectionAnswered),
    **{outcome.lower(): (Said.DECIDED, ev.FilingDecided) for outcome in OUTCOMES},
}


def topic_of(prefix: str) -> str:
    """The physical topic a recipient jurisdiction publishes its filing events on."""
    return prefix + FILINGS_TOPIC


def _date(value: date_pb2.Date, field: str) -> dt.date | None:
    if value.year == value.month == value.day == 0:
        return None
    try:
        day = dt.date(value.year, value.month, value.day)
    except ValueError:
        raise event_data.UnreadableData(f"{field} is not a calendar date") from None
    if not in_range(day):
        raise event_data.UnreadableData(f"{field} {day} lies outside the dates the registry keeps")
    return day


def _report(said: Said, jurisdiction: str, m: Message, version: int, outcome: str) -> RecipientReport:
    ref = m.filing  # type: ignore[attr-defined]
    base = {"jurisdiction": jurisdiction, "recipient": ref.recipient, "received_filing": ref.received_filing}
    if isinstance(m, ev.FilingRegistered):
        return RecipientReport(
            said,
            **base,
            version=version,
            on=_date(m.registered_date, "registered_date"),
            review_due=_date(m.review_due, "review_due"),
        )
    if isinstance(m, ev.FilingMaterialsRequested):
        if not m.missing:
            raise event_data.UnreadableData("a request for materials names none")
        return RecipientReport(
            said,
            **base,
            version=version,
            missing=tuple(m.missing),
            completion_due=_date(m.completion_due, "completion_due"),
        )
    if isinstance(m, ev.FilingMaterialsCompleted):
        return RecipientReport(said, **base, version=version, review_due=_date(m.review_due, "review_due"))
    if isinstance(m, ev.FilingCorrectionAnswered):
        return RecipientReport(said, **base, version=version, response=m.response)
    if not isinstance(m, ev.FilingDecided) or m.outcome != outcome:
        raise event_data.UnreadableData(f"a {outcome.lower()} event carries another outcome")
    return RecipientReport(
        said,
        **base,
        version=version,
        on=_date(m.decided_date, "decided_date"),
        outcome=m.outcome,
        reasons=m.reasons,
        provisions=tuple(m.provisions),
        correction_due=_date(m.correction_due, "correction_due"),
    )


def decode(raw: bytes, jurisdiction: str, profile: JurisdictionProfile) -> RecipientEvent | None:
    """The report a record of `jurisdiction`'s filings topic carries; None when it is about another
    sender's filing. Raises Untrusted (unsigned, forged, foreign, not the recipient) or UnreadableData."""
    event = CloudEvent.from_bytes(raw)
    verify(event, jurisdiction, profile.keys_of(jurisdiction))
    kind = event.type.removeprefix(TYPE_PREFIX)
    if kind == event.type or kind not in _MESSAGES:
        raise event_data.UnreadableData(f"{event.type} is not an event of a filing review")
    said, message_type = _MESSAGES[kind]
    message = event_data.read(event, message_type)
    ref = message.filing  # type: ignore[attr-defined]
    if ref.sender != profile.name:
        return None
    if ref.recipient not in profile.receives_for(jurisdiction):
        raise Untrusted(
            "NOT_THE_RECIPIENT",
            f"event {event.id}: {jurisdiction} reports on a filing with {ref.recipient!r}, "
            f"a body it does not receive filings for",
        )
    match = _VERSION.match(ref.document)
    if match is None:
        raise event_data.UnreadableData(f"{ref.document!r} is not documents/{{id}}/versions/{{n}}")
    version = int(match[2])
    return RecipientEvent(
        source=f"{jurisdiction}:{event.source}",
        subject=event.subject,
        sequence=event.sequence,
        document_id=match[1],
        report=_report(said, jurisdiction, message, version, kind.upper()),
        at=event.time,
    )


def filing_outcomes_consumer(
    service: RegistryService, dead_letters: DeadLetters, profile: JurisdictionProfile, prefixes: dict[str, str]
) -> Consuming[RecipientEvent | ReviewDecision]:
    """The registry's one handler of inbound events, whichever log they come from: legality review
    decisions (its own `normreg.reviews`) and the filings topics of the recipient jurisdictions in
    `prefixes` (jurisdiction -> its topic prefix). A record of a filings topic is read as that
    topic's jurisdiction's, whatever it claims. One handler, so that the dead letters of both are
    listed and retried in one place (a retried record is decoded by its topic)."""
    by_topic = {topic_of(prefix): jurisdiction for jurisdiction, prefix in prefixes.items()}

    def decode_delivery(delivery: Delivery) -> RecipientEvent | ReviewDecision | None:
        jurisdiction = by_topic.get(delivery.topic)
        if jurisdiction is not None:
            return decode(delivery.value, jurisdiction, profile)
        if delivery.topic == REVIEWS_TOPIC:
            return review_consumer.decode_delivery(delivery)
        return None

    async def apply(deliveries: Sequence[Delivery], items: list[RecipientEvent | ReviewDecision]) -> None:
        reviews = [d for d in deliveries if d.topic not in by_topic]
        decisions = [i for i in items if isinstance(i, ReviewDecision)]
        if reviews or decisions:
            applied = await service.apply_review_decisions(dead_letters.group, reviews, decisions)
            if applied < len(decisions):
                log.info("ignored %d stale or duplicate review decision(s)", len(decisions) - applied)
        filings = [d for d in deliveries if d.topic in by_topic]
        reports = [i for i in items if isinstance(i, RecipientEvent)]
        if filings or reports:
            await service.apply_recipient_events(dead_letters.group, filings, reports)

    return Consuming(decode_delivery, apply, dead_letters, consumer=review_consumer.CONSUMER)
