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

# Internal actors: transitions driven by time or by another service's events.
SCHEDULER = Principal(subject="system:scheduler", roles=frozenset(), org="")
REVIEW_SERVICE = Principal(subject="system:review", roles=frozenset(), org="")
