"""What the review service takes from the registry's events, once translated at the edge."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ReviewRequested:
    document_id: str
    version_number: int
    review_round: int
    revision: int
    title: str
    body: str
    drafting_org: str
    drafters: tuple[str, ...]
    requested_by: str
    at: dt.datetime


@dataclass(frozen=True)
class DocumentWithdrawn:
    document: str
    withdrawn_by: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class Inbound:
    """One event of a stream: its position (for dropping duplicates) and, when it matters here, its message."""

    source: str
    subject: str
    sequence: int
    message: ReviewRequested | DocumentWithdrawn | None
