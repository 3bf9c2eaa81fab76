"""The term table and query understanding: fillers, terms, labels and titles."""

from __future__ import annotations

import doctest
import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from normreg_search import analysis, understanding
from normreg_search.understanding import Terms, load_terms, parse_terms, understand


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(understanding).failed == 0


def test_the_table_holds_a_few_hundred_terms() -> None:
    terms = load_terms()
    assert len(terms.expansions) >= 300
    assert sum(len(w) for w in terms.expansions.values()) >= 300


def test_every_statutory_wording_of_the_table_occurs_in_the_corpus(corpus_path: Path) -> None:
    conn = sqlite3.connect(f"file:{corpus_path}?mode=ro", uri=True)
    try:
        text = "\n".join(r[0] or "" for r in conn.execute("SELECT article_text FROM articles"))
        text += "\n".join(r[0] for r in conn.execute("SELECT law_name FROM laws"))
    finally:
        conn.close()
    folded = analysis.fold(text)
    missing = [(k, w) for k, ws in load_terms().expansions.items() for w in ws if w not in folded]
    assert missing == []


def test_a_deployment_extends_the_table_with_its_own_file(tmp_path: Path) -> None:
    extra = tmp_path / "local.tsv"
    extra.write_text("共享单车\t互联网租赁自行车|非机动车\t# 本市办法 第二条\n工钱\t薪金\n", encoding="utf-8")
    terms = load_terms(str(extra))
    assert terms.expansions["共享单车"] == ("互联网租赁自行车", "非机动车")
    assert terms.expansions["工钱"][-1] == "薪金"
    assert "劳动报酬" in terms.expansions["工钱"]
    [concept] = understand("共享单车", terms).concepts
    assert concept.surfaces == ("共享单车", "互联网租赁自行车", "非机动车")


def test_comments_and_lines_without_wordings_are_ignored() -> None:
    assert parse_terms(["# a comment", "", "单独一个词", "甲\t乙|丙 # why", "丁\t丁"]) == {"甲": ["乙", "丙"], "丁": []}


def test_fillers_split_the_query_and_are_never_searched() -> None:
    read = understand("请问单位不给加班费怎么办", Terms({}))
    assert read.pieces == ("单位不给加班费",)
    assert understand("怎么办吗？", Terms({})).concepts == ()


def test_a_filler_inside_a_word_does_not_cut_it() -> None:
    read = understand("为了其他目的", Terms({}))
    assert read.pieces == ("为了其他目的",)


def test_a_law_name_before_an_article_label_is_the_law_asked_about() -> None:
    read = understand("劳动合同法第39条规定了什么")
    assert (read.law, read.article, read.titles) == ("劳动合同法", "第三十九条", ("劳动合同法",))
    assert understand("消法第55条").law == "消费者权益保护法"


@given(st.integers(min_value=1, max_value=9999))
def test_article_numbers_read_back_in_either_script(n: int) -> None:
    assert understanding.arabic_number(understanding.chinese_number(n)) == n
    assert understanding.article_label(str(n)) == understanding.article_label(understanding.chinese_number(n))


@given(st.text(max_size=60))
def test_any_text_is_read_without_error(text: str) -> None:
    read = understand(text)
    assert len(read.concepts) <= 24
