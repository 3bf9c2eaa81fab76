"""The registry's records as rows of its SQL tables and back, one mapping for the SQLite and the
PostgreSQL stores: a document (its JSON aggregate and the columns lists filter on), a history entry, a
campaign, an unfiled obligation, a comment. The stored formats are the databases' own; what differs
between them is only how a calendar date and the list of a document's states are written, which each
store gives as its `Encoding`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from normreg_common.packing import pack_text, unpack_text
from normreg_registry.application.ports import StoredComment, UnfiledObligation
from normreg_registry.domain.cleanup import Campaign
from normreg_registry.domain.history import GENESIS, HistoryEntry
from normreg_registry.domain.model import Document
from pydantic import TypeAdapter

_documents = TypeAdapter(Document)
_campaigns = TypeAdapter(Campaign)

DOCUMENT_COLUMNS = "id, kind, issuing_body, drafting_org, state, states, created_at, body"
HISTORY_COLUMNS = "document, sequence, version, action, actor, time, from_state, to_state, reason, previous_hash, hash"
COMMENT_COLUMNS = "id, version, text, created_at, reply"
UNFILED_COLUMNS = "document, version, recipient, due"
# The clock day of a document the clock has nothing left to do for.
NEVER = dt.date.max


@dataclass(frozen=True)
class Encoding:
    day: Callable[[dt.date], Any]
    read_day: Callable[[Any], dt.date]
    states: Callable[[list[str]], Any]
    # A document's JSON as its column holds it, and back.
    body: Callable[[str], Any]
    read_body: Callable[[Any], str | bytes]


# SQLite: ISO dates (they compare as text), the states comma-separated and the body packed (rows
# written before hold it as TEXT and are read as such); PostgreSQL: date, text[] and jsonb, which
# TOAST compresses by itself.
SQLITE = Encoding(dt.date.isoformat, dt.date.fromisoformat, ",".join, pack_text, unpack_text)
POSTGRES = Encoding(lambda day: day, lambda day: day, lambda states: states, lambda body: body, lambda body: body)


def dump_document(doc: Document) -> str:
    return _documents.dump_json(doc, exclude={"changes", "read_on"}).decode()


def load_document(text: str | bytes, encoding: Encoding = POSTGRES) -> Document:
    return _documents.validate_json(encoding.read_body(text))


def document_row(doc: Document, encoding: Encoding) -> tuple[Any, ...]:
    """The values of DOCUMENT_COLUMNS."""
    states = sorted({v.state.value for v in doc.versions})
    return (
        doc.id,
        doc.kind.value,
        doc.issuing_body,
        doc.drafting_org,
        doc.latest.state.value,
        encoding.states(states),
        doc.created_at.isoformat(),
        encoding.body(dump_document(doc)),
    )


def dump_campaign(campaign: Campaign) -> str:
    return _campaigns.dump_json(campaign).decode()


def load_campaign(text: str | bytes) -> Campaign:
    return _campaigns.validate_json(text)


def history_head(row: Sequence[Any] | None) -> str:
    """The hash a document's next history entry chains to, from its last entry's row (None: no entry yet)."""
    return GENESIS if row is None else str(row[0])


def history_row(entry: HistoryEntry) -> tuple[Any, ...]:
    """The values of HISTORY_COLUMNS."""
    return (
        entry.document,
        entry.sequence,
        entry.version,
        entry.action,
        entry.actor,
        entry.time,
        entry.from_state,
        entry.to_state,
        entry.reason,
        entry.previous_hash,
        entry.hash,
    )


def history_entry(row: Sequence[Any]) -> HistoryEntry:
    return HistoryEntry(*row)


def comment(row: Sequence[Any]) -> StoredComment:
    return StoredComment(*row)


def unfiled_row(obligation: UnfiledObligation, encoding: Encoding) -> tuple[Any, ...]:
    return (obligation.document, obligation.version, obligation.recipient, encoding.day(obligation.due))


def unfiled_obligation(row: Sequence[Any], encoding: Encoding) -> UnfiledObligation:
    return UnfiledObligation(row[0], int(row[1]), row[2], encoding.read_day(row[3]))
