"""Consumes a subordinate jurisdiction's document events (its registry's topic under its own prefix
on the shared cluster): each record is believed only when that jurisdiction signed it, translated at
the edge, and applied once; anything unsigned, forged, foreign or unreadable is set aside as a dead
letter with its reason (normreg dead-letters list shows it) and never applied."""

from __future__ import annotations

from collections.abc import Sequence

from normreg_common.consuming import Consuming
from normreg_common.deadletters import DeadLetters
from normreg_common.eventlog.factory import event_log_from_settings
from normreg_common.eventlog.port import Delivery
from normreg_common.eventlog.qualified import qualified_consumer
from normreg_common.events import DOCUMENTS_TOPIC
from normreg_common.inbox import ConsumerRunner, position_loader
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.profile import JurisdictionProfile
from normreg_common.settings import Settings
from normreg_common.sqlite import Database

from normreg_filing.application.inbound import Inbound, read_trusted
from normreg_filing.application.service import FilingReviewService


def group_of(sender: str) -> str:
    return f"filing:{sender}"


def subordinate_events_handler(
    service: FilingReviewService, db: Database | PostgresDatabase, sender: str, profile: JurisdictionProfile
) -> Consuming[Inbound]:
    group = group_of(sender)

    def decode(delivery: Delivery) -> Inbound | None:
        return read_trusted(delivery.value, sender, profile, service.bodies)

    async def apply(deliveries: Sequence[Delivery], inbound: list[Inbound]) -> None:
        await service.apply(sender, inbound, group, deliveries)

    return Consuming(decode, apply, DeadLetters(db, group), consumer=f"filing:{sender}:documents")


def subordinate_consumers(
    settings: Settings, service: FilingReviewService, db: Database | PostgresDatabase, profile: JurisdictionProfile
) -> list[tuple[Consuming[Inbound], ConsumerRunner]]:
    """One consumer per other deployment on the shared log (`settings.peers()`), reading its
    registry's stream under its prefix. Only events naming this jurisdiction's bodies change anything,
    so a peer that files nothing here costs a read and no more. A peer whose key the profile does not
    list is refused at start: every one of its events would be set aside."""
    out: list[tuple[Consuming[Inbound], ConsumerRunner]] = []
    for sender, prefix in settings.peers():
        if sender == profile.name:
            continue
        if not profile.keys_of(sender):
            raise ValueError(
                f"NORMREG_FEDERATION_PEERS names {sender}, but no key of {sender} is known: "
                f"add it to NORMREG_FEDERATION_KEYS ({sender}=KEY)"
            )
        group = group_of(sender)
        log = event_log_from_settings(settings, f"filing-{sender}", topic_prefix=prefix)
        handler = subordinate_events_handler(service, db, sender, profile)
        # Its records named by their full topic (chifeng.normreg.documents): the dead letters of every
        # subordinate's stream are told apart, and listed and retried through one API.
        consumer = qualified_consumer(log, prefix, [DOCUMENTS_TOPIC], group, position_loader(db, group))
        out.append((handler, ConsumerRunner(consumer, handler, group)))
    return out
