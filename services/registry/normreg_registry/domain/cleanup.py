"""Cleanup campaigns (清理): a set of documents in force, an outcome for each, applied together."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from normreg_common.errors import InvalidArgument
from normreg_common.text import blank

from normreg_registry.domain import gates

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
        gates.CAMPAIGN_OPEN.check(self.name, applied=self.applied)
        if outcome.document not in self.documents:
            raise InvalidArgument("outcome.document", f"{outcome.document} is not part of {self.name}")
        if outcome.outcome not in OUTCOMES:
            raise InvalidArgument("outcome.outcome", f"one of {', '.join(OUTCOMES)}")
        if outcome.outcome != "RETAIN" and blank(outcome.reason):
            raise InvalidArgument("outcome.reason", "amending, repealing or invalidating needs a reason")
        self.outcomes[outcome.document] = outcome

    def check_ready(self) -> None:
        gates.CAMPAIGN_OPEN.check(self.name, applied=self.applied)
        missing = [d for d in self.documents if d not in self.outcomes]
        gates.OUTCOMES_COMPLETE.check(self.name, missing=missing, count=len(missing), first=next(iter(missing), ""))
        unremedied = [o.document for o in self.outcomes.values() if o.missing_procedure and blank(o.remedy)]
        gates.REMEDIES_RECORDED.check(self.name, unremedied=unremedied, first=next(iter(unremedied), ""))
