# ruff: noqa: S608  -- SQL text is built only from generation numbers and fixed column names;
# every value is a bound parameter.
"""The embedded index: SQLite FTS5 in `{data_dir}/search.db`, standard library only.

Each physical index is a generation of three tables: `g{n}_versions` (the public views, compressed,
their filter columns and the last applied sequence), `g{n}_articles` (one row per article of a
searchable version: its title, label, text and characters as token streams; a version without
articles is one row) and `g{n}_titles` (titles alone, with the keys of the full and the short title).

`g{n}_articles` keeps no copy of its token streams (an FTS5 contentless table: the streams of a
version's text were 60 % of the index's bytes, and nothing reads them back). Deleting a row from it
needs the streams it was indexed with, which are made again from the public view the versions table
keeps, by the same analysis; so a generation records the analysis it was written with
(`analysis.VERSION`), and one written with another is re-tokenised when the index opens.
`search_meta.generation` names the live one; a rebuild fills `g{n+1}` and switches that row in one
transaction.

Ranking: articles are scored with bm25() over every term of the query (an OR), restricted to those
holding `minimum_should_match` of the terms (one MATCH per term, counted); a version matches by such
an article or by its title holding a piece of the query; it scores as its best article, plus its
title's own bm25 (titles get their own length normalisation, as
Elasticsearch does per field), plus a constant when its title is the query or the law the query
names, so that title ranks first.

The FTS5 `ascii` tokenizer splits on ASCII white space and punctuation only, so the tokens made by
`analysis` (CJK bigrams and characters, lower-case letter/digit words) are indexed as they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import sqlite3
import time
import zlib
from collections.abc import Sequence
from typing import Any, NamedTuple

from normreg_common import packing
from normreg_common.sqlite import Database, ReadStopped

from normreg_search import analysis, understanding
from normreg_search.budget import SearchTooLong
from normreg_search.index.port import (
    IndexBuild,
    OnCommit,
    SearchIndex,
    article_rows,
    decode_version,
    effective_states,
    encode_version,
    highest_counts,
    latest_per_version,
)
from normreg_search.model import CommentCount, PublicVersion, VersionChange, Visibility
from normreg_search.query import (
    COMMON_ARTICLES,
    FACET_ISSUING_BODIES,
    FACET_KINDS,
    FACET_STATES,
    FACET_YEARS,
    Clause,
    Field,
    ParsedQuery,
    SearchQuery,
    SearchResult,
    Sort,
    Term,
    rarest,
    relaxed_tokens,
    short_key,
    term_frequency,
    typed_title_phrases,
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

# bm25() column weights. The articles table (label, body, chars) scores articles; the titles table
# (title, key, short) scores titles by their words. The keys (whole titles as one token) rank
# through TITLE_KEY_BONUS; where a title's score asks for its short key (ParsedQuery.subjects) the
# key only chooses the title, it adds nothing.
ARTICLE_WEIGHTS = (2.0, 1.0, 0.3)
TITLE_WEIGHTS = (1.0, 0.0, 0.0)
TITLE_FACTOR = 6.0
# A title that is the query, or the law it names, ranks first.
TITLE_KEY_BONUS = 1000.0
# An article holding a long typed clause verbatim (ParsedQuery.verbatim): above any sum of shared
# bigrams, below a title the query names.
VERBATIM_BONUS = 500.0
MAX_FACET_VALUES = 50


class _Tables(NamedTuple):
    versions: str
    articles: str
    titles: str


def _tables(generation: int) -> _Tables:
    return _Tables(f"g{generation}_versions", f"g{generation}_articles", f"g{generation}_titles")


# An article's rowid is its version's id * ARTICLES_PER_VERSION + its position: the version's rows
# are one rowid range (deleted as one), and the version is rowid / ARTICLES_PER_VERSION.
ARTICLES_PER_VERSION = 10_000


def _vocab(generation: int) -> str:
    return f"g{generation}_vocab"


def _facets(generation: int) -> str:
    return f"g{generation}_facets"


def _facet_ddl(versions: str, facets: str) -> list[str]:
    """The searchable versions counted by state, kind, issuing body and year, kept by triggers with
    every write: the listing with no text and no date filter reads its facets from these few rows
    instead of counting every version in force (which grows with the corpus)."""
    key = "state = {0}.state AND kind = {0}.kind AND issuing_body = {0}.issuing_body AND year = coalesce({0}.year, '')"
    add = (
        f"INSERT INTO {facets} (state, kind, issuing_body, year, n) "
        "SELECT new.state, new.kind, new.issuing_body, coalesce(new.year, ''), 1 WHERE new.visibility = 'searchable' "
        "ON CONFLICT DO UPDATE SET n = n + 1;"
    )
    remove = (
        f"UPDATE {facets} SET n = n - 1 WHERE old.visibility = 'searchable' AND {key.format('old')}; "
        f"DELETE FROM {facets} WHERE n <= 0 AND {key.format('old')};"
    )
    return [
        f"""CREATE TABLE IF NOT EXISTS {facets} (
            state TEXT NOT NULL,
            kind TEXT NOT NULL,
            issuing_body TEXT NOT NULL,
            year TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (state, kind, issuing_body, year)
        ) WITHOUT ROWID""",
        f"CREATE TRIGGER IF NOT EXISTS {facets}_insert AFTER INSERT ON {versions} BEGIN {add} END",
        f"CREATE TRIGGER IF NOT EXISTS {facets}_delete AFTER DELETE ON {versions} BEGIN {remove} END",
        f"CREATE TRIGGER IF NOT EXISTS {facets}_update "
        f"AFTER UPDATE OF visibility, state, kind, issuing_body, year ON {versions} BEGIN {remove} {add} END",
    ]


# Tables of earlier layouts, dropped with their generation.
_OLD_TABLES = ("fts",)


def _weights(weights: tuple[float, ...]) -> str:
    return ", ".join(str(w) for w in weights)


def _create(conn: sqlite3.Connection, generation: int) -> None:
    versions, articles, titles = _tables(generation)
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
            payload TEXT,
            view_hash TEXT
        );
        CREATE INDEX IF NOT EXISTS {versions}_document ON {versions} (document, version_number);
        CREATE INDEX IF NOT EXISTS {versions}_number ON {versions} (uniform_number) WHERE uniform_number != '';
        CREATE INDEX IF NOT EXISTS {versions}_comment ON {versions} (visibility, comment_end);
        CREATE INDEX IF NOT EXISTS {versions}_state ON {versions} (visibility, state, promulgation_date);
        CREATE INDEX IF NOT EXISTS {versions}_listing ON {versions} (
            visibility, state, promulgation_date IS NULL, promulgation_date DESC, name
        );
        CREATE VIRTUAL TABLE IF NOT EXISTS {articles} USING fts5(
            label, body, chars, tokenize = 'ascii', content = ''
        );
        CREATE VIRTUAL TABLE IF NOT EXISTS {titles} USING fts5(title, key, short, tokenize = 'ascii');
        CREATE VIRTUAL TABLE IF NOT EXISTS {_vocab(generation)} USING fts5vocab({articles}, 'row');
        """
    for statement in ddl.split(";"):
        if statement.strip():
            conn.execute(statement)
    if "view_hash" not in {str(r[1]) for r in conn.execute(f"PRAGMA table_info({versions})")}:
        # A generation written before views were hashed: its rows hold none, so the first event of
        # each version is applied in full, as before, and hashes it.
        conn.execute(f"ALTER TABLE {versions} ADD COLUMN view_hash TEXT")
    facets = _facets(generation)
    counted = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (facets,)).fetchone() is not None
    for statement in _facet_ddl(versions, facets):
        conn.execute(statement)
    if not counted:  # a generation written before the counts were kept: counted once, here
        conn.execute(
            f"INSERT INTO {facets} (state, kind, issuing_body, year, n) "
            f"SELECT state, kind, issuing_body, coalesce(year, ''), count(*) FROM {versions} "
            "WHERE visibility = 'searchable' GROUP BY 1, 2, 3, 4"
        )
    conn.execute(
        "INSERT INTO search_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        (_analysis_key(generation), str(analysis.VERSION)),
    )


def _analysis_key(generation: int) -> str:
    """The search_meta row naming the analysis a generation's token streams were made by."""
    return f"g{generation}_analysis"


def _drop(conn: sqlite3.Connection, generation: int) -> None:
    for table in (
        _facets(generation),
        _vocab(generation),
        *_tables(generation),
        *(f"g{generation}_{old}" for old in _OLD_TABLES),
    ):
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute("DELETE FROM search_meta WHERE key = ?", (_analysis_key(generation),))


# Versions re-tokenised at once when an earlier analysis's index is upgraded.
_UPGRADE_PAGE = 500


def _upgrade(conn: sqlite3.Connection, generation: int) -> None:
    """A generation written by an earlier layout (one row per version, no articles table, or an
    articles table keeping its token streams) or by another analysis is re-tokenised from the public
    views it stores, in place."""
    versions, articles, titles = _tables(generation)
    old = f"g{generation}_fts"
    schema = {
        str(r["name"]): str(r["sql"] or "")
        for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE name IN (?, ?)", (old, articles))
    }
    if not schema:
        return  # a generation not created yet
    made_by = conn.execute("SELECT value FROM search_meta WHERE key = ?", (_analysis_key(generation),)).fetchone()
    current = (
        old not in schema
        and "content = ''" in schema.get(articles, "")
        and made_by is not None
        and made_by["value"] == str(analysis.VERSION)
    )
    if current:
        return
    for table in (old, _vocab(generation), articles, titles):
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute("DELETE FROM search_meta WHERE key = ?", (_analysis_key(generation),))
    _create(conn, generation)
    # A page of views at a time, each page one run of inserts: all of them at once held every
    # version's text in memory (gigabytes at a million), and one at a time made a segment each.
    after = -1
    while page := conn.execute(
        f"SELECT id, payload FROM {versions} WHERE visibility = 'searchable' AND id > ? ORDER BY id LIMIT ?",
        (after, _UPGRADE_PAGE),
    ).fetchall():
        _insert_texts(conn, generation, [(int(row["id"]), _decode(row["payload"])) for row in page])
        after = int(page[-1]["id"])


def _article_streams(v: PublicVersion) -> list[tuple[str, str, str]]:
    """What the articles table indexes of a version, row by row: also what deleting them needs."""
    return [
        (label, analysis.bigram_stream(text), analysis.unigram_stream(chars_of))
        for label, text, chars_of in article_rows(v, ARTICLES_PER_VERSION)
    ]


def _insert_texts(conn: sqlite3.Connection, generation: int, views: Sequence[tuple[int, PublicVersion]]) -> None:
    """Indexes the text of each (rowid, view): every article of them, then every title, each table
    in one run of inserts. FTS5 keeps what is inserted in memory and writes it out as a segment when
    a statement opens a savepoint on the transaction (a write to another table does: the versions
    table's facet triggers): inserted a version at a time between such writes, every version became
    a segment of its own, and merging those was a third of the index's CPU."""
    _, articles, titles = _tables(generation)
    conn.executemany(
        f"INSERT INTO {articles} (rowid, label, body, chars) VALUES (?, ?, ?, ?)",
        [
            (rowid * ARTICLES_PER_VERSION + i, *streams)
            for rowid, v in views
            for i, streams in enumerate(_article_streams(v))
        ],
    )
    conn.executemany(
        f"INSERT INTO {titles} (rowid, title, key, short) VALUES (?, ?, ?, ?)",
        [
            (rowid, analysis.bigram_stream(v.title), analysis.title_key(v.title), short_key(v.title))
            for rowid, v in views
        ],
    )


def _delete_text(conn: sqlite3.Connection, generation: int, rowid: int, indexed: PublicVersion) -> None:
    """Takes out of the index the text `indexed` was indexed with at `rowid`."""
    _, articles, titles = _tables(generation)
    base = rowid * ARTICLES_PER_VERSION
    conn.executemany(
        f"INSERT INTO {articles} ({articles}, rowid, label, body, chars) VALUES ('delete', ?, ?, ?, ?)",
        [(base + i, *streams) for i, streams in enumerate(_article_streams(indexed))],
    )
    conn.execute(f"DELETE FROM {titles} WHERE rowid = ?", (rowid,))


def _encode(v: PublicVersion) -> bytes:
    """The public view as kept: JSON, packed (a version's text is most of it, and it is read back
    only for the hits of a page)."""
    return packing.pack_text(json.dumps(encode_version(v), ensure_ascii=False))


# Views kept deflated by zlib for a while before the embedded stores packed with Zstandard; a zlib
# stream never starts with Zstandard's magic number.
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _decode(payload: bytes | str) -> PublicVersion:
    """A kept public view; earlier layouts kept it as JSON text, or deflated."""
    if isinstance(payload, bytes) and not payload.startswith(_ZSTD_MAGIC):
        return decode_version(json.loads(zlib.decompress(payload)))
    return decode_version(json.loads(packing.unpack_text(payload)))


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _text_hash(v: PublicVersion) -> str:
    digest = hashlib.sha256(f"{v.title}\x00{v.body}".encode())
    for article in v.articles:
        digest.update(f"\x00{article.label}\x01{article.text}".encode())
    return digest.hexdigest()[:32]


# A version's fields but its text: the text is hashed as it is, without repr's copy of it.
_VIEW_HEAD = tuple(f.name for f in dataclasses.fields(PublicVersion) if f.name not in ("body", "articles"))


def _view_hash(change: VersionChange) -> str | None:
    """Everything a version's row is written from but its sequence; None for a hidden version. The
    texts are hashed with their lengths, so no two views hash the same input. (The repr of the whole
    view cost twice as much, most of it repr's quoting of the text and an Article's repr each.)"""
    v = change.version
    if v is None:
        return None
    head = repr(tuple(getattr(v, name) for name in _VIEW_HEAD))
    digest = hashlib.sha256(f"{change.document}\x00{head}\x00{len(v.body)}:{v.body}\x00{len(v.articles)}".encode())
    for a in v.articles:
        digest.update(f"{len(a.label)}:{a.label}{len(a.text)}:{a.text}".encode())
    return digest.hexdigest()[:32]


def _apply(conn: sqlite3.Connection, generation: int, changes: Sequence[VersionChange]) -> int:
    versions = _tables(generation).versions
    applied = 0
    taken_out: list[tuple[int, PublicVersion]] = []
    put_in: list[tuple[int, PublicVersion]] = []
    for change in latest_per_version(changes):
        row = conn.execute(
            f"SELECT id, sequence, text_hash, view_hash FROM {versions} WHERE name = ?", (change.name,)
        ).fetchone()
        if row is not None and row["sequence"] >= change.sequence:
            continue
        view_hash = _view_hash(change)
        if row is not None and view_hash is not None and row["view_hash"] == view_hash:
            # An event that changes nothing public (a scheduler's mark, an internal step) still
            # carries the whole version: only its sequence is recorded, nothing is packed, rewritten
            # or re-tokenised.
            conn.execute(f"UPDATE {versions} SET sequence = ? WHERE id = ?", (change.sequence, row["id"]))
            applied += 1
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
            _encode(v) if v else None,
            view_hash,
        )
        columns = (
            "document, version_number, sequence, visibility, state, kind, issuing_body, uniform_number, "
            "promulgation_date, effective_date, valid_from, valid_to, year, comment_start, comment_end, "
            "text_hash, payload, view_hash"
        )
        # The view whose text is indexed now, read before it is overwritten: taking the text out of
        # the index needs it.
        indexed = None
        if row is not None and row["text_hash"] is not None and row["text_hash"] != new_hash:
            old = conn.execute(f"SELECT payload FROM {versions} WHERE id = ?", (row["id"],)).fetchone()
            indexed = _decode(old["payload"])
        if row is None:
            cursor = conn.execute(
                f"INSERT INTO {versions} (name, {columns}) VALUES (?, {', '.join('?' * len(values))})",
                (change.name, *values),
            )
            rowid = cursor.lastrowid
        else:
            assignments = ", ".join(f"{c.strip()} = ?" for c in columns.split(","))
            conn.execute(f"UPDATE {versions} SET {assignments} WHERE id = ?", (*values, row["id"]))
            rowid = row["id"]
        if indexed is not None and rowid is not None:
            taken_out.append((rowid, indexed))
        if (
            v is not None
            and new_hash is not None
            and (row is None or new_hash != row["text_hash"])
            and rowid is not None
        ):
            put_in.append((rowid, v))
        applied += 1
    # The index's text after every row: see _insert_texts. Each version appears once in a batch, so
    # the order of versions is free; a version's old text goes out before its new one comes in.
    for rowid, indexed in taken_out:
        _delete_text(conn, generation, rowid, indexed)
    _insert_texts(conn, generation, put_in)
    return applied


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


_COLUMNS = {Field.TEXT: "body", Field.CHARS: "chars", Field.LABEL: "label"}


def term_expression(term: Term) -> str:
    alternatives = " OR ".join(_quote(" ".join(tokens)) for tokens in term.alternatives)
    expression = f"{_COLUMNS[term.field]} : ({alternatives})"
    if term.field is Field.LABEL:
        # An article by its label, or a text citing it.
        cited = " OR ".join(_quote(" ".join(analysis.bigram_tokens(t[0]))) for t in term.alternatives)
        expression = f"({expression} OR body : ({cited}))"
    return expression


def _clause_expression(clause: Clause) -> str:
    parts = []
    if clause.tokens:
        parts.append("body : " + _quote(" ".join(clause.tokens)))
    if clause.required_chars:
        parts.append("chars : (" + " AND ".join(_quote(t) for t in clause.required_chars) + ")")
    return " AND ".join(parts)


def match_expression(query: ParsedQuery) -> str:
    """FTS5 query of an article's text: every quoted phrase, and any term (see query.py); the
    verbatim pieces are there to score, not to match. Titles are matched in the titles table."""
    required = [e for clause in query.clauses if (e := _clause_expression(clause))]
    optional = [term_expression(term) for term in query.terms]
    if optional:
        optional += ["body : " + _quote(" ".join(tokens)) for tokens in query.boost_phrases]
        required.append("(" + " OR ".join(optional) + ")")
    return " AND ".join(f"({e})" for e in required)


def title_expression(query: ParsedQuery) -> str:
    """What of the query a title holds (query.typed_title_phrases), or a term's expansion in the
    title of the law that is about exactly it (ParsedQuery.subjects)."""
    parts = [_quote(" ".join(tokens)) for tokens in typed_title_phrases(query)]
    ors = ["title : (" + " OR ".join(parts) + ")"] if parts else []
    ors += [f"(title : {_quote(' '.join(tokens))} AND short : {_quote(key)})" for tokens, key in query.subjects]
    return " OR ".join(ors)


def title_match_expression(query: ParsedQuery) -> str:
    """A title that holds every piece of the query (any, when relaxed) makes its version match."""
    pieces = [_quote(" ".join(tokens)) for tokens in query.title_phrases]
    pieces += [_quote(" ".join(c.tokens)) for c in query.clauses if c.tokens]
    if not pieces:
        return ""
    return "title : (" + (" OR " if query.relaxed else " AND ").join(pieces) + ")"


def key_expression(query: ParsedQuery) -> str:
    keys = []
    if query.key:
        keys.append(f"key : {_quote(query.key)}")
    keys += [f"short : {_quote(k)}" for k in query.short_keys]
    return " OR ".join(keys)


def informative(parsed: ParsedQuery, frequencies: dict[str, int]) -> ParsedQuery:
    """The query without its text terms found in more than COMMON_ARTICLES articles (keeping the
    rarest when all are), `minimum_should_match` counted over those left."""
    if len(parsed.terms) <= 2:
        return parsed

    def frequency(term: Term) -> int:
        return term_frequency(term, frequencies)

    kept = [t for t in parsed.terms if t.field is not Field.TEXT or frequency(t) <= COMMON_ARTICLES]
    if len(kept) == len(parsed.terms):
        return parsed
    if not any(t.field is Field.TEXT for t in kept):
        kept.append(min((t for t in parsed.terms if t.field is Field.TEXT), key=frequency))
    # What the common words said is kept by the pieces they were typed in, each a phrase (rare as a
    # whole): a sentence pasted from a law still finds that law.
    kept += [Term((tokens,)) for tokens in parsed.boost_phrases if len(tokens) > 2]
    should = min(parsed.minimum_should_match, understanding.minimum_should_match(len(kept)))
    return dataclasses.replace(parsed, terms=tuple(kept), minimum_should_match=should)


def _frequencies(conn: sqlite3.Connection, generation: int, parsed: ParsedQuery) -> dict[str, int]:
    """How many articles hold each token `informative`, or for a relaxed query `rarest`, weighs."""
    tokens = (
        relaxed_tokens(parsed)
        if parsed.relaxed
        else sorted({t for term in parsed.terms if term.field is Field.TEXT for alt in term.alternatives for t in alt})
    )
    if (len(parsed.terms) <= 2 and not parsed.relaxed) or not tokens:
        return {}
    rows = conn.execute(
        f"SELECT term, doc FROM {_vocab(generation)} WHERE term IN ({', '.join('?' * len(tokens))})", tokens
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def _matching(tables: _Tables, parsed: ParsedQuery) -> tuple[str, list[Any]]:
    """A subquery of (id, s): the versions matching, each with its best article's score."""
    articles, titles = tables.articles, tables.titles
    sql = (
        f"SELECT rowid / {ARTICLES_PER_VERSION} AS id, -bm25({articles}, {_weights(ARTICLE_WEIGHTS)}) AS s, "
        f"rowid % {ARTICLES_PER_VERSION} AS pos FROM {articles} WHERE {articles} MATCH ?"
    )
    args: list[Any] = [match_expression(parsed)]
    if parsed.minimum_should_match > 1:
        each = " UNION ALL ".join(f"SELECT rowid FROM {articles} WHERE {articles} MATCH ?" for _ in parsed.terms)
        # `+rowid`: a plain rowid constraint would make FTS5 run the MATCH once per listed row.
        sql += f" AND +rowid IN (SELECT rowid FROM ({each}) GROUP BY rowid HAVING count(*) >= ?)"
        args += [term_expression(term) for term in parsed.terms]
        args.append(parsed.minimum_should_match)
    # A version whose title holds the query (or a piece of it, or is the law it names) matches too.
    by_title = " OR ".join(f"({e})" for e in (title_match_expression(parsed), key_expression(parsed)) if e)
    if by_title:
        sql += f" UNION ALL SELECT rowid AS id, 0.0 AS s, NULL AS pos FROM {titles} WHERE {titles} MATCH ?"
        args.append(by_title)
    # SQLite gives the bare column `pos` from the row holding the max(): the best article. `count(pos)`:
    # the articles matched (a title's row has no position).
    return f"SELECT id, max(s) AS s, pos, count(pos) AS c FROM ({sql}) GROUP BY id", args


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


# The listing's order (no text, one state: the portal's first page) is the `_listing` index's, so a
# page reads its rows and no more; keep the two alike.
_ORDER = {
    Sort.PROMULGATION_DATE_DESC: "v.promulgation_date IS NULL, v.promulgation_date DESC, v.name",
    Sort.EFFECTIVE_DATE_DESC: "v.effective_date IS NULL, v.effective_date DESC, v.name",
}


_FACET_ORDER = (FACET_STATES, FACET_KINDS, FACET_ISSUING_BODIES, FACET_YEARS)
# A search's total and facets from its grouped rows (state, kind, body, year, whether the row passes
# each dimension's filter, count) in one row: each facet counts what passes the other dimensions'
# filters, keeps its largest values, and all of it comes back as one JSON text. Returned as rows, the
# groups (hundreds a search) each waited for the interpreter's lock while the event loop was busy.
_FACETS = """
WITH g(state, kind, body, year, fs, fk, fb, n) AS MATERIALIZED ({grouped}),
c(facet, value, n) AS (
    SELECT 0, state, sum(n) FROM g WHERE fk AND fb GROUP BY state
    UNION ALL SELECT 1, kind, sum(n) FROM g WHERE fs AND fb GROUP BY kind
    UNION ALL SELECT 2, body, sum(n) FROM g WHERE fs AND fk GROUP BY body
    UNION ALL SELECT 3, year, sum(n) FROM g WHERE fs AND fk AND fb GROUP BY year
),
ranked AS (
    SELECT facet, value, n, row_number() OVER (PARTITION BY facet ORDER BY n DESC, value) AS r
    FROM c WHERE value IS NOT NULL AND value != ''
)
SELECT (SELECT coalesce(sum(n), 0) FROM g WHERE fs AND fk AND fb),
       (SELECT json_group_array(json_array(facet, value, n)) FROM ranked WHERE r <= ?)
"""


def _search(conn: sqlite3.Connection, generation: int, query: SearchQuery) -> SearchResult:
    tables = _tables(generation)
    versions, titles = tables.versions, tables.titles
    parsed = query.parsed
    if not parsed.empty and not parsed.matchable:
        return SearchResult(hits=(), total=0, facets={})
    filters = _Filters(query)
    where, where_args = filters.where()
    source_args: list[Any] = []
    best = "NULL"
    matched_articles = "0"
    if parsed.empty:
        source, score = f"{versions} v", "0.0"
    else:
        frequencies = _frequencies(conn, generation, parsed)
        parsed = rarest(parsed, frequencies) if parsed.relaxed else informative(parsed, frequencies)
        matched, source_args = _matching(tables, parsed)
        source = f"({matched}) m JOIN {versions} v ON v.id = m.id"
        score = "m.s"
        best = "m.pos"
        matched_articles = "m.c"
    # Facets count what matches; only the hits need the ranking below.
    matching, matching_args = source, list(source_args)
    if not parsed.empty:
        # What ranks a version besides its best article, each one row per version holding it: the
        # rows and the matches are summed by version in one grouping. (Joined to the matches, each
        # of these was read again for every version matched: a search matching thousands of
        # versions took seconds where one matching a few took milliseconds.)
        ranks: list[str] = []
        rank_args: list[Any] = []
        title = title_expression(parsed)
        if title:
            ranks.append(
                f"SELECT rowid, NULL, NULL, 0, -bm25({titles}, {_weights(TITLE_WEIGHTS)}), 0, 0, 0 FROM {titles} "
                f"WHERE {titles} MATCH ?"
            )
            rank_args.append(title)
        if parsed.verbatim:
            # Phrase matches of the whole run: cheap, the rarest bigram of it bounds the rows read.
            held = " OR ".join(_quote(" ".join(tokens)) for tokens in parsed.verbatim_tokens)
            ranks.append(
                f"SELECT DISTINCT rowid / {ARTICLES_PER_VERSION}, NULL, NULL, 0, NULL, 1, 0, 0 FROM {tables.articles} "
                f"WHERE {tables.articles} MATCH ?"
            )
            rank_args.append(f"body : ({held})")
        keys = key_expression(parsed)
        if keys:
            ranks.append(f"SELECT rowid, NULL, NULL, 0, NULL, 0, 1, 0 FROM {titles} WHERE {titles} MATCH ?")
            rank_args.append(keys)
            if parsed.key:
                # The title typed in full ranks above the laws the query names by short title.
                ranks.append(f"SELECT rowid, NULL, NULL, 0, NULL, 0, 0, 1 FROM {titles} WHERE {titles} MATCH ?")
                rank_args.append(f"key : {_quote(parsed.key)}")
        if ranks:
            # `count(s)`: only the matches carry a score (0.0 for a title's); the rows of `ranks`
            # rank what matches and match nothing themselves.
            united = " UNION ALL ".join(
                [f"SELECT id, s, pos, c, NULL AS t, 0 AS p, 0 AS k, 0 AS x FROM ({matched})", *ranks]
            )
            ranked = (
                "SELECT id, sum(s) AS s, max(pos) AS pos, max(c) AS c, sum(t) AS t, max(p) AS p, max(k) AS k, "
                "max(x) AS x "
                f"FROM ({united}) GROUP BY id HAVING count(s) > 0"
            )
            source = f"({ranked}) m JOIN {versions} v ON v.id = m.id"
            source_args = [*source_args, *rank_args]
            score = (
                f"m.s + {TITLE_FACTOR} * coalesce(m.t, 0.0) + {VERBATIM_BONUS} * m.p + {TITLE_KEY_BONUS} * m.k "
                f"+ {TITLE_KEY_BONUS} * m.x"
            )
    order = _ORDER.get(query.sort)
    if order is None:
        order = f"{score} DESC, v.name" if not parsed.empty else _ORDER[Sort.PROMULGATION_DATE_DESC]
    # The page is chosen first and only its payloads read: a sort that carried every matching row's
    # payload (its whole text) would read and copy the text of every version that matches.
    rows = conn.execute(
        f"SELECT v.id, {score} AS score, {best} AS best, {matched_articles} AS matched FROM {source} WHERE {where} "
        f"ORDER BY {order} LIMIT ? OFFSET ?",
        [*source_args, *where_args, query.limit, query.offset],
    ).fetchall()
    ids = [int(r["id"]) for r in rows]
    payloads = dict(
        conn.execute(f"SELECT id, payload FROM {versions} WHERE id IN ({', '.join('?' * len(ids))})", ids).fetchall()
    )
    hits = tuple(
        SearchHit(
            _decode(payloads[int(r["id"])]),
            float(r["score"]),
            (int(r["best"]),) if r["best"] is not None else (),
            int(r["matched"] or 0),
        )
        for r in rows
    )
    # Facets and total in one pass: group by the facet values and whether each dimension's filter holds.
    flags, flag_args = filters.selected_flags()
    if parsed.empty and filters.common == ["v.visibility = 'searchable'"] and _counted(conn, generation):
        # Only the facet dimensions filter this listing: the counts kept with every write answer it.
        grouped = (
            f"SELECT v.state, v.kind, v.issuing_body, v.year, {', '.join(flags)}, sum(v.n) "
            f"FROM {_facets(generation)} v GROUP BY 1, 2, 3, 4, 5, 6, 7"
        )
        grouped_args = flag_args
    else:
        grouped = (
            f"SELECT v.state, v.kind, v.issuing_body, v.year, {', '.join(flags)}, count(*) "
            f"FROM {matching} WHERE {' AND '.join(filters.common)} GROUP BY 1, 2, 3, 4, 5, 6, 7"
        )
        grouped_args = [*flag_args, *matching_args, *filters.common_args]
    total, counted = conn.execute(_FACETS.format(grouped=grouped), [*grouped_args, MAX_FACET_VALUES]).fetchone()
    counters: dict[str, list[tuple[str, int]]] = {name: [] for name in _FACET_ORDER}
    for facet, value, n in json.loads(counted):
        counters[_FACET_ORDER[facet]].append((str(value), int(n)))
    facets = {name: tuple(sorted(pairs, key=lambda kc: (-kc[1], kc[0]))) for name, pairs in counters.items()}
    return SearchResult(hits=hits, total=int(total), facets=facets)


def _counted(conn: sqlite3.Connection, generation: int) -> bool:
    """Whether the generation keeps its facet counts (a reading process may open a file whose
    writer has not yet added them)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (_facets(generation),)).fetchone() is not None


def _current_generation(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM search_meta WHERE key = 'generation'").fetchone()
    if row is None:
        raise RuntimeError("the search index has no generation yet: its writing process has not opened it")
    return int(row["value"])


def _payloads(rows: Sequence[sqlite3.Row]) -> list[PublicVersion]:
    return [_decode(r["payload"]) for r in rows]


class SqliteFtsIndex(SearchIndex):
    def __init__(self, db: Database) -> None:
        """`db` is search.db, opened by the caller with META_SCHEMA (and the inbox schema); its reads
        may run on a connection of their own (Database's `separate_reads`)."""
        self._db = db
        # The generation this process writes to; reads take theirs from the snapshot they read.
        self._generation = 0
        # Opened for reading only: the writing process may switch generations at any time.
        self._following = False

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
            _upgrade(conn, generation)
            _create(conn, generation)
            if row is None:
                conn.execute("INSERT INTO search_meta (key, value) VALUES ('generation', ?)", (str(generation),))
            return generation

        self._generation = await self._db.transaction(work)

    async def open_for_reading(self) -> None:
        self._following = True
        self._generation = await self._db.read(_current_generation)

    def _live(self, conn: sqlite3.Connection) -> int:
        """The generation to read, as the read's own snapshot names it: a rebuild (another
        process's, or this one's writes on their own connection) may have switched it and dropped
        the one before since the last read."""
        generation = _current_generation(conn)
        if self._following:
            self._generation = generation
        return generation

    async def close(self) -> None:
        return None

    # Every method names its tables inside the function that runs on the database's thread, from
    # the generation its own snapshot names (the switch and the drop are one commit): no read can
    # see a generation that was just dropped.

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
            versions = _tables(self._live(conn)).versions
            return conn.execute(f"SELECT payload FROM {versions} WHERE {where} ORDER BY {order}", args).fetchall()

        return _payloads(await self._db.read(work))

    async def get(self, name: str) -> PublicVersion | None:
        found = await self._select("name = ? AND visibility != 'hidden'", (name,), "name")
        return found[0] if found else None

    async def versions_of(self, document: str) -> list[PublicVersion]:
        return await self._select("document = ? AND visibility != 'hidden'", (document,), "version_number")

    async def by_uniform_number(self, number: str) -> list[PublicVersion]:
        return await self._select("uniform_number = ? AND visibility = 'searchable'", (number,), "name")

    async def search(
        self, query: SearchQuery, *, deadline: float | None = None, budget_s: float | None = None
    ) -> SearchResult:
        def search(conn: sqlite3.Connection) -> SearchResult:
            started = time.monotonic()
            result = _search(conn, self._live(conn), query)
            return dataclasses.replace(result, ran_s=time.monotonic() - started)

        try:
            return await self._db.read(search, deadline=deadline, budget_s=budget_s)
        except ReadStopped:
            raise SearchTooLong() from None

    async def open_consultations(self, day: dt.date, offset: int, limit: int) -> tuple[list[PublicVersion], int]:
        iso = day.isoformat()
        where = "visibility = 'consultation' AND comment_start <= ? AND comment_end >= ?"

        def work(conn: sqlite3.Connection) -> tuple[list[PublicVersion], int]:
            versions = _tables(self._live(conn)).versions
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
                f"SELECT name, sequence, payload FROM {_tables(self._live(conn)).versions}"
            ).fetchall()
        )
        return {r["name"]: (int(r["sequence"]), _decode(r["payload"]) if r["payload"] else None) for r in rows}

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
