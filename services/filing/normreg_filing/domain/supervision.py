"""What the superior sees of its subordinates (监督): promulgations it learned of on their event
streams whose filing has not arrived (漏报), before and after the deadline, and the yearly report per
subordinate jurisdiction. Pure folds over what the recipient holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from normreg_filing.domain.lifecycle import FilingState
from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.suggestions import ReviewSuggestion


@dataclass(frozen=True)
class SeenPromulgation:
    """A promulgation on a subordinate's stream naming this deployment's body among its recipients."""

    sender: str
    document: str
    title: str
    issuing_body: str
    kind: str
    uniform_number: str
    promulgation_date: dt.date
    due_date: dt.date
    recipient: str


@dataclass(frozen=True)
class MissingFiling:
    promulgation: SeenPromulgation
    overdue: bool


def missing_filings(
    seen: Iterable[SeenPromulgation], received: Iterable[ReceivedFiling], today: dt.date
) -> list[MissingFiling]:
    """Every seen promulgation whose filing with its recipient has not arrived, due first."""
    arrived = {(f.sender, f.document, f.recipient) for f in received}
    out = [MissingFiling(p, today > p.due_date) for p in seen if (p.sender, p.document, p.recipient) not in arrived]
    return sorted(out, key=lambda m: (m.promulgation.due_date, m.promulgation.sender, m.promulgation.document))


@dataclass
class SubordinateReport:
    sender: str
    year: int
    required: int = 0
    filed: int = 0
    filed_on_time: int = 0
    filed_conforming: int = 0
    accepted: int = 0
    corrected: int = 0
    revoked: int = 0
    suggestions_received: int = 0
    suggestions_answered_on_time: int = 0

    @property
    def filing_rate(self) -> float:
        return self.filed / self.required if self.required else 0.0

    @property
    def timeliness_rate(self) -> float:
        return self.filed_on_time / self.filed if self.filed else 0.0

    @property
    def conformity_rate(self) -> float:
        return self.filed_conforming / self.filed if self.filed else 0.0


def subordinate_report(
    sender: str,
    year: int,
    seen: Iterable[SeenPromulgation],
    received: Iterable[ReceivedFiling],
    suggestions: Iterable[ReviewSuggestion],
) -> SubordinateReport:
    """报备率 over the promulgations seen (a filing of a promulgation never seen counts too: it was
    required, the stream may have been read late), 及时率 by the sender's deadline, 规范率 = complete
    on arrival, never asked for materials and never required to correct; outcomes as they stand;
    suggestions by submission year."""
    report = SubordinateReport(sender, year)
    filings = [f for f in received if f.sender == sender and f.promulgation_date.year == year]
    keys = {(p.document, p.recipient) for p in seen if p.sender == sender and p.promulgation_date.year == year}
    keys |= {(f.document, f.recipient) for f in filings}
    report.required = len(keys)
    report.filed = len(filings)
    for f in filings:
        report.filed_on_time += f.on_time
        report.filed_conforming += (
            f.complete_on_arrival
            and not f.asked_for_materials
            and not f.ever_corrected
            and f.state != FilingState.REVOKED
        )
        report.accepted += f.state == FilingState.ACCEPTED
        report.corrected += f.ever_corrected
        report.revoked += f.state == FilingState.REVOKED
    for s in suggestions:
        if s.sender == sender and s.submitted_on.year == year:
            report.suggestions_received += 1
            report.suggestions_answered_on_time += s.answered_on_time
    return report
