"""Consumes a subordinate jurisdiction's document events (its registry's topic under its own prefix
on the shared cluster): each record is believed only when that jurisdiction signed it, translated at
the edge, and applied once; anything unsigned, forged, foreign or unreadable is set aside as a dead
letter with its reason (normreg dead-letters list shows it) and never applied."""

from __future__ import annotations

from collections.abc import Sequence

from normreg_common.consuming import Consuming
from normreg_common.deadletters import DeadLetters
from normreg_common.eventlog.port import Delivery
from normreg_common.profile import JurisdictionProfile
from normreg_common.sqlite import Database

from normreg_filing.application.inbound import Inbound, read_trusted
from normreg_filing.application.service import FilingReviewService


def group_of(sender: str) -> str:
    return f"filing:{sender}"


def subordinate_events_handler(
    service: FilingReviewService, db: Database, sender: str, profile: JurisdictionProfile
) -> Consuming[Inbound]:
    group = group_of(sender)

    def decode(delivery: Delivery) -> Inbound:
        return read_trusted(delivery.value, sender, profile, service.bodies)

    async def apply(deliveries: Sequence[Delivery], inbound: list[Inbound]) -> None:
        await service.apply(sender, inbound, group, deliveries)

    return Consuming(decode, apply, DeadLetters(db, group), consumer=f"filing:{sender}:documents")
