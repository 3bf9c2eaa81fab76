"""Decodes the legality review decisions that arrive from the review service as events and hands them
to the use case, which applies them with the consumer's positions in one transaction: a redelivered
or duplicated decision changes nothing; a decision for an older round is ignored. A record that
cannot be read or applied becomes a dead letter and the decisions behind it go on (consuming.py)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from normreg.events.v1.review_events_pb2 import ReviewDecided
from normreg_common import event_data
from normreg_common.consuming import Consuming
from normreg_common.deadletters import DeadLetters
from normreg_common.eventlog.port import Delivery
from normreg_common.events import CloudEvent
from normreg_common.principal import review_decision_actor

from normreg_registry.application.service import RegistryService, ReviewDecision

log = logging.getLogger(__name__)

GROUP = "registry"
CONSUMER = "registry:review-decisions"
DECIDED = "normreg.review.v1.decided"


def decode(event: CloudEvent) -> ReviewDecision:
    """The decision in a `decided` event, read with its published message (ReviewDecided)."""
    data = event_data.read(event, ReviewDecided)
    if not data.document.startswith("documents/") or not data.reviewer:
        raise event_data.UnreadableData(f"{event.subject}: a decision needs a document and a reviewer")
    if data.version_number < 1 or data.review_round < 1:
        raise event_data.UnreadableData(f"{event.subject}: version_number and review_round start at 1")
    return ReviewDecision(
        source=event.source,
        subject=event.subject,
        sequence=event.sequence,
        document_id=data.document.removeprefix("documents/"),
        decision=data.decision,
        version=data.version_number,
        review_round=data.review_round,
        reviewer=review_decision_actor(data.reviewer, data.reviewing_office),
        review=data.review,
        at=event.time,
    )


def decode_delivery(delivery: Delivery) -> ReviewDecision | None:
    """The decision a record carries; None for other review events; raises for a record it cannot read."""
    event = CloudEvent.from_bytes(delivery.value)
    return decode(event) if event.type == DECIDED else None


def review_decision_consumer(service: RegistryService, dead_letters: DeadLetters) -> Consuming[ReviewDecision]:
    async def apply(deliveries: Sequence[Delivery], decisions: list[ReviewDecision]) -> None:
        applied = await service.apply_review_decisions(GROUP, deliveries, decisions)
        if applied < len(decisions):
            log.info("ignored %d stale or duplicate review decision(s)", len(decisions) - applied)

    return Consuming(decode_delivery, apply, dead_letters, consumer=CONSUMER)
