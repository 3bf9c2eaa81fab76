"""Filing metrics per year, issuing body and recipient, folded from events alone:

- 报备率 filing rate     = filed / required to file
- 及时率 timeliness rate = filed within the deadline / filed
- 规范率 conformity rate = filed with complete, correct materials / filed

A document counts only when it is required to be filed (its kind is filed and no reason was given
at drafting why it need not be), once per recipient the routing table sent it to: "163 filed of the
documents required to be filed with 内蒙古自治区人民政府" is the row of that recipient.

"Correct" means the recipient did not require a correction or revoke it; "complete" that the sender
marked every material sent and the recipient did not ask for any that was missing (补充报送), as its
own registry reported it. A refiling after a
correction does not make the first filing timely or conformant: the metrics judge the first filing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# A promulgation recorded before recipients were derived from the routing table names none: its one
# obligation is met by its first filing, whoever received it.
_UNNAMED = ""


@dataclass
class _Required:
    year: int
    issuing_body: str
    recipient: str
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
    recipient: str = ""

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
        # (document, version) -> recipient -> obligation
        required: dict[tuple[str, int], dict[str, _Required]] = {}
        # Imported documents were promulgated before the registry knew them: whether they were filed
        # then is not known here, so they count (in the year of their promulgation, per recipient)
        # once a filing is recorded for them, and not before.
        imported: dict[tuple[str, int], tuple[int, str]] = {}
        for type_, document, version, data in events:
            key = (document, version)
            if type_ == "promulgated" and data.get("filing_required"):
                year = int(str(data["promulgation_date"])[:4])
                body = str(data["issuing_body"])
                recipients = data.get("filing_recipients")
                names = [str(r) for r in recipients] if isinstance(recipients, list) else [_UNNAMED]
                required[key] = {r: _Required(year, body, r) for r in names}
            elif type_ == "imported" and data.get("filing_required") and data.get("promulgation_date"):
                imported[key] = (int(str(data["promulgation_date"])[:4]), str(data["issuing_body"]))
            elif type_ == "filing_recorded":
                recipient = str(data.get("recipient", ""))
                entry = _obligation(required, imported, key, recipient)
                if entry is not None and not data.get("refiling"):
                    entry.filed = True
                    entry.on_time = bool(data["on_time"])
                    entry.complete = bool(data["complete"])
            elif type_ == "filing_materials_requested":
                entry = _reviewed(required.get(key, {}), str(data.get("recipient", "")))
                if entry is not None:
                    entry.complete = False
            elif type_ == "filing_reviewed" and data.get("outcome") in ("CORRECTION_REQUIRED", "REVOKED"):
                entry = _reviewed(required.get(key, {}), str(data.get("recipient", "")))
                if entry is not None:
                    entry.correct = False
        rows: dict[tuple[int, str, str], ReportRow] = {}
        for obligations in required.values():
            for entry in obligations.values():
                row_key = (entry.year, entry.issuing_body, entry.recipient)
                row = rows.setdefault(row_key, ReportRow(entry.year, entry.issuing_body, recipient=entry.recipient))
                row.required += 1
                if entry.filed:
                    row.filed += 1
                    row.filed_on_time += entry.on_time
                    row.filed_complete += entry.complete and entry.correct
        return cls([rows[k] for k in sorted(rows)])

    def select(self, year: int = 0, issuing_body: str = "", recipient: str = "") -> list[ReportRow]:
        return [
            r
            for r in self.rows
            if (not year or r.year == year)
            and (not issuing_body or r.issuing_body == issuing_body)
            and (not recipient or r.recipient == recipient)
        ]


def _obligation(
    required: dict[tuple[str, int], dict[str, _Required]],
    imported: dict[tuple[str, int], tuple[int, str]],
    key: tuple[str, int],
    recipient: str,
) -> _Required | None:
    """The obligation a filing with `recipient` meets; made for an imported document, whose
    recipients are not known here. None for a recipient the promulgation's routing did not name: the
    filing is kept, but the 报备率 counts the filings required, and that one was not."""
    obligations = required.get(key)
    if obligations is None:
        if key not in imported:
            return None
        obligations = required[key] = {}
    if recipient in obligations:
        return obligations[recipient]
    unnamed = obligations.get(_UNNAMED)
    if unnamed is not None and not unnamed.filed:
        # The one obligation of a promulgation that named no recipient: this is its recipient.
        del obligations[_UNNAMED]
        unnamed.recipient = recipient
        obligations[recipient] = unnamed
        return unnamed
    if key not in imported:
        return None
    year, body = imported[key]
    entry = obligations[recipient] = _Required(year, body, recipient)
    return entry


def _reviewed(obligations: dict[str, _Required], recipient: str) -> _Required | None:
    if recipient in obligations:
        return obligations[recipient]
    # An outcome recorded before outcomes named their recipient: the document's only filing.
    filed = [e for e in obligations.values() if e.filed]
    return filed[0] if len(filed) == 1 and not recipient else None
