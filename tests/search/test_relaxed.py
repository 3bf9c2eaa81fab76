"""The second search of a query that found nothing (any one term suffices) asks for the rarest few of
its terms, whatever the query's length: both indexes build it from `query.rarest`."""

from __future__ import annotations

import dataclasses
import json
import re

from hypothesis import given
from hypothesis import strategies as st
from normreg_search.index import elasticsearch, sqlite_fts
from normreg_search.query import COMMON_ARTICLES, RELAXED_TERMS, Field, ParsedQuery, parse_query, rarest, relaxed_tokens

# Words found in most articles of a corpus of regulations.
COMMON_WORDS = (
    "关于", "实施", "人民", "管理", "政府", "国家", "行政", "机关", "部门", "工作", "社会", "经济",
    "发展", "建设", "组织", "有关", "应当", "法律", "法规", "条例", "负责", "监督", "检查", "服务",
)  # fmt: skip
RARE = "苗木登记"


def relaxed(text: str) -> ParsedQuery:
    return dataclasses.replace(parse_query(text), minimum_should_match=1, relaxed=True)


def counts(parsed: ParsedQuery) -> dict[str, int]:
    """Every token of the query common (in 50,000 articles) but those of RARE (in 3)."""
    rare = {t for alt in parse_query(RARE).terms[0].alternatives for t in alt}
    return {t: 3 if t in rare else 50_000 for t in relaxed_tokens(parsed)}


def text_terms(parsed: ParsedQuery) -> list[tuple[tuple[str, ...], ...]]:
    return [t.alternatives for t in parsed.terms if t.field is Field.TEXT]


@given(st.lists(st.sampled_from(COMMON_WORDS), min_size=0, max_size=len(COMMON_WORDS), unique=True), st.booleans())
def test_the_relaxed_query_of_a_query_with_n_common_terms_asks_the_index_for_at_most_the_rarest_few(
    words: list[str], apart: bool
) -> None:
    # The common words typed apart (each a piece) or run together (pieces of their own, as phrases).
    text = RARE + " " + (" " if apart else "").join(words)
    query = relaxed(text)
    asked = rarest(query, counts(query))
    assert len(text_terms(asked)) <= RELAXED_TERMS
    assert (("苗木",),) in text_terms(asked)
    assert asked.minimum_should_match == 1
    # What each index is asked to match: the embedded index's MATCH expression and the terms of
    # Elasticsearch's article query (its `should`, phrases typed at length, only ranks) name no more
    # phrases than that.
    assert len(set(re.findall(r'"([^"]+)"', sqlite_fts.match_expression(asked)))) <= RELAXED_TERMS
    matched = json.dumps(elasticsearch.article_query(asked)["bool"]["must"], ensure_ascii=False)
    phrases = re.findall(r'"articles\.body": "([^"]+)"', matched)
    assert len(set(phrases)) <= RELAXED_TERMS


def test_a_query_with_few_terms_none_of_them_common_is_relaxed_as_it_is() -> None:
    query = relaxed("法治政府 爆竹燃放")
    assert rarest(query, dict.fromkeys(relaxed_tokens(query), COMMON_ARTICLES)) == query


def test_a_relaxed_query_of_common_terms_only_asks_for_the_rarest_of_them() -> None:
    query = relaxed(" ".join(COMMON_WORDS[:5]))
    frequencies = {t: COMMON_ARTICLES + 1 + i for i, t in enumerate(relaxed_tokens(query))}
    rarest_token = min(frequencies, key=frequencies.__getitem__)
    assert text_terms(rarest(query, frequencies)) == [((rarest_token,),)]


def test_the_query_as_read_is_never_cut() -> None:
    query = parse_query(RARE + " " + " ".join(COMMON_WORDS))
    assert rarest(query, counts(query)) == query
