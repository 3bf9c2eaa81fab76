"""What a document keeps about each of its versions: text, state, windows, procedures, promulgation,
filing and timeline. Plain records; the rules that change them live with the aggregate's operations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from normreg_common.filing_materials import MATERIALS

from normreg_registry.domain.articles import Article, split_articles
from normreg_registry.domain.lifecycle import Procedure, State
from normreg_registry.domain.numbers import UniformNumber


@dataclass
class CommentWindow:
    start: dt.date
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass
class ProcedureRecord:
    procedure: Procedure
    summary: str
    at: dt.datetime


@dataclass
class Promulgation:
    # None for existing rules imported without a number of ours (national laws have none).
    number: UniformNumber | None
    registration_number: str
    promulgation_date: dt.date
    effective_date: dt.date
    validity_end: dt.date | None = None
    early_effect_reason: str = ""


@dataclass
class Filing:
    filed_date: dt.date
    recipient: str
    materials: dict[str, bool]
    due_date: dt.date
    outcome: str = ""
    outcome_note: str = ""
    # What the recipient's own deployment reports by signed event (a recipient that runs normreg):
    # who reports (its jurisdiction; set = the outcome is never typed in by hand), its name for the
    # filing, and the last thing it said (recipient_status) with the dates that came with it.
    reported_by: str = ""
    received_filing: str = ""
    recipient_status: str = ""
    registered_date: dt.date | None = None
    review_due: dt.date | None = None
    missing: list[str] = field(default_factory=list)
    completion_due: dt.date | None = None
    decided_date: dt.date | None = None
    provisions: list[str] = field(default_factory=list)
    correction_due: dt.date | None = None

    # The materials its kind requires (normreg_common.filing_materials): a filing stored before they
    # depended on the kind is judged by every one, as it was.
    required: tuple[str, ...] = MATERIALS

    MATERIALS = MATERIALS

    @property
    def open_to_refiling(self) -> bool:
        """The recipient required a correction or asked for materials: the filing may be sent again."""
        return self.outcome == "CORRECTION_REQUIRED" or self.recipient_status == "MATERIALS_REQUESTED"

    @property
    def awaiting_sender(self) -> tuple[str, dt.date] | None:
        """What the recipient waits for from the issuing body, and by when: the materials it asked
        for, or the correction it required; None when the next step is the recipient's."""
        if self.recipient_status == "MATERIALS_REQUESTED" and self.completion_due is not None:
            return "COMPLETE_MATERIALS", self.completion_due
        # Reported by the recipient's events, or typed in for a recipient that does not run normreg.
        corrected = self.recipient_status if self.reported_by else self.outcome
        if corrected == "CORRECTION_REQUIRED" and self.correction_due is not None:
            return "CORRECT", self.correction_due
        return None

    @property
    def complete(self) -> bool:
        return all(self.materials.get(m, False) for m in self.required)

    @property
    def on_time(self) -> bool:
        return self.filed_date <= self.due_date


@dataclass
class FilingObligation:
    """One recipient a promulgated version must be filed with, its deadline, and the filing once sent."""

    recipient: str
    due_date: dt.date
    filing: Filing | None = None


@dataclass
class Evaluation:
    id: int
    version: int
    evaluator: str
    method: str
    findings: str
    conclusion: str
    at: dt.datetime
    led_to: str = ""


@dataclass
class TimelineEntry:
    date: dt.date
    event: str
    note: str = ""
    related: str = ""


@dataclass
class Version:
    number: int
    state: State
    title: str
    body: str
    created_at: dt.datetime
    updated_at: dt.datetime
    revision: int = 1
    approved_revision: int = 0
    review_round: int = 0
    # Where legality review stands, for the deliberation gate to say why it refuses.
    review_requested_at: dt.datetime | None = None
    review_outcome: str = ""
    review_decided_at: dt.datetime | None = None
    last_approved_revision: int = 0
    sent_back: bool = False
    deliberated: bool = False
    adopted_on: dt.date | None = None
    # The sequence of the document's newest change to this version: the etag of what a caller sees.
    last_change: int = 0
    drafters: list[str] = field(default_factory=list)
    comment_window: CommentWindow | None = None
    completed_comment_windows: list[CommentWindow] = field(default_factory=list)
    procedures: dict[Procedure, ProcedureRecord] = field(default_factory=dict)
    promulgation: Promulgation | None = None
    obligations: list[FilingObligation] = field(default_factory=list)
    # Stored before filings had one obligation per recipient; moved into `obligations` on load.
    filing: Filing | None = None
    filing_overdue_flagged: bool = False
    evaluation_due_flagged: bool = False
    amends: int | None = None
    amended_by: int | None = None
    repealed_by: str = ""
    state_reason: str = ""
    timeline: list[TimelineEntry] = field(default_factory=list)

    # The articles as a source gave them (an import): kept rather than split again from the body.
    given_articles: tuple[Article, ...] | None = None

    @property
    def promulgated_elsewhere(self) -> bool:
        """Imported (存量): promulgated before the registry knew it. A version promulgated here was
        adopted at deliberation first, which an imported one never was."""
        return self.promulgation is not None and not self.deliberated

    def __post_init__(self) -> None:
        if self.filing is not None:
            if not any(o.recipient == self.filing.recipient for o in self.obligations):
                self.obligations.append(FilingObligation(self.filing.recipient, self.filing.due_date, self.filing))
            self.filing = None

    def obligation(self, recipient: str) -> FilingObligation | None:
        return next((o for o in self.obligations if o.recipient == recipient), None)

    @property
    def filings(self) -> list[Filing]:
        return [o.filing for o in self.obligations if o.filing is not None]

    @property
    def latest_filing(self) -> Filing | None:
        filings = self.filings
        return max(filings, key=lambda f: f.filed_date) if filings else None

    @property
    def articles(self) -> tuple[Article, ...]:
        return self.given_articles if self.given_articles is not None else split_articles(self.body)
