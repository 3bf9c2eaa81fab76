"""A subordinate's report for a year, counted by the database (domain.supervision.subordinate_report's
counts): the same three aggregates on SQLite and PostgreSQL, each in its own dialect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from normreg_filing.domain.supervision import SubordinateReport

# One aggregate query with its arguments -> the integers of its one row.
Counts = Callable[[str, tuple[object, ...]], list[int]]


@dataclass(frozen=True)
class ReportQueries:
    # (sender, first day, last day) -> filed, on time, conforming, accepted, corrected, revoked
    filings: str
    # (sender, first, last, first, last) -> promulgations seen that year without a filing of them
    seen_without_filing: str
    # (sender, first, last) -> suggestions received, answered on time
    suggestions: str


def subordinate_report(counts: Counts, queries: ReportQueries, sender: str, year: int) -> SubordinateReport:
    first, last = f"{year:04d}-01-01", f"{year:04d}-12-31"
    report = SubordinateReport(sender, year)
    (
        report.filed,
        report.filed_on_time,
        report.filed_conforming,
        report.accepted,
        report.corrected,
        report.revoked,
    ) = counts(queries.filings, (sender, first, last))
    # Required: the filings counted, and the promulgations seen that year without one of them.
    (unfiled,) = counts(queries.seen_without_filing, (sender, first, last, first, last))
    report.required = report.filed + unfiled
    report.suggestions_received, report.suggestions_answered_on_time = counts(
        queries.suggestions, (sender, first, last)
    )
    return report
