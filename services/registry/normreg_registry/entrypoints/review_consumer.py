"""Decodes the legality review decisions that arrive from the review service as events and hands them
to the use case, which applies them with the consumer's positions in one transaction: a redelivered
or duplicated decision changes nothing; a decision for an older round is ignored. A record that
cannot be read or applied becomes a dead letter and the decisions behind it go on (consuming.py)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

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
    data = event.data
    return ReviewDecision(
        source=event.source,
        subject=event.subject,
        sequence=event.sequence,
        document_id=str(data["document"]).removeprefix("documents/"),
        decision=str(data["decision"]),
        version=int(data["version_number"]),
        review_round=int(data["review_round"]),
        reviewer=review_decision_actor(str(data["reviewer"]), str(data.get("reviewing_office", ""))),
        review=str(data["review"]),
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
