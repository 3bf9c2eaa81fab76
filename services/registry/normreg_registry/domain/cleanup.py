"""Cleanup campaigns (清理): a set of documents in force, an outcome for each, applied together."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from normreg_common.errors import FailedPrecondition, InvalidArgument

OUTCOMES = ("RETAIN", "AMEND", "REPEAL", "DECLARE_INVALID")


@dataclass
class Outcome:
    document: str
    outcome: str
    reason: str
    missing_procedure: str = ""
    remedy: str = ""


@dataclass
class Campaign:
    id: str
    title: str
    documents: list[str]
    created_at: dt.datetime
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    applied: bool = False

    @property
    def name(self) -> str:
        return f"cleanupCampaigns/{self.id}"

    def record(self, outcome: Outcome) -> None:
        if self.applied:
            raise FailedPrecondition("CLEANUP_ALREADY_APPLIED", f"{self.name} was already applied", resource=self.name)
        if outcome.document not in self.documents:
            raise InvalidArgument("outcome.document", f"{outcome.document} is not part of {self.name}")
        if outcome.outcome not in OUTCOMES:
            raise InvalidArgument("outcome.outcome", f"one of {', '.join(OUTCOMES)}")
        if outcome.outcome != "RETAIN" and not outcome.reason.strip():
            raise InvalidArgument("outcome.reason", "amending, repealing or invalidating needs a reason")
        self.outcomes[outcome.document] = outcome

    def check_ready(self) -> None:
        if self.applied:
            raise FailedPrecondition("CLEANUP_ALREADY_APPLIED", f"{self.name} was already applied", resource=self.name)
        missing = [d for d in self.documents if d not in self.outcomes]
        if missing:
            raise FailedPrecondition(
                "CLEANUP_OUTCOMES_INCOMPLETE",
                f"{len(missing)} document(s) have no outcome yet, e.g. {missing[0]}",
                resource=self.name,
            )
        unremedied = [o.document for o in self.outcomes.values() if o.missing_procedure and not o.remedy.strip()]
        if unremedied:
            raise FailedPrecondition(
                "CLEANUP_REMEDY_MISSING",
                f"{unremedied[0]} was flagged for a missing procedure and has no recorded remedy (补正)",
                resource=self.name,
            )
