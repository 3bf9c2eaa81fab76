"""Who is calling. Standard library only: the domains decide with it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    DRAFTER = "drafter"
    REVIEWER = "reviewer"
    SECRETARY = "secretary"
    REGISTRAR = "registrar"
    EVALUATOR = "evaluator"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    org: str

    @property
    def is_public(self) -> bool:
        return not self.subject

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles)) or Role.ADMIN in self.roles

    def __str__(self) -> str:
        return self.subject or "public"


PUBLIC = Principal(subject="", roles=frozenset(), org="")


class Channel(enum.Enum):
    """How a step that no person asked for reaches a service."""

    CLOCK = "clock"
    REVIEW = "review"
    # A recipient of a filing, in another jurisdiction, through its signed events.
    FILING_RECIPIENT = "filing_recipient"


@dataclass(frozen=True)
class SystemActor(Principal):
    """A service acting by itself: the clock, or another service whose event carries a decision.

    Only code builds these; a token always becomes a plain Principal, whatever its subject says, so
    no signed token can pass for the scheduler (a subject such as "system:scheduler" is just a name).
    """

    channel: Channel = Channel.CLOCK


def is_system(principal: Principal, channel: Channel) -> bool:
    return isinstance(principal, SystemActor) and principal.channel is channel


# Internal actors: transitions driven by time or by another service's events.
SCHEDULER = SystemActor(subject="system:scheduler", roles=frozenset(), org="", channel=Channel.CLOCK)
REVIEW_SERVICE = SystemActor(subject="system:review", roles=frozenset(), org="", channel=Channel.REVIEW)


def review_decision_actor(reviewer: str, office: str) -> SystemActor:
    """The reviewer whose decision the review service reports: recorded by name, acting through the channel."""
    return SystemActor(subject=reviewer, roles=frozenset({Role.REVIEWER}), org=office, channel=Channel.REVIEW)


def filing_recipient_actor(jurisdiction: str, recipient: str) -> SystemActor:
    """A recipient body whose outcome its jurisdiction's deployment reported by signed event."""
    return SystemActor(
        subject=f"{jurisdiction}:{recipient}", roles=frozenset(), org=recipient, channel=Channel.FILING_RECIPIENT
    )
