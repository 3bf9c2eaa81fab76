"""Decodes the legality review decisions that arrive from the review service as events and hands them
to the use case, which applies them with the consumer's positions in one transaction: a redelivered
or duplicated decision changes nothing; a decision for an older round is ignored."""

from __future__ import annotations

import logging

from normreg_common.eventlog.port import Delivery
from normreg_common.events import CloudEvent
from normreg_common.principal import review_decision_actor

from normreg_registry.application.service import RegistryService, ReviewDecision

log = logging.getLogger(__name__)

GROUP = "registry"
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


class ReviewDecisionHandler:
    def __init__(self, service: RegistryService) -> None:
        self._service = service

    async def __call__(self, batch: list[Delivery]) -> None:
        decisions = []
        for delivery in batch:
            event = CloudEvent.from_bytes(delivery.value)
            if event.type == DECIDED:
                decisions.append(decode(event))
        applied = await self._service.apply_review_decisions(GROUP, batch, decisions)
        if applied < len(decisions):
            log.info("ignored %d stale or duplicate review decision(s)", len(decisions) - applied)
