"""The term table and query understanding: fillers, terms, labels and titles."""

from __future__ import annotations

import doctest
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from normreg_search import analysis, understanding
from normreg_search.understanding import Concept, Terms, load_terms, parse_terms, understand


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


def test_a_number_right_after_a_law_name_is_an_article_even_without_di() -> None:
    for typed in ("刑法264条", "刑法 264 条", "刑法二百六十四条", "中华人民共和国刑法第264条"):
        read = understand(typed)
        assert (read.law, read.article) == ("刑法", "第二百六十四条"), typed
    assert understand("民法典1079条之一").article == "第一千零七十九条之一"
    # Elsewhere a number and 条 count something: no article is asked for.
    assert understand("有两条规定").article == ""
    assert understand("这部法规有三条例外").article == ""


@pytest.mark.parametrize(
    "typed",
    [
        "劳动合同法2012",
        "劳动合同法 2012",
        "劳动合同法（2012年修正）",
        "2012年劳动合同法",
        "2012版劳动合同法",
        "劳动合同法2012年版",
    ],
)
def test_a_year_beside_a_law_name_names_a_text_not_a_word_of_it(typed: str) -> None:
    # No article holds "2012": searched for, it left the law out of its own page.
    read = understand(typed, Terms({}))
    assert read.pieces == ("劳动合同法",)
    assert read.titles == ("劳动合同法",)


def test_a_year_stays_where_it_is_not_beside_a_law_name() -> None:
    assert understand("2012年的工资", Terms({})).pieces == ("2012年", "工资")
    # An article number is not a year, and the year does not hide the article after it.
    assert understand("民法典1079条").article == "第一千零七十九条"
    read = understand("刑法（2020修正）第20条")
    assert (read.law, read.article) == ("刑法", "第二十条")


def test_how_a_question_asks_for_the_consequence_is_not_searched_for() -> None:
    read = understand("疲劳驾驶怎么处罚", Terms({}))
    assert read.pieces == ("疲劳驾驶",)
    assert understand("网上造谣要负什么责任", Terms({})).pieces == ("网上造谣",)
    assert understand("老师打学生犯法吗", Terms({})).pieces == ("老师打学生",)
    # 处罚 typed as the subject stays.
    assert understand("行政处罚 听证", Terms({})).pieces == ("行政处罚", "听证")


def test_a_limit_asked_for_is_the_question_not_the_subject() -> None:
    # The statutes say 不得超过 where people ask 最长多久: 最长 searched for finds nothing about 试用期.
    assert understand("试用期最长多久", Terms({})).pieces == ("试用期",)
    assert understand("拘留最多几天", Terms({})).pieces == ("拘留",)
    # 最低工资 is a statutory word: a limit asked of it keeps it.
    assert understand("最低工资多少", Terms({})).pieces == ("最低工资",)


def test_what_a_law_is_about_is_one_concept_inside_a_longer_question() -> None:
    # Cut into bigrams with its neighbours (税税, 率是), 企业所得税 lost to them in the article count.
    read = understand("企业所得税税率是多少")
    assert read.concepts[0].surfaces[0] == "企业所得税" and read.concepts[0].term
    assert [c.surfaces[0] for c in read.concepts[1:]] == ["税率", "率是"]


def test_what_a_reader_adds_to_a_law_name_leaves_the_name() -> None:
    for typed in ("义务教育法全文", "劳动合同法最新版", "最新刑法", "民法典原文", "现行有效的公司法"):
        read = understand(typed, Terms({}))
        assert read.titles[:1] == (understanding.short_title(read.pieces[0]),), typed
        assert len(read.pieces) == 1 and read.pieces[0].endswith(("法", "法典")), typed
    # 现行犯 is a word of the criminal procedure law, not 现行 + 犯.
    assert understand("现行犯", Terms({})).pieces == ("现行犯",)


def test_misremembered_law_names_lead_to_the_law() -> None:
    named = {"消费者保护法": "消费者权益保护法", "老年人保护法": "老年人权益保障法", "反诈骗法": "反电信网络诈骗法"}
    for typed, law in named.items():
        assert law in understand(typed).titles, typed


def test_a_share_is_one_concept_as_the_statutes_write_it() -> None:
    # Cut into bigrams, 百分之五十 matched every 百分之五 of a fine in 刑法 and 公司法.
    for typed in ("超速50%", "超速 50 ％", "超速百分之五十"):
        read = understand(typed, Terms({}))
        assert Concept(("百分之五十",), term=True) in read.concepts, typed
        assert not any("分之" in s for c in read.concepts if not c.term for s in c.surfaces), typed


def test_how_one_asks_for_a_remedy_is_not_searched_for() -> None:
    # 维权 searched for matched 合法权益, in most laws.
    assert understand("被人诽谤怎么维权", Terms({})).pieces == ("诽谤",)
    assert understand("消费者如何维权", Terms({})).pieces == ("消费者",)


@pytest.mark.parametrize("typed", ["开车撞人要坐几年牢", "盗窃会坐三年牢吗", "坐多少年的牢"])
def test_how_long_one_is_jailed_is_asked_about_jail(typed: str) -> None:
    table = Terms({"坐牢": ["有期徒刑"]})
    assert Concept(("坐牢", "有期徒刑"), term=True) in understand(typed, table).concepts


def test_a_lone_character_is_searched_when_it_is_the_kind_asked_for_or_the_table_knows_it() -> None:
    # 什么 cuts 税 off; alone it said nothing, like 有 of 年假有几天, but it is what is asked about.
    assert understand("卖房要交什么税", Terms({})).pieces == ("卖房要交", "税")
    assert understand("犯了什么罪", Terms({})).pieces == ("罪",)
    assert understand("年假有几天", Terms({})).pieces == ("年假有",)
    assert understand("年假有几天", Terms({"年假": ["带薪年休假"]})).pieces == ("年假有",)
    known = Terms({"枪": ["枪支"]})
    assert Concept(("枪", "枪支"), term=True) in understand("私人的枪", known).concepts
    assert understand("私人的枪", Terms({})).pieces == ("私人",)


@pytest.mark.parametrize("typed", ["寻衅滋事罪", "诈骗罪判几年", "被认定帮信罪怎么办"])
def test_an_offence_named_is_asked_about_in_the_criminal_law(typed: str) -> None:
    read = understand(typed)
    assert understanding.CRIMINAL_LAW in read.titles
    # The offence is searched as the statute writes it, without 罪 (有下列寻衅滋事行为之一).
    assert not any(c.surfaces[0].endswith("事罪") for c in read.concepts)


@pytest.mark.parametrize("typed", ["未成年人犯罪", "无罪", "怎么定罪", "犯了什么罪"])
def test_a_word_ending_in_zui_that_names_no_offence_names_no_law(typed: str) -> None:
    assert understanding.CRIMINAL_LAW not in understand(typed).titles


def test_a_concept_typed_alone_is_asked_about_in_the_law_that_is_about_it() -> None:
    table = load_terms()
    assert table.homes["正当防卫"] == ("刑法",)
    # A home is no wording to search for: 刑法 cited in passing is not 正当防卫.
    assert "刑法" not in table.expansions["正当防卫"]
    assert "刑法" in understand("正当防卫的条件是什么", table).titles
    # Inside a longer piece the concept is one thing among others asked about.
    assert "刑法" not in understand("正当防卫过当被打伤", table).titles


def test_every_law_a_concept_is_about_is_a_law_of_the_corpus(corpus_path: Path) -> None:
    conn = sqlite3.connect(f"file:{corpus_path}?mode=ro", uri=True)
    try:
        titles = {understanding.short_title(r[0]) for r in conn.execute("SELECT law_name FROM laws")}
    finally:
        conn.close()
    homes = {h for hs in load_terms().homes.values() for h in hs}
    assert homes and homes <= titles
