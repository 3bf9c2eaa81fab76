"""The filing review service's store on PostgreSQL: the same operations as the SQLite store. A filing
or a suggestion read inside a write is locked until commit, so replicas acting on one take turns and
its events leave the outbox in the order of its changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from normreg_common.eventlog.port import Delivery, Record
from normreg_common.postgres import inbox
from normreg_common.postgres.database import Conn, PostgresDatabase
from normreg_common.postgres.outbox import enqueue
from pydantic import TypeAdapter

from normreg_filing.adapters import sql_lookups
from normreg_filing.adapters.sql_reports import ReportQueries, subordinate_report
from normreg_filing.application.ports import FilingRepository, OutboxEntry, UnitOfWork
from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.suggestions import ReviewSuggestion
from normreg_filing.domain.supervision import SeenPromulgation, SubordinateReport

MIGRATIONS = Path(__file__).with_name("postgres_migrations")
T = TypeVar("T")

_NOT_ARRIVED = (
    "NOT EXISTS (SELECT 1 FROM received_filings f WHERE f.sender = s.sender AND f.document = s.document "
    "AND f.recipient = s.recipient)"
)
# domain.supervision.subordinate_report's counts, over the stored JSON of the sender's filings and
# suggestions of the year (ISO dates there: compared as text, they compare as dates).
_FILING_COUNTS = """
SELECT count(*),
    count(*) FILTER (WHERE b ->> 'filed_date' <= b ->> 'due_date'),
    count(*) FILTER (WHERE (b ->> 'complete_on_arrival')::boolean AND NOT (b ->> 'ever_corrected')::boolean
        AND NOT coalesce((b ->> 'materials_requested_once')::boolean, false)
        AND b ->> 'completion_due' IS NULL AND state <> 'REVOKED'),
    count(*) FILTER (WHERE state = 'ACCEPTED'),
    count(*) FILTER (WHERE (b ->> 'ever_corrected')::boolean),
    count(*) FILTER (WHERE state = 'REVOKED')
FROM (SELECT state, body::jsonb AS b FROM received_filings
    WHERE sender = %s AND body::jsonb ->> 'promulgation_date' BETWEEN %s AND %s) f
"""
_SEEN_WITHOUT_FILING = """
SELECT count(*) FROM seen_promulgations s
WHERE s.sender = %s AND s.promulgated BETWEEN %s::date AND %s::date
AND NOT EXISTS (SELECT 1 FROM received_filings f WHERE f.sender = s.sender AND f.document = s.document
    AND f.recipient = s.recipient AND f.body::jsonb ->> 'promulgation_date' BETWEEN %s AND %s)
"""
_SUGGESTION_COUNTS = """
SELECT count(*), count(*) FILTER (WHERE b ->> 'replied_on' <= b ->> 'reply_due')
FROM (SELECT body::jsonb AS b FROM review_suggestions
    WHERE sender = %s AND body::jsonb ->> 'submitted_on' BETWEEN %s AND %s) s
"""

_REPORT = ReportQueries(_FILING_COUNTS, _SEEN_WITHOUT_FILING, _SUGGESTION_COUNTS)

_filing = TypeAdapter(ReceivedFiling)
_suggestion = TypeAdapter(ReviewSuggestion)
_seen = TypeAdapter(SeenPromulgation)


class PostgresFilingStore(UnitOfWork):
    """Each unit is one transaction on a pooled connection; the database runs a unit again when the
    server aborted it for a deadlock or a serialization failure (it had no effect)."""

    def __init__(self, db: PostgresDatabase, on_commit: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self._on_commit = on_commit

    async def write(self, work: Callable[[FilingRepository], T]) -> T:
        result = await self.db.transaction(lambda conn: work(PostgresFilingRepository(conn)))
        self._on_commit()
        return result

    async def read(self, work: Callable[[FilingRepository], T]) -> T:
        return await self.db.read(lambda conn: work(PostgresFilingRepository(conn)))


class PostgresFilingRepository(FilingRepository):
    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        # Reads in a write transaction lock what they read; read-only transactions lock nothing.
        self._for_update = "" if conn.read_only else " FOR UPDATE"

    def filing(self, id: str) -> ReceivedFiling | None:
        row = self.conn.execute(
            f"SELECT body FROM received_filings WHERE id = %s{self._for_update}",  # noqa: S608 - constants
            (id,),
        ).fetchone()
        return None if row is None else _filing.validate_json(row[0])

    def filing_of(self, sender: str, document: str, recipient: str) -> ReceivedFiling | None:
        row = self.conn.execute(
            "SELECT body FROM received_filings WHERE sender = %s AND document = %s AND recipient = %s"  # noqa: S608
            f"{self._for_update}",
            (sender, document, recipient),
        ).fetchone()
        return None if row is None else _filing.validate_json(row[0])

    def save_filing(self, f: ReceivedFiling, events: Sequence[Record] = ()) -> None:
        body = _filing.dump_json(f, exclude={"changes"}).decode()
        self.conn.execute(
            "INSERT INTO received_filings (id, sender, document, recipient, state, body)"
            " VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET state = excluded.state, body = excluded.body",
            (f.id, f.sender, f.document, f.recipient, f.state.value, body),
        )
        self.conn.execute(
            "UPDATE seen_promulgations SET filed = true WHERE sender = %s AND document = %s AND recipient = %s"
            " AND NOT filed",
            (f.sender, f.document, f.recipient),
        )
        enqueue(self.conn, events)

    def filings(self, sender: str = "", state: str = "") -> list[ReceivedFiling]:
        rows = self.conn.execute(
            "SELECT body FROM received_filings WHERE (%s = '' OR sender = %s) AND (%s = '' OR state = %s) ORDER BY pos",
            (sender, sender, state, state),
        ).fetchall()
        return [_filing.validate_json(r[0]) for r in rows]

    def filings_after(
        self, after: int, limit: int, *, sender: str = "", state: str = "", recipient: str = ""
    ) -> list[tuple[int, ReceivedFiling]]:
        rows = self.conn.execute(
            "SELECT pos, body FROM received_filings WHERE pos > %s AND (%s = '' OR sender = %s) "
            "AND (%s = '' OR state = %s) AND (%s = '' OR recipient = %s) ORDER BY pos LIMIT %s",
            (after, sender, sender, state, state, recipient, recipient, limit),
        ).fetchall()
        return [(int(r[0]), _filing.validate_json(r[1])) for r in rows]

    def outbox(self, after: int, limit: int) -> list[OutboxEntry]:
        rows = self.conn.execute(
            "SELECT id, topic, key, value, sent_at FROM outbox WHERE id > %s ORDER BY id LIMIT %s", (after, limit)
        ).fetchall()
        return [OutboxEntry(int(r[0]), Record(str(r[1]), str(r[2]), bytes(r[3])), r[4] is not None) for r in rows]

    def suggestion(self, id: str) -> ReviewSuggestion | None:
        row = self.conn.execute(
            f"SELECT body FROM review_suggestions WHERE id = %s{self._for_update}",  # noqa: S608 - constants
            (id,),
        ).fetchone()
        return None if row is None else _suggestion.validate_json(row[0])

    def save_suggestion(self, s: ReviewSuggestion) -> None:
        self.conn.execute(
            "INSERT INTO review_suggestions (id, sender, body) VALUES (%s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            (s.id, s.sender, _suggestion.dump_json(s).decode()),
        )

    def suggestions(self, sender: str = "") -> list[ReviewSuggestion]:
        rows = self.conn.execute(
            "SELECT body FROM review_suggestions WHERE (%s = '' OR sender = %s) ORDER BY pos", (sender, sender)
        ).fetchall()
        return [_suggestion.validate_json(r[0]) for r in rows]

    def suggestions_after(self, after: int, limit: int, *, sender: str = "") -> list[tuple[int, ReviewSuggestion]]:
        rows = self.conn.execute(
            "SELECT pos, body FROM review_suggestions WHERE pos > %s AND (%s = '' OR sender = %s) "
            "ORDER BY pos LIMIT %s",
            (after, sender, sender, limit),
        ).fetchall()
        return [(int(r[0]), _suggestion.validate_json(r[1])) for r in rows]

    def see(self, p: SeenPromulgation) -> None:
        self.conn.execute(
            "INSERT INTO seen_promulgations (sender, document, recipient, promulgated, due, filed, body) "
            "VALUES (%s, %s, %s, %s, %s, EXISTS (SELECT 1 FROM received_filings WHERE sender = %s "
            "AND document = %s AND recipient = %s), %s) ON CONFLICT DO NOTHING",
            (
                p.sender,
                p.document,
                p.recipient,
                p.promulgation_date,
                p.due_date,
                p.sender,
                p.document,
                p.recipient,
                _seen.dump_json(p).decode(),
            ),
        )

    def seen(self, sender: str = "") -> list[SeenPromulgation]:
        rows = self.conn.execute(
            # Byte order, as SQLite and Python sort, whatever the database's collation.
            "SELECT body FROM seen_promulgations WHERE (%s = '' OR sender = %s) "
            'ORDER BY sender COLLATE "C", document COLLATE "C", recipient COLLATE "C"',
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
        where = ["NOT s.filed", _NOT_ARRIVED]
        args: list[object] = []
        # The columns of seen_unfiled (or seen_unfiled_of, its sender fixed) in its order and collation.
        columns = ("due", "document", "recipient") if sender else ("due", "sender", "document", "recipient")
        key = ", ".join(f"s.{c}" if c == "due" else f's.{c} COLLATE "C"' for c in columns)
        if sender:
            where.append("s.sender = %s")
            args.append(sender)
        if due_from is not None:
            where.append("s.due >= %s")
            args.append(due_from)
        if due_until is not None:
            where.append("s.due <= %s")
            args.append(due_until)
        if after:
            start = self.conn.execute(
                "SELECT due, sender, document, recipient FROM seen_promulgations WHERE pos = %s", (after,)
            ).fetchone()
            if start is None:
                return None
            named = dict(zip(("due", "sender", "document", "recipient"), start, strict=True))
            where.append(f"({key}) > ({', '.join('%s' for _ in columns)})")
            args.extend(named[c] for c in columns)
        rows = self.conn.execute(
            f"SELECT s.pos, s.body FROM seen_promulgations s WHERE {' AND '.join(where)} "  # noqa: S608 - constants
            f"ORDER BY {key} LIMIT %s",
            (*args, limit),
        ).fetchall()
        return [(int(r[0]), _seen.validate_json(r[1])) for r in rows]

    def report(self, sender: str, year: int) -> SubordinateReport:
        return subordinate_report(self._counts, _REPORT, sender, year)

    def _counts(self, query: str, args: tuple[object, ...]) -> list[int]:
        """The one row of an aggregate."""
        return [int(c) for c in self.conn.execute(query, args).fetchone() or ()]

    def received_or_owed(self, sender: str, document: str, version: int | None) -> bool:
        sql, args = sql_lookups.received_or_owed(sender, document, version, mark="%s", collate=' COLLATE "C"')
        row = self.conn.execute(sql, args).fetchone()
        return bool(row and row[0])

    def set_version_state(self, sender: str, document: str, version: int, state: str, kind: str = "") -> None:
        self.conn.execute(
            "INSERT INTO version_states (sender, document, version, state, kind) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (sender, document, version) DO UPDATE SET state = excluded.state, kind = excluded.kind",
            (sender, document, version, state, kind),
        )

    def version_states(self, sender: str, document: str) -> dict[int, str]:
        rows = self.conn.execute(
            "SELECT version, state FROM version_states WHERE sender = %s AND document = %s", (sender, document)
        ).fetchall()
        return {int(r[0]): str(r[1]) for r in rows}

    def version_kind(self, sender: str, document: str) -> str:
        row = self.conn.execute(
            "SELECT kind FROM version_states WHERE sender = %s AND document = %s AND kind <> '' "
            "ORDER BY version DESC LIMIT 1",
            (sender, document),
        ).fetchone()
        return "" if row is None else str(row[0])

    def senders(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT sender FROM seen_promulgations UNION SELECT sender FROM received_filings "
            "UNION SELECT sender FROM review_suggestions"
        ).fetchall()
        # A few jurisdictions: sorted here in code point order, as SQLite and Python sort.
        return sorted(str(r[0]) for r in rows)

    def accept_sequence(self, source: str, subject: str, sequence: int) -> bool:
        return inbox.accept_sequence(self.conn, source, subject, sequence)

    def save_positions(self, group: str, deliveries: Sequence[Delivery]) -> None:
        inbox.save_positions(self.conn, group, deliveries)

    def position(self, group: str, topic: str, partition: int) -> int | None:
        row = self.conn.execute(
            'SELECT "offset" FROM consumer_positions WHERE grp = %s AND topic = %s AND partition = %s',
            (group, topic, partition),
        ).fetchone()
        return None if row is None else int(row[0])
