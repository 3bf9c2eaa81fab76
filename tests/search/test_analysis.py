"""Text analysis, query reading and snippets: the pieces both backends share."""

from __future__ import annotations

import doctest
import re

from hypothesis import given
from hypothesis import strategies as st
from normreg_search import analysis
from normreg_search.query import Field, Term, parse_query, short_key
from normreg_search.snippets import Snippet, snippets

from tests.search.helpers import public


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(analysis).failed == 0


@given(st.text())
def test_folding_keeps_every_character_at_its_offset(text: str) -> None:
    assert len(analysis.fold(text)) == len(text)


def test_folding_handles_width_and_case() -> None:
    assert analysis.fold("ＧＢ／Ｔ　Ｓtraße ДОМ") == "gb/t straße дом"


def test_chinese_is_indexed_as_bigrams_and_characters() -> None:
    assert analysis.bigram_stream("第三十条") == "第三 三十 十条"
    assert analysis.bigram_stream("法治") == "法治"
    assert analysis.bigram_stream("税") == "税"
    assert analysis.unigram_stream("法治，GB") == "法 治"


def test_a_two_character_query_is_one_term() -> None:
    parsed = parse_query("备案")
    assert (parsed.terms, parsed.clauses, parsed.minimum_should_match) == ((Term((("备案",),)),), (), 1)


def test_single_characters_are_looked_up_alone() -> None:
    parsed = parse_query("2020年")
    assert parsed.terms == (Term((("2020",),)), Term((("年",),), Field.CHARS))


def test_a_quoted_phrase_keeps_its_order_but_not_its_loose_ends() -> None:
    [clause] = parse_query('"税、消费税"').clauses
    assert clause.phrase
    assert (clause.tokens, clause.required_chars) == (("消费", "费税"), ("税",))
    [chinese_quotes] = parse_query("“法治政府”").clauses
    assert chinese_quotes.phrase and chinese_quotes.tokens == ("法治", "治政", "政府")


def test_quoted_phrases_are_required_and_the_rest_are_terms() -> None:
    parsed = parse_query('个人信息 "法治政府" GB/T')
    assert [c.tokens for c in parsed.clauses] == [("法治", "治政", "政府")]
    assert parsed.terms[-2:] == (Term((("gb",),)), Term((("t",),)))


def test_fillers_are_not_searched_and_long_pieces_need_half_their_bigrams() -> None:
    parsed = parse_query("试用期延长多久")
    assert [t.alternatives for t in parsed.terms] == [(("试用", "用期"),), (("延长",),)]
    assert parsed.minimum_should_match == 2
    # 最长多久 asks for a limit: the question, not a word of the statutes (they say 不得超过).
    assert [t.alternatives for t in parse_query("试用期最长多久").terms] == [(("试用", "用期"),)]
    assert parse_query("怎么办吗").terms == ()
    assert parse_query("甲乙丙丁戊").minimum_should_match == 3


def test_where_and_someone_are_not_searched_for() -> None:
    # 在河 and 在网 occur in the statutes (在河道, 在网络上) and outranked 电鱼 with them.
    assert [t.alternatives for t in parse_query("在河里电鱼").terms] == [(("河里",),), (("里电",),), (("电鱼",),)]
    assert parse_query("有人在网上卖假药").terms == parse_query("网上卖假药").terms
    # Words that begin with 在 or hold 有人 are words of the statutes, and stay.
    assert parse_query("在职研究生").terms[0].alternatives == (("在职",),)
    assert [t.alternatives for t in parse_query("房屋所有人").terms][-2:] == [(("所有",),), (("有人",),)]


def test_when_something_happens_is_not_searched_for() -> None:
    """正在, 已经, 曾经, 一直, 刚刚 say when, and the statutes say what: 正在服刑 found a law that
    says 正在服刑 once above the criminal law, which says 减刑."""
    for said in ("正在服刑的人可以减刑吗", "已经服刑的人可以减刑吗", "一直服刑的人可以减刑吗"):
        assert parse_query(said).terms == parse_query("服刑的人可以减刑吗").terms, said


def test_table_terms_match_by_any_statutory_wording() -> None:
    [term] = parse_query("工钱").terms
    assert term.alternatives == (("工钱",), ("劳动", "动报", "报酬"), ("工资",))


def test_an_article_label_in_either_script_is_one_label_term() -> None:
    for text in ("刑法第30条", "刑法第三十条", "《刑法》 第 30 条"):
        parsed = parse_query(text)
        assert parsed.article == "第三十条"
        assert Term((("第三十条",),), Field.LABEL) in parsed.terms
        assert parsed.short_keys == (short_key("中华人民共和国刑法"),)


def test_short_titles_ignore_the_nation_brackets_and_amendment_numbering() -> None:
    assert parse_query("刑法修正案九").short_keys[0] == short_key("中华人民共和国刑法修正案（九）")
    assert parse_query("刑法修正案（11）").short_keys[0] == short_key("中华人民共和国刑法修正案（十一）")
    assert short_key("个人信息保护法") in parse_query("个保法").short_keys


def test_a_query_of_punctuation_only_has_nothing_to_match() -> None:
    parsed = parse_query("，。“”")
    assert not parsed.empty and not parsed.matchable
    assert parse_query("  ").empty


# ---- snippets --------------------------------------------------------------------------------------

LAW = public(
    "s",
    title="赤峰市法治政府建设实施办法",
    body=(
        "第一条 为了推进法治政府建设，制定本办法。\n"
        "第二条 本办法适用于本市各级行政机关。\n"
        "第三十条 规章应当自公布之日起三十日内报送备案审查，备案材料包括<附件>。" + "其他规定。" * 30
    ),
)


def test_snippets_name_the_article_and_cut_around_the_match() -> None:
    [found] = snippets(LAW, parse_query("备案审查"))
    assert found.field == "第三十条"
    assert found.text.startswith("规章应当自公布之日起三十日内报送<em>备案审查</em>，备案材料包括&lt;附件&gt;。")
    assert found.text.endswith("其他规…")
    assert len(found.text.replace("<em>", "").replace("</em>", "").replace("&lt;", "<").replace("&gt;", ">")) == 91


def test_a_title_match_is_a_snippet_of_its_own() -> None:
    found = snippets(LAW, parse_query("法治政府"))
    assert found[0] == Snippet("title", "赤峰市<em>法治政府</em>建设实施办法")
    assert found[1] == Snippet("第一条", "为了推进<em>法治政府</em>建设，制定本办法。")


def test_words_matched_apart_are_marked_apart() -> None:
    found = snippets(LAW, parse_query("政府实施"))
    assert found[0] == Snippet("title", "赤峰市法治<em>政府</em>建设<em>实施</em>办法")


def test_a_document_without_articles_shows_its_body() -> None:
    notice = public("n", title="关于做好备案工作的通知", body="各旗县区：请做好规范性文件备案工作。")
    assert snippets(notice, parse_query("规范性文件"))[-1] == Snippet(
        "body", "各旗县区：请做好<em>规范性文件</em>备案工作。"
    )


def test_no_query_no_snippets() -> None:
    assert snippets(LAW, parse_query("")) == []


def _tokens_of_runs(text: str) -> list[str]:
    return [token for run in analysis.runs(text) for token in analysis.run_tokens(run)]


_MIXED = st.text(
    st.sampled_from("中华人民共和国第三十条税，。（）《》 　\n-/_＿ＧＢＴ１２gbT72ßДОМİ\u3007\U00020001ア한")
    | st.characters(),
    max_size=200,
)


@given(_MIXED)
def test_the_indexed_stream_is_the_tokens_of_the_runs(text: str) -> None:
    expected = _tokens_of_runs(text)
    assert analysis.bigram_tokens(text) == expected
    assert analysis.bigram_stream(text) == " ".join(expected)


def test_a_long_word_is_cut_alike_in_the_stream_and_the_runs() -> None:
    text = "ＡＢ" * 40 + "中文" + "x" * 70 + "税"
    assert analysis.bigram_tokens(text) == _tokens_of_runs(text)
    assert analysis.bigram_tokens(text)[0] == "ab" * 32


def test_folding_never_moves_a_character_to_another_class() -> None:
    # The stream folds its tokens after cutting the text: that is the same as cutting folded text
    # only while folding keeps letters and digits, CJK characters and separators apart.
    word = re.compile(rf"[^\W_{analysis._CJK}]")
    for char, folded in analysis._FOLD_CHARS.items():
        assert bool(word.match(char)) == bool(word.match(folded)), char
        assert analysis.is_cjk(char) == analysis.is_cjk(folded), char
        assert analysis.bigram_tokens(f"中{char}1") == _tokens_of_runs(f"中{char}1"), char
