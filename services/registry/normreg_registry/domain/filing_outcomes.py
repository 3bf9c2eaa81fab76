"""What a recipient that runs normreg reports about a filing, applied to the sender's obligation with
that recipient: registration (登记), a request for missing materials (补充报送) and their completion,
the outcome of its review with its reasons, provisions and correction deadline, and the issuing
body's answer to a required correction. Nobody retypes them; a revocation declares the version
invalid here. The recipient's word is final: once it reports on a filing, an outcome for it is never
typed in by hand (`Filings.record_filing_review` refuses)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from normreg_common.principal import Principal, filing_recipient_actor

from normreg_registry.domain import gates
from normreg_registry.domain.filing import Filings
from normreg_registry.domain.versions import Filing, Version

OUTCOMES = frozenset({"ACCEPTED", "CORRECTION_REQUIRED", "REVOKED"})


class Said(enum.StrEnum):
    REGISTERED = "registered"
    MATERIALS_REQUESTED = "materials_requested"
    MATERIALS_COMPLETED = "materials_completed"
    DECIDED = "decided"
    CORRECTION_ANSWERED = "correction_answered"


@dataclass(frozen=True)
class RecipientReport:
    """One thing a recipient said about a filing of version `version`, as its signed event said it.
    `jurisdiction` is the deployment that signed it; `recipient` the body it speaks for."""

    said: Said
    jurisdiction: str
    recipient: str
    received_filing: str
    version: int
    on: dt.date | None = None
    review_due: dt.date | None = None
    missing: tuple[str, ...] = ()
    completion_due: dt.date | None = None
    outcome: str = ""
    reasons: str = ""
    provisions: tuple[str, ...] = ()
    correction_due: dt.date | None = None
    response: str = ""


def _text(day: dt.date | None) -> str:
    return str(day) if day else ""


class FilingOutcomes(Filings):
    def apply_recipient_report(self, r: RecipientReport, at: dt.datetime, today: dt.date) -> Filing:
        """Applies `r` to the filing with `r.recipient`; FAILED_PRECONDITION when this version was never
        filed with that recipient (the consumer sets such a report aside, it applies nothing)."""
        v = self.version(r.version)
        name = self.version_name(v.number)
        obligation = v.obligation(r.recipient)
        filing = obligation.filing if obligation else None
        gates.FILED.check(self.name, filing=filing, version=name, to=f" with {r.recipient}")
        assert filing is not None
        actor = filing_recipient_actor(r.jurisdiction, r.recipient)
        filing.reported_by = r.jurisdiction
        filing.received_filing = r.received_filing or filing.received_filing
        details: dict[str, Any] = {
            "recipient": r.recipient,
            "received_filing": filing.received_filing,
            "reported_by": r.jurisdiction,
        }
        if r.said == Said.REGISTERED:
            filing.recipient_status = "REGISTERED"
            filing.registered_date, filing.review_due = r.on, r.review_due
            details |= {"registered_date": _text(r.on), "review_due": _text(r.review_due)}
            self._record("filing_registered", v.number, v.state, v.state, actor, at, details=details)
        elif r.said == Said.MATERIALS_REQUESTED:
            filing.recipient_status = "MATERIALS_REQUESTED"
            filing.missing, filing.completion_due = list(r.missing), r.completion_due
            details |= {"missing": list(r.missing), "completion_due": _text(r.completion_due)}
            self._record("filing_materials_requested", v.number, v.state, v.state, actor, at, details=details)
        elif r.said == Said.MATERIALS_COMPLETED:
            filing.recipient_status = "REGISTERED"
            filing.missing, filing.completion_due, filing.review_due = [], None, r.review_due
            details |= {"review_due": _text(r.review_due)}
            self._record("filing_materials_completed", v.number, v.state, v.state, actor, at, details=details)
        elif r.said == Said.CORRECTION_ANSWERED:
            filing.recipient_status = "CORRECTION_ANSWERED"
            details |= {"response": r.response}
            self._record("filing_correction_answered", v.number, v.state, v.state, actor, at, details=details)
        else:
            self._decided(v, filing, r, actor, at, today, details)
        return filing

    def _decided(
        self,
        v: Version,
        filing: Filing,
        r: RecipientReport,
        actor: Principal,
        at: dt.datetime,
        today: dt.date,
        details: dict[str, Any],
    ) -> None:
        filing.recipient_status = filing.outcome = r.outcome
        filing.outcome_note = r.reasons
        filing.provisions = list(r.provisions)
        filing.decided_date = r.on
        filing.correction_due = r.correction_due if r.outcome == "CORRECTION_REQUIRED" else None
        details |= {
            "outcome": r.outcome,
            "note": r.reasons,
            "provisions": list(r.provisions),
            "decided_date": _text(r.on),
            "correction_due": _text(filing.correction_due),
        }
        self._record("filing_reviewed", v.number, v.state, v.state, actor, at, details=details)
        if r.outcome == "REVOKED":
            provisions = f" ({'、'.join(r.provisions)})" if r.provisions else ""
            reason = f"revoked by the filing authority {r.recipient}{provisions}: {r.reasons}"
            self._revoked(v, actor, at, today, reason)
