"""The embedded SQLite FTS5 index against the index contract, plus what is particular to it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import sqlite3
import zlib
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from normreg_common import packing
from normreg_common.inbox import INBOX_SCHEMA
from normreg_common.sqlite import Database
from normreg_search import analysis
from normreg_search.index import sqlite_fts
from normreg_search.index.port import SearchIndex
from normreg_search.index.sqlite_fts import META_SCHEMA, SqliteFtsIndex
from normreg_search.model import Article, PublicVersion
from normreg_search.query import RELAXED_TERMS, ParsedQuery, SearchQuery

from tests.search.contract import ALL, COMMON, COMMON_QUERY, IndexContract
from tests.search.helpers import change, hidden, public


class TestSqliteFtsIndex(IndexContract):
    @pytest.fixture
    async def index(self, tmp_path: Path) -> AsyncIterator[SearchIndex]:
        db = Database(tmp_path / "search.db", INBOX_SCHEMA + META_SCHEMA)
        await db.open()
        index = SqliteFtsIndex(db)
        await index.open()
        yield index
        await index.close()
        await db.close()


async def test_the_index_and_its_generation_survive_a_restart(tmp_path: Path) -> None:
    db = Database(tmp_path / "search.db", META_SCHEMA)
    await db.open()
    index = SqliteFtsIndex(db)
    await index.open()
    build = await index.begin_rebuild()
    await build.apply([change(v) for v in ALL])
    await build.switch()
    before = await index.entries()
    await db.close()

    db = Database(tmp_path / "search.db", META_SCHEMA)
    await db.open()
    reopened = SqliteFtsIndex(db)
    await reopened.open()
    assert reopened.generation == 2
    assert await reopened.entries() == before
    await db.close()


async def test_positions_commit_with_the_writes_or_not_at_all(tmp_path: Path) -> None:
    db = Database(tmp_path / "search.db", META_SCHEMA)
    await db.open()
    index = SqliteFtsIndex(db)
    await index.open()

    def fail(conn: object) -> None:
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        await index.apply([change(ALL[0])], on_commit=fail)
    assert await index.entries() == {}
    await db.close()


async def _opened(path: Path) -> tuple[Database, SqliteFtsIndex]:
    db = Database(path, META_SCHEMA)
    await db.open()
    index = SqliteFtsIndex(db)
    await index.open()
    return db, index


def _postings(path: Path, generation: int, token: str) -> int:
    """Rows of the articles table holding `token`, as the index itself counts them."""
    conn = sqlite3.connect(path)
    row = conn.execute(f"SELECT doc FROM g{generation}_vocab WHERE term = ?", (token,)).fetchone()  # noqa: S608
    conn.close()
    return int(row[0]) if row else 0


async def test_a_version_whose_text_changes_leaves_nothing_of_its_old_text_in_the_index(tmp_path: Path) -> None:
    # The articles table keeps no copy of what it indexed: a row is taken out by making its streams
    # again. Anything left behind would still match, so the index's own counts must fall to zero.
    path = tmp_path / "search.db"
    db, index = await _opened(path)
    first = public("rule1", body="第一条 共享单车停放管理。\n第二条 违者罚款。")
    await index.apply([change(first, 1)])
    assert _postings(path, 1, "单车") == 1
    second = dataclasses.replace(public("rule1", body="第一条 城市道路停车管理。"), title="赤峰市城市道路停车管理办法")
    await index.apply([change(second, 2)])
    assert (_postings(path, 1, "单车"), _postings(path, 1, "罚款"), _postings(path, 1, "停车")) == (0, 0, 1)
    assert (await index.search(SearchQuery(text="共享单车"))).total == 0
    assert (await index.search(SearchQuery(text="城市道路停车"))).total == 1
    await index.apply([hidden("rule1", 1, 3)])
    assert _postings(path, 1, "停车") == 0
    assert (await index.search(SearchQuery(text="城市道路停车"))).total == 0
    await db.close()


# 2: versions are re-tokenised a page at a time (the page size of the test), and none is missed.
@pytest.mark.parametrize("page", [sqlite_fts._UPGRADE_PAGE, 2])
async def test_a_generation_written_with_its_token_streams_is_retokenised_on_open(
    tmp_path: Path, page: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_fts, "_UPGRADE_PAGE", page)
    path = tmp_path / "search.db"
    db, index = await _opened(path)
    await index.apply([change(v) for v in ALL])
    expected = await index.search(SearchQuery(text="规范性文件"))
    by_title = [await index.search(SearchQuery(text=v.title)) for v in ALL]
    await db.close()
    # The earlier layout: an articles table keeping its streams, no record of the analysis.
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE g1_vocab")
    conn.execute("DROP TABLE g1_articles")
    conn.execute("CREATE VIRTUAL TABLE g1_articles USING fts5(label, body, chars, tokenize = 'ascii')")
    conn.execute("DELETE FROM search_meta WHERE key = 'g1_analysis'")
    conn.commit()
    conn.close()

    db, reopened = await _opened(path)
    assert await reopened.search(SearchQuery(text="规范性文件")) == expected
    assert expected.total > 0
    assert [await reopened.search(SearchQuery(text=v.title)) for v in ALL] == by_title
    assert sum(r.total for r in by_title) > 0
    await db.close()
    conn = sqlite3.connect(path)
    schema = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'g1_articles'").fetchone()[0]
    made_by = conn.execute("SELECT value FROM search_meta WHERE key = 'g1_analysis'").fetchone()[0]
    conn.close()
    assert "content = ''" in schema
    assert made_by == str(analysis.VERSION)


async def test_a_generation_made_by_another_analysis_is_retokenised_on_open(tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    db, index = await _opened(path)
    await index.apply([change(public("rule1", body="第一条 共享单车停放管理。"))])
    await db.close()
    conn = sqlite3.connect(path)
    # As if an older analysis had made other streams: a token the current one never makes.
    conn.execute("INSERT INTO g1_articles (rowid, label, body, chars) VALUES (99, '', 'zzstale', '')")
    conn.execute("UPDATE search_meta SET value = '0' WHERE key = 'g1_analysis'")
    conn.commit()
    conn.close()

    db, _ = await _opened(path)
    await db.close()
    assert _postings(path, 1, "zzstale") == 0
    assert _postings(path, 1, "单车") == 1


def test_the_streams_of_a_sample_are_those_of_this_analysis_version() -> None:
    # The embedded index takes a row out by making its streams again. If this fails, the analysis
    # (or the articles' rows) changed: raise analysis.VERSION, so an index made by the old one is
    # re-tokenised when it opens, and record the new digest here.
    sample = [
        public(
            "a",
            title="中华人民共和国刑法修正案（九）",
            body="第一条 ＧＢ／Ｔ 7714—2015，自2020年3月起施行。\n第二条 税",
        ),
        public("b", body="没有条文的正文 Straße ДОМ 〇 𠀁"),
    ]
    digest = hashlib.sha256(repr([sqlite_fts._article_streams(v) for v in sample]).encode()).hexdigest()[:16]
    assert (analysis.VERSION, digest) == (1, "f3b66ccef55ae4eb")


async def test_views_kept_as_text_or_deflated_by_earlier_layouts_still_read(tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    db, index = await _opened(path)
    await index.apply([change(v) for v in ALL])
    expected = await index.entries()
    await db.close()
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT id, payload FROM g1_versions WHERE payload IS NOT NULL ORDER BY id").fetchall()
    assert rows
    for n, (rowid, payload) in enumerate(rows):
        text = bytes(packing.unpack_text(payload)).decode()
        kept: str | bytes = text if n % 2 else zlib.compress(text.encode(), 1)
        conn.execute("UPDATE g1_versions SET payload = ? WHERE id = ?", (kept, rowid))
    conn.commit()
    conn.close()

    db, reopened = await _opened(path)
    assert await reopened.entries() == expected
    await db.close()


async def test_an_event_that_changes_nothing_public_records_its_sequence_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A scheduler's mark (filing overdue, evaluation due) carries the whole version again; when the
    # public view is the one indexed, nothing is packed, rewritten or re-tokenised.
    path = tmp_path / "search.db"
    db, index = await _opened(path)
    first = public("rule1", body="第一条 共享单车停放管理。")
    await index.apply([change(first, 1)])
    conn = sqlite3.connect(path)
    before = conn.execute("SELECT payload, text_hash, view_hash FROM g1_versions").fetchall()
    calls: list[str] = []
    encode, insert_texts = sqlite_fts._encode, sqlite_fts._insert_texts

    def inserting(conn: sqlite3.Connection, generation: int, views: list[tuple[int, PublicVersion]]) -> None:
        calls.extend("insert_text" for _ in views)
        insert_texts(conn, generation, views)

    monkeypatch.setattr(sqlite_fts, "_encode", lambda v: calls.append("encode") or encode(v))
    monkeypatch.setattr(sqlite_fts, "_insert_texts", inserting)

    await index.apply([change(first, 2)])
    assert calls == []
    assert conn.execute("SELECT payload, text_hash, view_hash FROM g1_versions").fetchall() == before
    assert conn.execute("SELECT sequence FROM g1_versions").fetchone()[0] == 2
    assert _postings(path, 1, "单车") == 1
    # The sequence moved on: an older copy of the version is still ignored.
    await index.apply([change(dataclasses.replace(first, title="旧标题"), 2)])
    assert (await index.get(first.name)) == first

    # A mark that changes what is public (the state) rewrites the row, but its text stays indexed as it is.
    repealed = dataclasses.replace(first, state="REPEALED")
    await index.apply([change(repealed, 3)])
    assert calls == ["encode"]
    assert (await index.get(first.name)) == repealed
    assert conn.execute("SELECT sequence, state FROM g1_versions").fetchone() == (3, "REPEALED")
    assert _postings(path, 1, "单车") == 1
    assert (await index.search(SearchQuery(text="共享单车", states=frozenset({"REPEALED"})))).total == 1
    assert (await index.search(SearchQuery(text="共享单车"))).total == 0  # in force only, by default
    conn.close()
    await db.close()


async def test_a_generation_written_before_views_were_hashed_gets_them_as_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    db, index = await _opened(path)
    first = public("rule1", body="第一条 共享单车停放管理。")
    await index.apply([change(first, 1)])
    await db.close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE g1_versions DROP COLUMN view_hash")
    conn.commit()

    db, index = await _opened(path)
    await index.apply([change(first, 2)])  # no hash kept: applied in full, and hashed
    assert conn.execute("SELECT sequence, view_hash IS NOT NULL FROM g1_versions").fetchone() == (2, 1)
    assert (await index.get(first.name)) == first
    assert _postings(path, 1, "单车") == 1
    conn.close()
    await db.close()


PIECES = st.text(alphabet="ab:0\x00\x01", max_size=3)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(st.tuples(PIECES, PIECES, st.lists(st.tuples(PIECES, PIECES), max_size=3)), min_size=2, max_size=2),
    state=st.sampled_from(["IN_FORCE", "IN_FORCE", "REPEALED"]),
)
def test_two_views_hash_alike_only_when_they_are_equal(
    texts: list[tuple[str, str, list[tuple[str, str]]]], state: str
) -> None:
    # Text split differently between title, body and articles is another view: an event that moves
    # it must be written, never taken for a view already indexed.
    views = [
        dataclasses.replace(
            public("rule1"),
            title=title,
            body=body,
            articles=tuple(Article(label, text) for label, text in articles),
            state=state if i else "IN_FORCE",
        )
        for i, (title, body, articles) in enumerate(texts)
    ]
    first, second = (sqlite_fts._view_hash(change(v)) for v in views)
    assert (first == second) == (views[0] == views[1])


def _segments(path: Path, table: str) -> int:
    """Segments of an FTS5 table: each %_data row past the structure and averages records belongs to
    a segment, its id the rowid's bits above the page number, height and doclist-index flag."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(f"SELECT DISTINCT id >> 37 FROM {table}_data WHERE id > 10").fetchall()  # noqa: S608
    return len(rows)


async def test_a_batch_of_versions_is_indexed_as_one_segment_of_each_text_table(tmp_path: Path) -> None:
    # A segment each would be merged again and again as the index grows: the cost of indexing.
    path = tmp_path / "search.db"
    db, index = await _opened(path)
    versions = [public(f"rule{i}", body=f"第一条 共享单车停放管理第{i}项。") for i in range(40)]
    await index.apply([change(v) for v in versions])
    await db.close()
    assert (_segments(path, "g1_articles"), _segments(path, "g1_titles")) == (1, 1)
    assert _postings(path, 1, "单车") == 40


async def test_the_relaxed_search_of_a_query_of_many_common_terms_matches_only_its_rarest_few(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, index = await _opened(tmp_path / "search.db")
    await index.apply([change(v) for v in [*ALL, *COMMON]])
    expressions: list[str] = []
    real = sqlite_fts.match_expression

    def recorded(query: ParsedQuery) -> str:
        expressions.append(real(query))
        return expressions[-1]

    monkeypatch.setattr(sqlite_fts, "match_expression", recorded)
    found = await index.search(SearchQuery(text=COMMON_QUERY, relaxed=True))
    await db.close()
    (expression,) = expressions
    phrases = set(re.findall(r'"([^"]+)"', expression))
    assert len(phrases) <= RELAXED_TERMS
    # The rare words are asked for, the commonest (行政机关, in every COMMON version) are not.
    assert {"征收", "增值 值税"} <= phrases
    assert not {"行政", "政机", "机关"} & phrases
    assert found.hits[0].version.name == "documents/c/versions/1"


@pytest.mark.parametrize("text", ["", "规范性文件"], ids=["listing", "text"])
async def test_a_facet_of_more_values_than_shown_keeps_the_largest_ties_by_name(tmp_path: Path, text: str) -> None:
    # 60 issuing bodies: body k issues (k % 7) + 1 documents, so counts tie across many names.
    bodies = [f"第{k:02d}市人民政府" for k in range(60)]
    versions = [
        public(f"b{k}-{i}", issuing_body=body, promulgated=dt.date(2000 + k % 5, 1, 1))
        for k, body in enumerate(bodies)
        for i in range(k % 7 + 1)
    ]
    db, index = await _opened(tmp_path / "search.db")
    try:
        await index.apply([change(v) for v in versions])
        result = await index.search(SearchQuery(text=text, limit=1))
        counted = sorted(((b, k % 7 + 1) for k, b in enumerate(bodies)), key=lambda bc: (-bc[1], bc[0]))
        assert result.facets["issuing_bodies"] == tuple(counted[: sqlite_fts.MAX_FACET_VALUES])
        assert result.total == len(versions)
        years = {str(2000 + y): sum(k % 7 + 1 for k in range(60) if k % 5 == y) for y in range(5)}
        assert dict(result.facets["years"]) == years
    finally:
        await index.close()
        await db.close()
