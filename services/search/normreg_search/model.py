"""The public view of one version of a document: the only shape that reaches the index.

Standard library only. Nothing here can hold an internal field: the projection copies into these
types by allow-list, so a field the registry adds later stays out until someone adds it here.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

# Promulgated versions the public can search, with their status.
SEARCHABLE_STATES = frozenset({"PROMULGATED", "IN_FORCE", "AMENDED", "REPEALED", "DECLARED_INVALID", "EXPIRED"})
# Drafts are public only while open for comment, and only in ListOpenConsultations.
CONSULTATION_STATE = "PUBLIC_COMMENT"
# Default search: the rules in force.
DEFAULT_STATES = frozenset({"IN_FORCE"})
KINDS = frozenset(
    {
        "NATIONAL_LAW",
        "ADMINISTRATIVE_REGULATION",
        "LOCAL_REGULATION",
        "GOVERNMENT_RULE",
        "NORMATIVE_DOCUMENT",
        "MAJOR_DECISION",
    }
)
# Timeline entries that are public acts; anything else the registry may add stays out.
PUBLIC_TIMELINE_EVENTS = frozenset(
    {
        "comment_opened",
        "comment_closed",
        "promulgated",
        "in_force",
        "amended",
        # Acts a source records as having amended this version, or amended by it (an import):
        # they do not end the version.
        "amended_by",
        "amends",
        "repealed",
        "declared_invalid",
        "expired",
    }
)
# Timeline entries that end a version's effect: their date is the end of its validity interval.
ENDING_EVENTS = frozenset({"amended", "repealed", "declared_invalid", "expired"})


class Visibility(enum.StrEnum):
    SEARCHABLE = "searchable"
    CONSULTATION = "consultation"
    # Was public or never was: kept as a tombstone with its sequence so a stale event cannot revive it.
    HIDDEN = "hidden"


@dataclass(frozen=True)
class Article:
    label: str
    text: str


@dataclass(frozen=True)
class TimelineEvent:
    date: str
    event: str
    note: str = ""
    related: str = ""


@dataclass(frozen=True)
class PublicVersion:
    name: str  # documents/{d}/versions/{n}
    document: str  # documents/{d}
    version_number: int
    title: str
    kind: str
    state: str
    issuing_body: str
    uniform_number: str = ""
    promulgation_date: dt.date | None = None
    effective_date: dt.date | None = None
    validity_end_date: dt.date | None = None
    body: str = ""
    articles: tuple[Article, ...] = ()
    timeline: tuple[TimelineEvent, ...] = ()
    amends: str = ""
    amended_by: str = ""
    repealed_by: str = ""
    comment_start: dt.date | None = None
    comment_end: dt.date | None = None
    # Validity interval [valid_from, valid_to): valid on D when valid_from <= D < valid_to.
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    # Comments received on a draft open for comment: set on read from the index's comment counts
    # (registry comment events), never from a version's own events.
    comment_count: int = 0

    @property
    def visibility(self) -> Visibility:
        if self.state in SEARCHABLE_STATES:
            return Visibility.SEARCHABLE
        if self.state == CONSULTATION_STATE and self.comment_start and self.comment_end:
            return Visibility.CONSULTATION
        return Visibility.HIDDEN

    @property
    def year(self) -> int | None:
        return self.promulgation_date.year if self.promulgation_date else None

    def valid_on(self, day: dt.date) -> bool:
        return (
            self.visibility is Visibility.SEARCHABLE
            and self.valid_from is not None
            and self.valid_from <= day
            and (self.valid_to is None or day < self.valid_to)
        )

    def open_for_comment(self, day: dt.date) -> bool:
        return (
            self.visibility is Visibility.CONSULTATION
            and self.comment_start is not None
            and self.comment_end is not None
            and self.comment_start <= day <= self.comment_end
        )


@dataclass(frozen=True)
class CommentCount:
    """Comments the registry has received on a version open for comment, as of one of its events.
    Counts only grow: an index keeps the highest it has read, so copies and late events change nothing."""

    name: str  # documents/{d}/versions/{n}
    count: int


@dataclass(frozen=True)
class VersionChange:
    """What one registry event means for the index: the version's public view as of `sequence`,
    or None when that version is not public (any more)."""

    name: str
    document: str
    sequence: int
    version: PublicVersion | None

    @property
    def visibility(self) -> Visibility:
        return Visibility.HIDDEN if self.version is None else self.version.visibility
