"""A sentence pasted from a law, unquoted: the law holding it verbatim comes first, before laws that
share its common words more often, and before a law holding its characters with other punctuation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg_common.clock import FakeClock
from normreg_common.profile import JurisdictionProfile
from normreg_common.sqlite import Database
from normreg_search.index.sqlite_fts import META_SCHEMA, SqliteFtsIndex
from normreg_search.query import VERBATIM_TOKENS, SearchQuery, parse_query
from normreg_search.service import PublicSearch

from tests.search.helpers import T0, change, public

PASTED = "由本级人民代表大会常务委员会主持。"
# Holds the sentence, punctuation included, in a long article.
SENTENCE = public(
    "s",
    title="选举工作办法",
    body="第一条 县级以下各级选举委员会的工作，由本级人民代表大会常务委员会主持。",
)
# Holds its characters, then a comma: its tokens are adjacent, the sentence is not there.
COMMA = public("c", title="会议工作办法", body="第一条 由本级人民代表大会常务委员会主持，")
# Repeats its common words, never as the sentence.
WORDS = public(
    "w",
    title="代表工作办法",
    body="第一条 本级人民代表大会常务委员会，本级人民代表大会常务委员会，常务委员会主持本级人民代表大会。",
)


def test_a_long_unquoted_clause_reads_as_pasted_and_a_question_does_not() -> None:
    assert parse_query(PASTED).verbatim == (PASTED,)
    assert parse_query("公司 拖欠工资").verbatim == ()
    assert all(len(t) >= VERBATIM_TOKENS for t in parse_query(f"劳动合同 {PASTED}").verbatim_tokens)
    assert parse_query(f"劳动合同 {PASTED}").verbatim == (PASTED,)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[PublicSearch]:
    db = Database(tmp_path / "search.db", META_SCHEMA)
    await db.open()
    index = SqliteFtsIndex(db)
    await index.open()
    await index.apply([change(v) for v in (WORDS, COMMA, SENTENCE)])
    yield PublicSearch(index, FakeClock(T0), JurisdictionProfile())
    await index.close()
    await db.close()


async def test_the_law_holding_the_pasted_sentence_comes_first(service: PublicSearch) -> None:
    page = await service.search(SearchQuery(text=PASTED))
    assert [h.version.name for h in page.hits] == [SENTENCE.name, COMMA.name, WORDS.name]
    # Without its full stop the clause is in both, and both come before the law sharing only words.
    page = await service.search(SearchQuery(text=PASTED.rstrip("。")))
    assert [h.version.name for h in page.hits][2:] == [WORDS.name]
