"""A review as a row of the reviews table and back, one mapping for the SQLite and the PostgreSQL
stores. The stored formats are the databases' own; what differs between them is only how a list
(drafters, problems) and a calendar date are written — JSON text and ISO dates in SQLite, text[] and
date in PostgreSQL — which each store gives as its `Encoding`. Times are ISO text in both."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from normreg_review.domain.lifecycle import Decision, ReviewState
from normreg_review.domain.model import Review

NAMES = (
    "id, document, version_number, review_round, revision, title, body, drafting_org, drafters, "
    "reviewing_office, state, assignee, decision, opinion, problems, create_time, due_date, claim_time, "
    "decide_time, cancel_reason, update_time, sequence"
)
COLUMNS = [c.strip() for c in NAMES.split(",")]
# The upsert's SET clause: every column but the key.
UPDATES = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "id")


@dataclass(frozen=True)
class Encoding:
    texts: Callable[[Sequence[str]], Any]
    read_texts: Callable[[Any], Sequence[str]]
    day: Callable[[dt.date], Any]
    read_day: Callable[[Any], dt.date]


SQLITE = Encoding(
    lambda texts: json.dumps(list(texts), ensure_ascii=False), json.loads, dt.date.isoformat, dt.date.fromisoformat
)
POSTGRES = Encoding(list, lambda texts: texts, lambda day: day, lambda day: day)


def placeholders(mark: str) -> str:
    return ", ".join(mark for _ in COLUMNS)


def row(r: Review, encoding: Encoding) -> tuple[Any, ...]:
    """The values of NAMES."""
    return (
        r.id,
        r.document,
        r.version_number,
        r.review_round,
        r.revision,
        r.title,
        r.body,
        r.drafting_org,
        encoding.texts(r.drafters),
        r.reviewing_office,
        r.state.value,
        r.assignee,
        r.decision.value if r.decision else "",
        r.opinion,
        encoding.texts(r.problems),
        r.create_time.isoformat(),
        encoding.day(r.due_date),
        _time(r.claim_time),
        _time(r.decide_time),
        r.cancel_reason,
        _time(r.update_time),
        r.sequence,
    )


def review(row: Mapping[str, Any], encoding: Encoding) -> Review:
    return Review(
        id=row["id"],
        document=row["document"],
        version_number=row["version_number"],
        review_round=row["review_round"],
        revision=row["revision"],
        title=row["title"],
        body=row["body"],
        drafting_org=row["drafting_org"],
        drafters=tuple(encoding.read_texts(row["drafters"])),
        reviewing_office=row["reviewing_office"],
        create_time=dt.datetime.fromisoformat(row["create_time"]),
        due_date=encoding.read_day(row["due_date"]),
        state=ReviewState(row["state"]),
        assignee=row["assignee"],
        decision=Decision(row["decision"]) if row["decision"] else None,
        opinion=row["opinion"],
        problems=tuple(encoding.read_texts(row["problems"])),
        claim_time=_parse_time(row["claim_time"]),
        decide_time=_parse_time(row["decide_time"]),
        cancel_reason=row["cancel_reason"],
        update_time=_parse_time(row["update_time"]),
        sequence=row["sequence"],
    )


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)
