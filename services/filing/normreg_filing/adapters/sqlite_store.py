"""The filing review service's own database (SQLite): received filings, review suggestions, the
promulgations seen on subordinates' streams, the outbox of the events it sends back, and the inbox of
events already applied. Aggregates are kept whole as JSON beside the columns listings filter on."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from typing import TypeVar

from normreg_common.deadletters import DEAD_LETTER_SCHEMA
from normreg_common.eventlog.port import Delivery, Record
from normreg_common.inbox import INBOX_SCHEMA, accept_sequence, save_positions
from normreg_common.outbox import OUTBOX_SCHEMA, enqueue
from normreg_common.sqlite import Database
from pydantic import TypeAdapter

from normreg_filing.adapters import sql_lookups
from normreg_filing.adapters.sql_reports import ReportQueries, subordinate_report
from normreg_filing.application.ports import FilingRepository, OutboxEntry, UnitOfWork
from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.suggestions import ReviewSuggestion
from normreg_filing.domain.supervision import SeenPromulgation, SubordinateReport

T = TypeVar("T")

# A sighting's position (pos) is where a page of missed filings ended; its deadline and promulgation
# date are columns so that the missed filings and the yearly counts are read by index.
SEEN_TABLE = """
CREATE TABLE IF NOT EXISTS seen_promulgations (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    sender TEXT NOT NULL,
    document TEXT NOT NULL,
    recipient TEXT NOT NULL,
    promulgated TEXT NOT NULL,
    due TEXT NOT NULL,
    filed INTEGER NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (sender, document, recipient)
);
"""


def upgrade(conn: sqlite3.Connection) -> None:
    """Brings a database written before sightings had positions to the present table, once, before
    SCHEMA runs: the sightings are copied in (sender, document, recipient) order with their dates
    and whether their filing has arrived, in one transaction."""
    columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(seen_promulgations)")}
    if not columns or "pos" in columns:
        return
    conn.executescript(
        "BEGIN IMMEDIATE;"  # noqa: S608 - constants only
        "ALTER TABLE seen_promulgations RENAME TO seen_promulgations_before;"
        + SEEN_TABLE
        + "INSERT INTO seen_promulgations (sender, document, recipient, promulgated, due, filed, body) "
        "SELECT s.sender, s.document, s.recipient, json_extract(s.body, '$.promulgation_date'), "
        "json_extract(s.body, '$.due_date'), EXISTS (SELECT 1 FROM received_filings f WHERE f.sender = s.sender "
        "AND f.document = s.document AND f.recipient = s.recipient), s.body "
        "FROM seen_promulgations_before s ORDER BY s.sender, s.document, s.recipient;"
        "DROP TABLE seen_promulgations_before;"
        "COMMIT;"
    )


SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS received_filings (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    sender TEXT NOT NULL,
    document TEXT NOT NULL,
    recipient TEXT NOT NULL,
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (sender, document, recipient)
);
CREATE TABLE IF NOT EXISTS review_suggestions (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    sender TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS review_suggestions_sender ON review_suggestions (sender, pos);
-- The state of each version of the documents review suggestions may name: this deployment's own,
-- from its registry's stream, and its subordinates', from theirs (signed). With the document's kind.
CREATE TABLE IF NOT EXISTS version_states (
    sender TEXT NOT NULL,
    document TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (sender, document, version)
);
-- A sender's report for a year reads that year's filings and suggestions only, not all of them.
CREATE INDEX IF NOT EXISTS received_filings_by_year
    ON received_filings (sender, json_extract(body, '$.promulgation_date'));
CREATE INDEX IF NOT EXISTS review_suggestions_by_day
    ON review_suggestions (sender, json_extract(body, '$.submitted_on'));
"""
    + SEEN_TABLE
    + """
-- The missed filings are one range of these, whatever the number filed; `filed` is set in the unit
-- that stores the filing (save_filing) or, when the filing came first, the sighting (see).
CREATE INDEX IF NOT EXISTS seen_unfiled ON seen_promulgations (due, sender, document, recipient) WHERE filed = 0;
CREATE INDEX IF NOT EXISTS seen_unfiled_of ON seen_promulgations (sender, due, document, recipient) WHERE filed = 0;
CREATE INDEX IF NOT EXISTS seen_by_year ON seen_promulgations (sender, promulgated);
"""
    + OUTBOX_SCHEMA
    + INBOX_SCHEMA
    + DEAD_LETTER_SCHEMA
)

_NOT_ARRIVED = (
    "NOT EXISTS (SELECT 1 FROM received_filings f WHERE f.sender = s.sender AND f.document = s.document "
    "AND f.recipient = s.recipient)"
)
# domain.supervision.subordinate_report's counts, over the stored JSON of the sender's filings and
# suggestions of the year (dates are ISO text there: compared as text, they compare as dates).
_FILING_COUNTS = """
SELECT count(*),
    coalesce(sum(json_extract(body, '$.filed_date') <= json_extract(body, '$.due_date')), 0),
    coalesce(sum(json_extract(body, '$.complete_on_arrival') AND NOT json_extract(body, '$.ever_corrected')
        AND NOT coalesce(json_extract(body, '$.materials_requested_once'), 0)
        AND json_extract(body, '$.completion_due') IS NULL AND state != 'REVOKED'), 0),
    coalesce(sum(state = 'ACCEPTED'), 0),
    coalesce(sum(json_extract(body, '$.ever_corrected') <> 0), 0),
    coalesce(sum(state = 'REVOKED'), 0)
FROM received_filings
WHERE sender = ? AND json_extract(body, '$.promulgation_date') BETWEEN ? AND ?
"""
_SEEN_WITHOUT_FILING = """
SELECT count(*) FROM seen_promulgations s
WHERE s.sender = ? AND s.promulgated BETWEEN ? AND ?
AND NOT EXISTS (SELECT 1 FROM received_filings f WHERE f.sender = s.sender AND f.document = s.document
    AND f.recipient = s.recipient AND json_extract(f.body, '$.promulgation_date') BETWEEN ? AND ?)
"""
_SUGGESTION_COUNTS = """
SELECT count(*),
    coalesce(sum(json_extract(body, '$.replied_on') IS NOT NULL
        AND json_extract(body, '$.replied_on') <= json_extract(body, '$.reply_due')), 0)
FROM review_suggestions
WHERE sender = ? AND json_extract(body, '$.submitted_on') BETWEEN ? AND ?
"""

_REPORT = ReportQueries(_FILING_COUNTS, _SEEN_WITHOUT_FILING, _SUGGESTION_COUNTS)

_filing = TypeAdapter(ReceivedFiling)
_suggestion = TypeAdapter(ReviewSuggestion)
_seen = TypeAdapter(SeenPromulgation)


class SqliteFilingRepository(FilingRepository):
    """Runs inside one transaction on the database thread (writers are serialised by it)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def filing(self, id: str) -> ReceivedFiling | None:
        row = self._c.execute("SELECT body FROM received_filings WHERE id = ?", (id,)).fetchone()
        return None if row is None else _filing.validate_json(row[0])

    def filing_of(self, sender: str, document: str, recipient: str) -> ReceivedFiling | None:
        row = self._c.execute(
            "SELECT body FROM received_filings WHERE sender = ? AND document = ? AND recipient = ?",
            (sender, document, recipient),
        ).fetchone()
        return None if row is None else _filing.validate_json(row[0])

    def save_filing(self, f: ReceivedFiling, events: Sequence[Record] = ()) -> None:
        body = _filing.dump_json(f, exclude={"changes"}).decode()
        self._c.execute(
            "INSERT INTO received_filings (id, sender, document, recipient, state, body) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET state = excluded.state, body = excluded.body",
            (f.id, f.sender, f.document, f.recipient, f.state.value, body),
        )
        self._c.execute(
            "UPDATE seen_promulgations SET filed = 1 WHERE sender = ? AND document = ? AND recipient = ? AND filed = 0",
            (f.sender, f.document, f.recipient),
        )
        enqueue(self._c, events)

    def filings(self, sender: str = "", state: str = "") -> list[ReceivedFiling]:
        rows = self._c.execute(
            "SELECT body FROM received_filings WHERE (? = '' OR sender = ?) AND (? = '' OR state = ?) ORDER BY pos",
            (sender, sender, state, state),
        ).fetchall()
        return [_filing.validate_json(r[0]) for r in rows]

    def filings_after(
        self, after: int, limit: int, *, sender: str = "", state: str = "", recipient: str = ""
    ) -> list[tuple[int, ReceivedFiling]]:
        rows = self._c.execute(
            "SELECT pos, body FROM received_filings WHERE pos > ? AND (? = '' OR sender = ?) "
            "AND (? = '' OR state = ?) AND (? = '' OR recipient = ?) ORDER BY pos LIMIT ?",
            (after, sender, sender, state, state, recipient, recipient, limit),
        ).fetchall()
        return [(int(r[0]), _filing.validate_json(r[1])) for r in rows]

    def outbox(self, after: int, limit: int) -> list[OutboxEntry]:
        rows = self._c.execute(
            "SELECT id, topic, key, value, sent_at FROM outbox WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
        ).fetchall()
        return [OutboxEntry(int(r[0]), Record(r[1], r[2], bytes(r[3])), r[4] is not None) for r in rows]

    def suggestion(self, id: str) -> ReviewSuggestion | None:
        row = self._c.execute("SELECT body FROM review_suggestions WHERE id = ?", (id,)).fetchone()
        return None if row is None else _suggestion.validate_json(row[0])

    def save_suggestion(self, s: ReviewSuggestion) -> None:
        self._c.execute(
            "INSERT INTO review_suggestions (id, sender, body) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            (s.id, s.sender, _suggestion.dump_json(s).decode()),
        )

    def suggestions(self, sender: str = "") -> list[ReviewSuggestion]:
        rows = self._c.execute(
            "SELECT body FROM review_suggestions WHERE (? = '' OR sender = ?) ORDER BY pos", (sender, sender)
        ).fetchall()
        return [_suggestion.validate_json(r[0]) for r in rows]

    def suggestions_after(self, after: int, limit: int, *, sender: str = "") -> list[tuple[int, ReviewSuggestion]]:
        rows = self._c.execute(
            "SELECT pos, body FROM review_suggestions WHERE pos > ? AND (? = '' OR sender = ?) ORDER BY pos LIMIT ?",
            (after, sender, sender, limit),
        ).fetchall()
        return [(int(r[0]), _suggestion.validate_json(r[1])) for r in rows]

    def received_or_owed(self, sender: str, document: str, version: int | None) -> bool:
        sql, args = sql_lookups.received_or_owed(sender, document, version, mark="?")
        return bool(self._c.execute(sql, args).fetchone()[0])

    def set_version_state(self, sender: str, document: str, version: int, state: str, kind: str = "") -> None:
        self._c.execute(
            "INSERT INTO version_states (sender, document, version, state, kind) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (sender, document, version) DO UPDATE SET state = excluded.state, kind = excluded.kind",
            (sender, document, version, state, kind),
        )

    def version_states(self, sender: str, document: str) -> dict[int, str]:
        rows = self._c.execute(
            "SELECT version, state FROM version_states WHERE sender = ? AND document = ?", (sender, document)
        )
        return {int(r[0]): str(r[1]) for r in rows}

    def version_kind(self, sender: str, document: str) -> str:
        row = self._c.execute(
            "SELECT kind FROM version_states WHERE sender = ? AND document = ? AND kind <> '' "
            "ORDER BY version DESC LIMIT 1",
            (sender, document),
        ).fetchone()
        return "" if row is None else str(row[0])

    def see(self, p: SeenPromulgation) -> None:
        self._c.execute(
            "INSERT INTO seen_promulgations (sender, document, recipient, promulgated, due, filed, body) "
            "VALUES (?, ?, ?, ?, ?, EXISTS (SELECT 1 FROM received_filings WHERE sender = ? AND document = ? "
            "AND recipient = ?), ?) ON CONFLICT DO NOTHING",
            (
                p.sender,
                p.document,
                p.recipient,
                p.promulgation_date.isoformat(),
                p.due_date.isoformat(),
                p.sender,
                p.document,
                p.recipient,
                _seen.dump_json(p).decode(),
            ),
        )

    def seen(self, sender: str = "") -> list[SeenPromulgation]:
        rows = self._c.execute(
            "SELECT body FROM seen_promulgations WHERE (? = '' OR sender = ?) ORDER BY sender, document, recipient",
            (sender, sender),
        ).fetchall()
        return [_seen.validate_json(r[0]) for r in rows]

    def missing_after(
        self,
        after: int,
        limit: int,
        *,
        sender: str = "",
        due_from: dt.date | None = None,
        due_until: dt.date | None = None,
    ) -> list[tuple[int, SeenPromulgation]] | None:
        where = ["s.filed = 0", _NOT_ARRIVED]
        args: list[object] = []
        # With a sender, seen_unfiled_of's range (sender, due, document, recipient) is in the same order.
        columns = ("due", "document", "recipient") if sender else ("due", "sender", "document", "recipient")
        key = ", ".join(f"s.{c}" for c in columns)
        if sender:
            where.append("s.sender = ?")
            args.append(sender)
        if due_from is not None:
            where.append("s.due >= ?")
            args.append(due_from.isoformat())
        if due_until is not None:
            where.append("s.due <= ?")
            args.append(due_until.isoformat())
        if after:
            start = self._c.execute(
                "SELECT due, sender, document, recipient FROM seen_promulgations WHERE pos = ?", (after,)
            ).fetchone()
            if start is None:
                return None
            where.append(f"({key}) > ({', '.join('?' for _ in columns)})")
            args.extend(start[c] for c in columns)
        rows = self._c.execute(
            f"SELECT s.pos, s.body FROM seen_promulgations s WHERE {' AND '.join(where)} "  # noqa: S608 - constants
            f"ORDER BY {key} LIMIT ?",
            (*args, limit),
        ).fetchall()
        return [(int(r[0]), _seen.validate_json(r[1])) for r in rows]

    def report(self, sender: str, year: int) -> SubordinateReport:
        return subordinate_report(self._counts, _REPORT, sender, year)

    def _counts(self, query: str, args: tuple[object, ...]) -> list[int]:
        """The one row of an aggregate."""
        return [int(c) for c in self._c.execute(query, args).fetchone() or ()]

    def senders(self) -> list[str]:
        rows = self._c.execute(
            "SELECT sender FROM seen_promulgations UNION SELECT sender FROM received_filings "
            "UNION SELECT sender FROM review_suggestions ORDER BY 1"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def accept_sequence(self, source: str, subject: str, sequence: int) -> bool:
        return accept_sequence(self._c, source, subject, sequence)

    def save_positions(self, group: str, deliveries: Sequence[Delivery]) -> None:
        save_positions(self._c, group, deliveries)

    def position(self, group: str, topic: str, partition: int) -> int | None:
        row = self._c.execute(
            "SELECT offset FROM consumer_positions WHERE grp = ? AND topic = ? AND partition = ?",
            (group, topic, partition),
        ).fetchone()
        return None if row is None else int(row[0])


class SqliteFilingStore(UnitOfWork):
    """Each unit is one transaction on the database's single thread; `on_commit` wakes the relay."""

    def __init__(self, db: Database, on_commit: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self._on_commit = on_commit

    async def write(self, work: Callable[[FilingRepository], T]) -> T:
        result = await self.db.transaction(lambda conn: work(SqliteFilingRepository(conn)))
        self._on_commit()
        return result

    async def read(self, work: Callable[[FilingRepository], T]) -> T:
        return await self.db.read(lambda conn: work(SqliteFilingRepository(conn)))
