"""Filing metrics per year and issuing body, folded from events alone:

- 报备率 filing rate     = filed / required to file
- 及时率 timeliness rate = filed within the deadline / filed
- 规范率 conformity rate = filed with complete, correct materials / filed

"Correct" means the recipient did not require a correction or revoke it. A refiling after a
correction does not make the first filing timely or conformant: the metrics judge the first filing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Required:
    year: int
    issuing_body: str
    filed: bool = False
    on_time: bool = False
    complete: bool = False
    correct: bool = True


@dataclass
class ReportRow:
    year: int
    issuing_body: str
    required: int = 0
    filed: int = 0
    filed_on_time: int = 0
    filed_complete: int = 0

    @property
    def filing_rate(self) -> float:
        return self.filed / self.required if self.required else 0.0

    @property
    def timeliness_rate(self) -> float:
        return self.filed_on_time / self.filed if self.filed else 0.0

    @property
    def conformity_rate(self) -> float:
        return self.filed_complete / self.filed if self.filed else 0.0


@dataclass
class FilingReport:
    rows: list[ReportRow] = field(default_factory=list)

    @classmethod
    def from_events(cls, events: Iterable[tuple[str, str, int, dict[str, Any]]]) -> FilingReport:
        """`events` are (type, document, version, data) in log order."""
        required: dict[tuple[str, int], _Required] = {}
        # Imported documents were promulgated before the registry knew them: whether they were filed
        # then is not known here, so they count (in the year of their promulgation) once a filing is
        # recorded for them, and not before.
        imported: dict[tuple[str, int], _Required] = {}
        for type_, document, version, data in events:
            key = (document, version)
            if type_ == "promulgated" and data.get("filing_required"):
                year = int(str(data["promulgation_date"])[:4])
                required[key] = _Required(year, str(data["issuing_body"]))
            elif type_ == "imported" and data.get("filing_required") and data.get("promulgation_date"):
                imported[key] = _Required(int(str(data["promulgation_date"])[:4]), str(data["issuing_body"]))
            elif type_ == "filing_recorded" and key not in required and key in imported:
                required[key] = imported.pop(key)
            if type_ == "filing_recorded" and key in required and not data.get("refiling"):
                entry = required[key]
                entry.filed = True
                entry.on_time = bool(data["on_time"])
                entry.complete = bool(data["complete"])
            elif (
                type_ == "filing_reviewed"
                and key in required
                and data.get("outcome")
                in (
                    "CORRECTION_REQUIRED",
                    "REVOKED",
                )
            ):
                required[key].correct = False
        rows: dict[tuple[int, str], ReportRow] = {}
        for entry in required.values():
            row = rows.setdefault((entry.year, entry.issuing_body), ReportRow(entry.year, entry.issuing_body))
            row.required += 1
            if entry.filed:
                row.filed += 1
                row.filed_on_time += entry.on_time
                row.filed_complete += entry.complete and entry.correct
        return cls([rows[k] for k in sorted(rows)])

    def select(self, year: int = 0, issuing_body: str = "") -> list[ReportRow]:
        return [
            r
            for r in self.rows
            if (not year or r.year == year) and (not issuing_body or r.issuing_body == issuing_body)
        ]
