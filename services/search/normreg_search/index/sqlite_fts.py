# ruff: noqa: S608  -- SQL text is built only from generation numbers and fixed column names;
# every value is a bound parameter.
"""The embedded index: SQLite FTS5 in `{data_dir}/search.db`, standard library only.

Each physical index is a generation of three tables: `g{n}_versions` (the public views, their
filter columns and the last applied sequence), `g{n}_fts` (the token streams of searchable
versions, `rowid` = the version's id) and `g{n}_titles` (their titles alone). `search_meta.generation`
names the live one; a rebuild fills `g{n+1}` and switches that row in one transaction.

Ranking: FTS5's bm25() normalises by the length of the whole row, so in one table a long law's
title match would drown in its body. The titles table gives titles their own length normalisation
(as Elasticsearch does per field); a search adds up the body score, the title score and a bonus
for the query's clauses occurring verbatim.

The FTS5 `ascii` tokenizer splits on ASCII white space and punctuation only, so the tokens made by
`analysis` (CJK bigrams and characters, lower-case letter/digit words) are indexed as they are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

from normreg_common.sqlite import Database

from normreg_search import analysis
from normreg_search.index.port import (
    IndexBuild,
    OnCommit,
    SearchIndex,
    decode_version,
    effective_states,
    encode_version,
    highest_counts,
    latest_per_version,
)
from normreg_search.model import CommentCount, PublicVersion, VersionChange, Visibility
from normreg_search.query import (
    FACET_ISSUING_BODIES,
    FACET_KINDS,
    FACET_STATES,
    FACET_YEARS,
    ParsedQuery,
    SearchQuery,
    SearchResult,
    Sort,
)
from normreg_search.query import Hit as SearchHit

META_SCHEMA = """
CREATE TABLE IF NOT EXISTS search_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS comment_counts (
    name TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
"""

# bm25() column weights. The fts table (title, body, chars) scores the body; the titles table
# (title, key) scores titles, the key being the whole title as one token (an exact title match).
BODY_WEIGHTS = (0.0, 1.0, 0.3)
PHRASE_WEIGHTS = (0.0, 1.0, 0.0)
TITLE_WEIGHTS = (1.0, 4.0)
TITLE_FACTOR = 3.0
MAX_FACET_VALUES = 50


class _Tables(NamedTuple):
    versions: str
    fts: str
    titles: str


def _tables(generation: int) -> _Tables:
    return _Tables(f"g{generation}_versions", f"g{generation}_fts", f"g{generation}_titles")


def _weights(weights: tuple[float, ...]) -> str:
    return ", ".join(str(w) for w in weights)


def _create(conn: sqlite3.Connection, generation: int) -> None:
    versions, fts, titles = _tables(generation)
    # One statement at a time: executescript() would commit the caller's transaction.
    ddl = f"""
        CREATE TABLE IF NOT EXISTS {versions} (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            document TEXT NOT NULL,
            version_number INTEGER NOT NULL,
            sequence INTEGER NOT NULL,
            visibility TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL DEFAULT '',
            issuing_body TEXT NOT NULL DEFAULT '',
            uniform_number TEXT NOT NULL DEFAULT '',
            promulgation_date TEXT,
            effective_date TEXT,
            valid_from TEXT,
            valid_to TEXT,
            year TEXT,
            comment_start TEXT,
            comment_end TEXT,
            text_hash TEXT,
            payload TEXT
        );
        CREATE INDEX IF NOT EXISTS {versions}_document ON {versions} (document, version_number);
        CREATE INDEX IF NOT EXISTS {versions}_number ON {versions} (uniform_number) WHERE uniform_number != '';
        CREATE INDEX IF NOT EXISTS {versions}_comment ON {versions} (visibility, comment_end);
        CREATE INDEX IF NOT EXISTS {versions}_state ON {versions} (visibility, state, promulgation_date);
        CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(title, body, chars, tokenize = 'ascii');
        CREATE VIRTUAL TABLE IF NOT EXISTS {titles} USING fts5(title, key, tokenize = 'ascii');
        """
    for statement in ddl.split(";"):
        if statement.strip():
            conn.execute(statement)


def _drop(conn: sqlite3.Connection, generation: int) -> None:
    for table in _tables(generation):
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _text_hash(v: PublicVersion) -> str:
    return hashlib.sha256(f"{v.title}\x00{v.body}".encode()).hexdigest()[:32]


def _apply(conn: sqlite3.Connection, generation: int, changes: Sequence[VersionChange]) -> int:
    versions, fts, titles = _tables(generation)
    applied = 0
    for change in latest_per_version(changes):
        row = conn.execute(f"SELECT id, sequence, text_hash FROM {versions} WHERE name = ?", (change.name,)).fetchone()
        if row is not None and row["sequence"] >= change.sequence:
            continue
        v = change.version
        visibility = change.visibility
        searchable = v is not None and visibility is Visibility.SEARCHABLE
        new_hash = _text_hash(v) if v is not None and searchable else None
        values = (
            change.document,
            v.version_number if v else int(change.name.rsplit("/", 1)[1]),
            change.sequence,
            visibility.value,
            v.state if v else "",
            v.kind if v else "",
            v.issuing_body if v else "",
            v.uniform_number if v else "",
            _iso(v.promulgation_date) if v else None,
            _iso(v.effective_date) if v else None,
            _iso(v.valid_from) if v else None,
            _iso(v.valid_to) if v else None,
            str(v.year) if v and v.year else None,
            _iso(v.comment_start) if v else None,
            _iso(v.comment_end) if v else None,
            new_hash,
            json.dumps(encode_version(v), ensure_ascii=False) if v else None,
        )
        columns = (
            "document, version_number, sequence, visibility, state, kind, issuing_body, uniform_number, "
            "promulgation_date, effective_date, valid_from, valid_to, year, comment_start, comment_end, "
            "text_hash, payload"
        )
        if row is None:
            cursor = conn.execute(
                f"INSERT INTO {versions} (name, {columns}) VALUES (?, {', '.join('?' * len(values))})",
                (change.name, *values),
            )
            rowid = cursor.lastrowid
            old_hash = None
        else:
            assignments = ", ".join(f"{c.strip()} = ?" for c in columns.split(","))
            conn.execute(f"UPDATE {versions} SET {assignments} WHERE id = ?", (*values, row["id"]))
            rowid = row["id"]
            old_hash = row["text_hash"]
        if old_hash is not None and old_hash != new_hash:
            conn.execute(f"DELETE FROM {fts} WHERE rowid = ?", (rowid,))
            conn.execute(f"DELETE FROM {titles} WHERE rowid = ?", (rowid,))
        if v is not None and new_hash is not None and new_hash != old_hash:
            title = analysis.bigram_stream(v.title)
            conn.execute(
                f"INSERT INTO {fts} (rowid, title, body, chars) VALUES (?, ?, ?, ?)",
                (rowid, title, analysis.bigram_stream(v.body), analysis.unigram_stream(v.title + "\n" + v.body)),
            )
            conn.execute(
                f"INSERT INTO {titles} (rowid, title, key) VALUES (?, ?, ?)",
                (rowid, title, analysis.title_key(v.title)),
            )
        applied += 1
    return applied


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def match_expression(query: ParsedQuery) -> str:
    """FTS5 query requiring every clause (see query.py for the semantics)."""
    parts = []
    for clause in query.clauses:
        sub = []
        if clause.phrase and clause.tokens:
            sub.append("{title body} : " + _quote(" ".join(clause.tokens)))
        if clause.required:
            sub.append("{title body} : (" + " AND ".join(_quote(t) for t in clause.required) + ")")
        if clause.required_chars:
            sub.append("chars : (" + " AND ".join(_quote(t) for t in clause.required_chars) + ")")
        parts.append(" AND ".join(sub))
    return " AND ".join(f"({p})" for p in parts)


def phrase_expression(query: ParsedQuery) -> str:
    """The unquoted clauses as phrases: documents holding them verbatim score higher."""
    return " OR ".join("{title body} : " + _quote(" ".join(tokens)) for tokens in query.boost_phrases)


def title_expression(query: ParsedQuery) -> str:
    """A clause of the query verbatim in a title, or the whole query as the title. Single shared
    bigrams do not count: long queries would otherwise favour titles made of common words."""
    parts = [_quote(" ".join(clause.tokens)) for clause in query.clauses if clause.tokens]
    expression = "title : (" + " OR ".join(dict.fromkeys(parts)) + ")" if parts else ""
    if query.key:
        expression = f"{expression} OR key : {_quote(query.key)}" if expression else f"key : {_quote(query.key)}"
    return expression


class _Filters:
    """WHERE clauses of a search, optionally leaving one facet dimension out."""

    def __init__(self, query: SearchQuery) -> None:
        self.common: list[str] = ["v.visibility = 'searchable'"]
        self.common_args: list[Any] = []
        q = query
        if q.valid_on is not None:
            day = q.valid_on.isoformat()
            self.common.append("v.valid_from <= ? AND (v.valid_to IS NULL OR v.valid_to > ?)")
            self.common_args += [day, day]
        for column, rng in (("promulgation_date", q.promulgation), ("effective_date", q.effective)):
            if rng.start is not None:
                self.common.append(f"v.{column} >= ?")
                self.common_args.append(rng.start.isoformat())
            if rng.end is not None:
                self.common.append(f"v.{column} <= ?")
                self.common_args.append(rng.end.isoformat())
        if q.uniform_number:
            self.common.append("v.uniform_number = ?")
            self.common_args.append(q.uniform_number)
        states = effective_states(q)
        # Facet dimensions: (facet name, column, selected values or None).
        self.dimensions: list[tuple[str, str, list[str] | None]] = [
            (FACET_STATES, "state", sorted(states) if states is not None else None),
            (FACET_KINDS, "kind", sorted(q.kinds) or None),
            (FACET_ISSUING_BODIES, "issuing_body", sorted(q.issuing_bodies) or None),
        ]

    def where(self) -> tuple[str, list[Any]]:
        clauses = list(self.common)
        args = list(self.common_args)
        for _, column, values in self.dimensions:
            if values is not None:
                clauses.append(f"v.{column} IN ({', '.join('?' * len(values))})")
                args += values
        return " AND ".join(clauses), args

    def selected_flags(self) -> tuple[list[str], list[Any]]:
        """One 0/1 expression per dimension: does the row pass that dimension's filter."""
        exprs: list[str] = []
        args: list[Any] = []
        for _, column, values in self.dimensions:
            if values is None:
                exprs.append("1")
            else:
                exprs.append(f"v.{column} IN ({', '.join('?' * len(values))})")
                args += values
        return exprs, args


_ORDER = {
    Sort.PROMULGATION_DATE_DESC: "v.promulgation_date IS NULL, v.promulgation_date DESC, v.name",
    Sort.EFFECTIVE_DATE_DESC: "v.effective_date IS NULL, v.effective_date DESC, v.name",
}


def _search(conn: sqlite3.Connection, generation: int, query: SearchQuery) -> SearchResult:
    versions, fts, titles = _tables(generation)
    parsed = query.parsed
    if not parsed.empty and not parsed.matchable:
        return SearchResult(hits=(), total=0, facets={})
    filters = _Filters(query)
    where, where_args = filters.where()
    if parsed.empty:
        source, source_args, score = f"{versions} v", [], "0.0"
    else:
        source = (
            f"(SELECT rowid AS id, -bm25({fts}, {_weights(BODY_WEIGHTS)}) AS s FROM {fts} WHERE {fts} MATCH ?) m "
            f"JOIN {versions} v ON v.id = m.id"
        )
        source_args = [match_expression(parsed)]
        score = "m.s"
    # Facets count what matches; only the hits need the ranking joins below.
    matching, matching_args = source, list(source_args)
    if not parsed.empty:
        title = title_expression(parsed)
        if title:
            source += (
                f" LEFT JOIN (SELECT rowid AS id, -bm25({titles}, {_weights(TITLE_WEIGHTS)}) AS t FROM {titles} "
                f"WHERE {titles} MATCH ?) t ON t.id = v.id"
            )
            source_args.append(title)
            score += f" + {TITLE_FACTOR} * coalesce(t.t, 0.0)"
        phrases = phrase_expression(parsed)
        if phrases:
            source += (
                f" LEFT JOIN (SELECT rowid AS id, -bm25({fts}, {_weights(PHRASE_WEIGHTS)}) AS b FROM {fts} "
                f"WHERE {fts} MATCH ?) b ON b.id = v.id"
            )
            source_args.append(phrases)
            score += " + coalesce(b.b, 0.0)"
    order = _ORDER.get(query.sort)
    if order is None:
        order = f"{score} DESC, v.name" if not parsed.empty else _ORDER[Sort.PROMULGATION_DATE_DESC]
    rows = conn.execute(
        f"SELECT v.payload, {score} AS score FROM {source} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
        [*source_args, *where_args, query.limit, query.offset],
    ).fetchall()
    hits = tuple(SearchHit(decode_version(json.loads(r["payload"])), float(r["score"])) for r in rows)
    # Facets and total in one pass: group by the facet values and whether each dimension's filter holds.
    flags, flag_args = filters.selected_flags()
    common = " AND ".join(filters.common)
    groups = conn.execute(
        f"SELECT v.state, v.kind, v.issuing_body, v.year, {', '.join(flags)}, count(*) AS n "
        f"FROM {matching} WHERE {common} GROUP BY 1, 2, 3, 4, 5, 6, 7",
        [*flag_args, *matching_args, *filters.common_args],
    ).fetchall()
    counters: dict[str, Counter[str]] = {name: Counter() for name in (FACET_STATES, FACET_KINDS, FACET_ISSUING_BODIES)}
    years: Counter[str] = Counter()
    total = 0
    for row in groups:
        state, kind, body, year, ok_state, ok_kind, ok_body, n = tuple(row)
        if ok_kind and ok_body:
            counters[FACET_STATES][state] += n
        if ok_state and ok_body:
            counters[FACET_KINDS][kind] += n
        if ok_state and ok_kind:
            counters[FACET_ISSUING_BODIES][body] += n
        if ok_state and ok_kind and ok_body:
            total += n
            if year:
                years[year] += n
    counters[FACET_YEARS] = years
    facets = {
        name: tuple(sorted(((k, c) for k, c in counter.items() if k), key=lambda kc: (-kc[1], kc[0])))[
            :MAX_FACET_VALUES
        ]
        for name, counter in counters.items()
    }
    return SearchResult(hits=hits, total=total, facets=facets)


def _payloads(rows: Sequence[sqlite3.Row]) -> list[PublicVersion]:
    return [decode_version(json.loads(r["payload"])) for r in rows]


class SqliteFtsIndex(SearchIndex):
    def __init__(self, db: Database) -> None:
        """`db` is search.db, opened by the caller with META_SCHEMA (and the inbox schema)."""
        self._db = db
        self._generation = 0

    @property
    def generation(self) -> int:
        return self._generation

    async def open(self) -> None:
        def work(conn: sqlite3.Connection) -> int:
            for statement in META_SCHEMA.split(";"):  # execute() takes one statement; executescript() commits
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT value FROM search_meta WHERE key = 'generation'").fetchone()
            generation = int(row["value"]) if row else 1
            _create(conn, generation)
            if row is None:
                conn.execute("INSERT INTO search_meta (key, value) VALUES ('generation', ?)", (str(generation),))
            return generation

        self._generation = await self._db.transaction(work)

    async def close(self) -> None:
        return None

    # Every method names its tables inside the function that runs on the database's thread, where
    # the switch of generations also happens: no read can see a generation that was just dropped.

    async def apply(
        self,
        changes: Sequence[VersionChange],
        *,
        comments: Sequence[CommentCount] = (),
        on_commit: OnCommit | None = None,
    ) -> int:
        def work(conn: sqlite3.Connection) -> int:
            applied = _apply(conn, self._generation, changes)
            conn.executemany(
                "INSERT INTO comment_counts (name, count) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET count = max(count, excluded.count)",
                list(highest_counts(comments).items()),
            )
            if on_commit is not None:
                on_commit(conn)
            return applied

        return await self._db.transaction(work)

    async def comment_counts(self, names: Sequence[str]) -> dict[str, int]:
        if not names:
            return {}
        marks = ",".join("?" * len(names))

        def work(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            sql = f"SELECT name, count FROM comment_counts WHERE name IN ({marks})"
            return conn.execute(sql, list(names)).fetchall()

        return {r["name"]: int(r["count"]) for r in await self._db.read(work)}

    async def _select(self, where: str, args: Sequence[Any], order: str) -> list[PublicVersion]:
        def work(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            versions = _tables(self._generation).versions
            return conn.execute(f"SELECT payload FROM {versions} WHERE {where} ORDER BY {order}", args).fetchall()

        return _payloads(await self._db.read(work))

    async def get(self, name: str) -> PublicVersion | None:
        found = await self._select("name = ? AND visibility != 'hidden'", (name,), "name")
        return found[0] if found else None

    async def versions_of(self, document: str) -> list[PublicVersion]:
        return await self._select("document = ? AND visibility != 'hidden'", (document,), "version_number")

    async def by_uniform_number(self, number: str) -> list[PublicVersion]:
        return await self._select("uniform_number = ? AND visibility = 'searchable'", (number,), "name")

    async def search(self, query: SearchQuery) -> SearchResult:
        return await self._db.read(lambda conn: _search(conn, self._generation, query))

    async def open_consultations(self, day: dt.date, offset: int, limit: int) -> tuple[list[PublicVersion], int]:
        iso = day.isoformat()
        where = "visibility = 'consultation' AND comment_start <= ? AND comment_end >= ?"

        def work(conn: sqlite3.Connection) -> tuple[list[PublicVersion], int]:
            versions = _tables(self._generation).versions
            rows = conn.execute(
                f"SELECT payload FROM {versions} WHERE {where} ORDER BY comment_end, name LIMIT ? OFFSET ?",
                (iso, iso, limit, offset),
            ).fetchall()
            total = conn.execute(f"SELECT count(*) FROM {versions} WHERE {where}", (iso, iso)).fetchone()[0]
            return _payloads(rows), int(total)

        return await self._db.read(work)

    async def entries(self) -> dict[str, tuple[int, PublicVersion | None]]:
        rows = await self._db.read(
            lambda conn: conn.execute(
                f"SELECT name, sequence, payload FROM {_tables(self._generation).versions}"
            ).fetchall()
        )
        return {
            r["name"]: (int(r["sequence"]), decode_version(json.loads(r["payload"])) if r["payload"] else None)
            for r in rows
        }

    async def begin_rebuild(self) -> IndexBuild:
        def work(conn: sqlite3.Connection) -> int:
            target = self._generation + 1
            _drop(conn, target)  # left over by a rebuild that did not finish
            _create(conn, target)
            return target

        return _SqliteBuild(self, await self._db.transaction(work))

    async def _switch(self, target: int) -> None:
        def work(conn: sqlite3.Connection) -> None:
            old = self._generation
            conn.execute("UPDATE search_meta SET value = ? WHERE key = 'generation'", (str(target),))
            _drop(conn, old)
            # Still on the database's thread: the next statement of anyone sees the new generation.
            self._generation = target

        old = self._generation
        try:
            await self._db.transaction(work)
        except BaseException:
            self._generation = old
            raise

    async def _apply_to(self, generation: int, changes: Sequence[VersionChange]) -> int:
        return await self._db.transaction(lambda conn: _apply(conn, generation, changes))

    async def _drop(self, generation: int) -> None:
        await self._db.transaction(lambda conn: _drop(conn, generation))


class _SqliteBuild(IndexBuild):
    def __init__(self, index: SqliteFtsIndex, generation: int) -> None:
        self._index = index
        self._generation = generation

    async def apply(self, changes: Sequence[VersionChange]) -> int:
        return await self._index._apply_to(self._generation, changes)

    async def switch(self) -> None:
        await self._index._switch(self._generation)

    async def abort(self) -> None:
        await self._index._drop(self._generation)
