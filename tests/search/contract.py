"""The contract of the search index port. Every adapter's test class subclasses IndexContract and
provides the `index` fixture (a fresh, opened, empty index); the same tests then run on each."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator

import pytest
from normreg_common.clock import FakeClock
from normreg_common.profile import JurisdictionProfile
from normreg_search.budget import SearchTooLong
from normreg_search.index.port import SearchIndex
from normreg_search.model import CommentCount, PublicVersion
from normreg_search.query import RELAXED_TERMS, DateRange, SearchQuery, Sort, parse_query
from normreg_search.service import PublicSearch

from tests.search.helpers import T0, change, hidden, public

D = dt.date

RULE_A = public(
    "a",
    title="赤峰市法治政府建设实施办法",
    body=(
        "第一条 为了推进法治政府建设，制定本办法。\n"
        "第二条 本办法适用于本市各级行政机关。\n"
        "第三十条 规章应当自公布之日起三十日内报送备案审查。"
    ),
    uniform_number="赤政发〔2021〕5号",
    promulgated=D(2021, 3, 1),
    effective=D(2021, 4, 1),
)
RULE_B = public(
    "b",
    title="赤峰市行政规范性文件备案审查规定",
    kind="NORMATIVE_DOCUMENT",
    body="第一条 推进法治，建设人民满意的政府。\n第二条 规范性文件应当报送备案。",
    uniform_number="赤政规〔2020〕3号",
    promulgated=D(2020, 5, 1),
    effective=D(2020, 6, 1),
)
RULE_C = public(
    "c",
    title="赤峰市大气污染防治条例",
    kind="LOCAL_REGULATION",
    issuing_body="赤峰市人民代表大会常务委员会",
    body="第一条 空气质量执行GB/T 3095标准。\n第二条 本条例自2020年1月1日起施行。\n第三条 依法征收增值税、消费税。",
    promulgated=D(2019, 11, 20),
    effective=D(2020, 1, 1),
)
GREEN_OLD = public(
    "d",
    1,
    title="赤峰市城市绿化管理办法",
    body="第一条 城市绿化由园林部门负责。\n第二条 旧版独有条款规定苗木登记。",
    state="AMENDED",
    promulgated=D(2014, 12, 1),
    effective=D(2015, 1, 1),
    valid_to=D(2022, 1, 1),
)
GREEN_NEW = public(
    "d",
    2,
    title="赤峰市城市绿化管理办法",
    body="第一条 城市绿化由园林部门负责。\n第二条 新版条款规定绿地保护。",
    promulgated=D(2021, 12, 1),
    effective=D(2022, 1, 1),
)
GREEN_RULES = public(
    "d2",
    title="赤峰市城市绿化管理办法实施细则",
    body="第一条 根据赤峰市城市绿化管理办法制定本细则。",
    kind="NORMATIVE_DOCUMENT",
    promulgated=D(2022, 3, 1),
    effective=D(2022, 4, 1),
)
FIREWORKS = public(
    "e",
    title="赤峰市烟花爆竹燃放管理规定",
    body="第一条 城区禁止燃放烟花爆竹。",
    state="REPEALED",
    promulgated=D(2009, 12, 1),
    effective=D(2010, 1, 1),
    valid_to=D(2020, 6, 1),
)
DOGS_OPEN = public(
    "f",
    title="赤峰市养犬管理条例（征求意见稿）",
    body="第一条 为了规范养犬行为，制定本条例。",
    state="PUBLIC_COMMENT",
    comment=(D(2026, 3, 1), D(2026, 3, 31)),
)
PARKS_CLOSED = public(
    "g",
    title="赤峰市公园管理办法（征求意见稿）",
    body="第一条 公园实行免费开放。",
    state="PUBLIC_COMMENT",
    comment=(D(2026, 1, 1), D(2026, 1, 31)),
)
ALL = [RULE_A, RULE_B, RULE_C, GREEN_OLD, GREEN_NEW, GREEN_RULES, FIREWORKS, DOGS_OPEN, PARKS_CLOSED]
IN_FORCE = [RULE_A, RULE_B, RULE_C, GREEN_NEW, GREEN_RULES]


# Versions that make the words of COMMON_QUERY's first three pieces common, each holding too few of
# them for the query as read (minimum_should_match of its terms) to find it.
COMMON = [
    public(f"common{i}{j}", title=f"赤峰市第{i}{j}号通告", body=body)
    for i in range(6)
    for j, body in enumerate(("第一条 法治政府建设由行政机关负责。", "第一条 规范性文件由行政机关制定。"))
]
# Twelve common bigrams and two rare terms (征收 and 增值税, of RULE_C): no version holds enough of
# them, so the service asks again with any of them, which must then be the rarest.
COMMON_QUERY = "法治政府建设 行政机关 规范性文件 征收增值税"


def names(versions: list[PublicVersion]) -> list[str]:
    return [v.name for v in versions]


class IndexContract:
    @pytest.fixture
    async def index(self) -> AsyncIterator[SearchIndex]:
        raise NotImplementedError
        yield  # pragma: no cover

    @pytest.fixture
    async def loaded(self, index: SearchIndex) -> SearchIndex:
        await index.apply([change(v) for v in ALL] + [hidden("h", 1, 3)])
        await index.refresh()
        return index

    @staticmethod
    async def found(index: SearchIndex, text: str = "", **filters: object) -> list[str]:
        result = await index.search(SearchQuery(text=text, limit=100, **filters))  # type: ignore[arg-type]
        return [h.version.name for h in result.hits]

    # ---- writes, sequences, tombstones -----------------------------------------------------------

    async def test_a_version_reads_back_as_written(self, index: SearchIndex) -> None:
        assert await index.apply([change(RULE_A, 4)]) == 1
        assert await index.get(RULE_A.name) == RULE_A
        assert (await index.entries())[RULE_A.name] == (4, RULE_A)

    async def test_older_and_repeated_changes_are_ignored(self, index: SearchIndex) -> None:
        newer = public("a", title="新标题的办法")
        await index.apply([change(newer, 5)])
        assert await index.apply([change(RULE_A, 4), change(RULE_A, 5)]) == 0
        assert await index.get(RULE_A.name) == newer
        assert await index.apply([change(RULE_A, 6)]) == 1
        assert await index.get(RULE_A.name) == RULE_A

    async def test_within_a_batch_the_newest_change_of_a_version_wins(self, index: SearchIndex) -> None:
        newer = public("a", title="新标题的办法")
        await index.apply([change(newer, 7), change(RULE_A, 6)])
        assert await index.get(RULE_A.name) == newer

    async def test_a_version_that_stops_being_public_disappears_and_stays_gone(self, index: SearchIndex) -> None:
        await index.apply([change(DOGS_OPEN, 2)])
        await index.apply([hidden("f", 1, 3)])
        await index.apply([change(DOGS_OPEN, 2)])  # a late copy of the older event
        await index.refresh()
        assert await index.get(DOGS_OPEN.name) is None
        assert (await index.entries())[DOGS_OPEN.name] == (3, None)
        assert await index.open_consultations(D(2026, 3, 2), 0, 10) == ([], 0)

    async def test_a_hidden_version_is_not_found(self, loaded: SearchIndex) -> None:
        assert await loaded.get("documents/h/versions/1") is None
        assert await loaded.get("documents/zzz/versions/1") is None

    # ---- lookups ------------------------------------------------------------------------------------

    async def test_versions_of_a_document_come_in_order(self, loaded: SearchIndex) -> None:
        assert names(await loaded.versions_of("documents/d")) == [GREEN_OLD.name, GREEN_NEW.name]
        assert await loaded.versions_of("documents/h") == []

    async def test_a_uniform_number_finds_its_version(self, loaded: SearchIndex) -> None:
        assert names(await loaded.by_uniform_number("赤政规〔2020〕3号")) == [RULE_B.name]
        assert await loaded.by_uniform_number("赤政规〔2020〕4号") == []

    # ---- text matching --------------------------------------------------------------------------------

    async def test_two_character_queries_match(self, loaded: SearchIndex) -> None:
        assert set(await self.found(loaded, "法治")) == {RULE_A.name, RULE_B.name}
        assert set(await self.found(loaded, "备案")) == {RULE_A.name, RULE_B.name}

    async def test_a_single_character_matches_wherever_it_occurs(self, loaded: SearchIndex) -> None:
        assert await self.found(loaded, "烟", states=frozenset({"REPEALED"})) == [FIREWORKS.name]
        assert set(await self.found(loaded, "苗", states=frozenset({"AMENDED", "IN_FORCE"}))) == {GREEN_OLD.name}

    async def test_an_article_number_matches(self, loaded: SearchIndex) -> None:
        assert await self.found(loaded, "第三十条") == [RULE_A.name]

    async def test_words_and_numbers_match_whole(self, loaded: SearchIndex) -> None:
        assert await self.found(loaded, "GB/T 3095") == [RULE_C.name]
        assert await self.found(loaded, "gb/t") == [RULE_C.name]
        assert await self.found(loaded, "2020年") == [RULE_C.name]
        assert await self.found(loaded, "3096") == []

    async def test_a_quoted_phrase_needs_its_words_together(self, loaded: SearchIndex) -> None:
        assert set(await self.found(loaded, "法治 政府")) == {RULE_A.name, RULE_B.name}
        assert await self.found(loaded, '"法治政府"') == [RULE_A.name]
        assert await self.found(loaded, "“报送备案审查”") == [RULE_A.name]
        assert await self.found(loaded, '"政府法治"') == []

    async def test_a_quoted_phrase_may_start_or_end_inside_a_word(self, loaded: SearchIndex) -> None:
        # 增值税 is one run in the text: the phrase's leading 税 is part of its bigram 值税.
        assert await self.found(loaded, '"税、消费税"') == [RULE_C.name]
        assert await self.found(loaded, '"征收增值税、消"') == [RULE_C.name]
        assert await self.found(loaded, '"税、营业税"') == []

    async def test_every_clause_must_match(self, loaded: SearchIndex) -> None:
        assert await self.found(loaded, "备案 三十日") == [RULE_A.name]
        assert await self.found(loaded, "备案 烟花") == []

    async def test_a_title_match_ranks_above_a_body_match(self, loaded: SearchIndex) -> None:
        assert (await self.found(loaded, "备案审查"))[0] == RULE_B.name

    async def test_a_law_about_the_query_ranks_above_one_that_mentions_it_once(self, index: SearchIndex) -> None:
        """The index ranks the short article first (a shorter article scores higher) and says how
        many articles of each matched; the search puts the law whose articles keep returning to the
        subject first on the page."""
        mentions = public("m1", title="赤峰市市容管理办法", body="第一条 禁止露天焚烧秸秆。")
        about = public(
            "m2",
            title="赤峰市大气环境保护条例",
            body=(
                "第一条 为了防治大气污染，保护和改善环境，禁止露天焚烧秸秆，制定本条例。\n"
                "第二条 各级人民政府应当组织推广秸秆综合利用，防止露天焚烧秸秆造成污染。\n"
                "第三条 乡镇人民政府负责本行政区域内露天焚烧秸秆的巡查，发现露天焚烧秸秆的及时制止。\n"
                "第四条 违反本条例规定露天焚烧秸秆的，由有关部门责令改正，可以处以罚款。"
            ),
        )
        await index.apply([change(mentions), change(about)])
        await index.refresh()
        result = await index.search(SearchQuery(text="露天焚烧秸秆", limit=10))
        assert [(h.version.name, h.matched) for h in result.hits] == [(mentions.name, 1), (about.name, 4)]
        search = PublicSearch(index, FakeClock(T0), JurisdictionProfile())
        page = await search.search(SearchQuery(text="露天焚烧秸秆", limit=10))
        assert [h.version.name for h in page.hits] == [about.name, mentions.name]
        assert page.hits[0].score > page.hits[1].score
        # Matched by its title alone: no articles counted.
        [by_title] = (await index.search(SearchQuery(text="市容", limit=10))).hits
        assert (by_title.version.name, by_title.matched) == (mentions.name, 0)

    async def test_the_law_about_the_query_is_first_at_any_page_size(self, index: SearchIndex) -> None:
        """The order the search gives is the same whatever page size asks for it: a page of one
        shows the law a page of ten shows first, and pages of one walk the same order once."""
        mentions = public("w1", title="赤峰市市容管理办法", body="第一条 禁止露天焚烧秸秆。")
        about = public(
            "w2",
            title="赤峰市大气环境保护条例",
            body="\n".join(f"第{n}条 禁止露天焚烧秸秆，乡镇人民政府负责巡查第{n}片区域。" for n in "一二三四"),
        )
        await index.apply([change(mentions), change(about)])
        await index.refresh()
        # The index alone ranks the one short article first: the case the search must reorder.
        assert [h.version.name for h in (await index.search(SearchQuery(text="露天焚烧秸秆", limit=1))).hits] == [
            mentions.name
        ]
        search = PublicSearch(index, FakeClock(T0), JurisdictionProfile())
        whole = [h.version.name for h in (await search.search(SearchQuery(text="露天焚烧秸秆", limit=10))).hits]
        assert whole == [about.name, mentions.name]
        pages = [await search.search(SearchQuery(text="露天焚烧秸秆", offset=i, limit=1)) for i in range(3)]
        assert [h.version.name for p in pages for h in p.hits] == whole
        assert [p.total for p in pages] == [2, 2, 2]

    async def test_a_title_holding_a_word_only_as_read_from_the_query_gains_nothing(self, index: SearchIndex) -> None:
        """孩子 is read as 子女, 未成年人 or 儿童: the law on protecting minors holds 未成年人 in its
        title, but a question about adopting a child is about the articles on adoption."""
        minors = public("m1", title="赤峰市未成年人保护办法", body="第一条 收养子女，依照有关法律办理。")
        adoption = public(
            "m2", title="赤峰市民政工作规定", body="第一条 收养子女应当向民政部门登记，收养子女的条件依照本规定。"
        )
        await index.apply([change(minors), change(adoption)])
        await index.refresh()
        assert [h.version.name for h in (await index.search(SearchQuery(text="收养孩子", limit=10))).hits] == [
            adoption.name,
            minors.name,
        ]

    async def test_a_longer_wording_of_a_term_does_not_outweigh_a_shorter_one(self, index: SearchIndex) -> None:
        """孩子 is read as 子女, 未成年人 or 儿童: an article holding one wording and an article holding
        another answer it alike, whatever the length of the wording (Lucene adds up a phrase's tokens)."""
        short = public("p1", title="赤峰市甲办法", body="第一条 子女的登记由民政部门办理。")
        long = public("p2", title="赤峰市乙办法", body="第一条 未成年人的登记由民政部门办理。")
        await index.apply([change(short), change(long)])
        await index.refresh()
        scores = {h.version.name: h.score for h in (await index.search(SearchQuery(text="孩子", limit=10))).hits}
        assert set(scores) == {short.name, long.name}
        assert max(scores.values()) / min(scores.values()) < 1.5, scores

    async def test_a_title_that_is_the_subject_a_word_was_read_as_ranks_higher(self, index: SearchIndex) -> None:
        """社保 is read as 社会保险, and a law about exactly that (社会保险法) is what is asked for,
        even where another text repeats the word more; a title holding it as part of a longer
        subject (社会保险经办管理办法) has no such claim."""
        law = public("s1", title="中华人民共和国社会保险法", body="第一条 用人单位应当缴纳社会保险费。")
        longer = public(
            "s2", title="赤峰市社会保险经办管理办法", body="第一条 用人单位应当缴纳社会保险费，社会保险费按月缴纳。"
        )
        other = public(
            "s3", title="赤峰市劳动保障监察办法", body="第一条 用人单位应当缴纳社会保险费，社会保险费按月缴纳。"
        )
        await index.apply([change(law), change(longer), change(other)])
        await index.refresh()
        found = [h.version.name for h in (await index.search(SearchQuery(text="社保", limit=10))).hits]
        assert found[0] == law.name
        assert set(found) == {law.name, longer.name, other.name}

    async def test_a_law_against_what_a_word_was_read_as_is_about_it_too(self, index: SearchIndex) -> None:
        """家暴 is read as 家庭暴力, and the law against it (反家庭暴力法) is about exactly that, as
        much as a law named for it would be; a code that speaks of spouses in more articles is not."""
        against = public(
            "v1",
            title="中华人民共和国反家庭暴力法",
            body="第一条 配偶之间不得实施家庭暴力。第二条 当事人因遭受家庭暴力，可以申请人身安全保护令。",
        )
        code = public(
            "v2",
            title="中华人民共和国民法典",
            body="第一条 夫妻之间禁止家庭暴力，禁止虐待。第二条 配偶一方实施家庭暴力的，另一方可以请求离婚，夫妻"
            "共同财产依法分割。第三条 配偶实施家庭暴力导致离婚的，无过错方有权请求损害赔偿，配偶应当赔偿。",
        )
        await index.apply([change(against), change(code)])
        await index.refresh()
        hits = (await index.search(SearchQuery(text="老公家暴", limit=10))).hits
        assert [h.version.name for h in hits] == [against.name, code.name], [(h.version.name, h.score) for h in hits]

    async def test_an_article_whose_label_is_longer_than_any_label_is_found_by_its_text(
        self, index: SearchIndex
    ) -> None:
        """A label the index cannot hold as a term (60 KB, past Elasticsearch's 32,766-byte keyword) or
        read as a number (5,000 digits) is kept as no label: the version is indexed, its articles are
        found by their text, and the others keep their labels (they set the version aside before)."""
        long_labels = [f"第{'1一' * 15000}条 关于停放秩序的规定。", f"第{'1' * 5000}条 关于收费标准的规定。"]
        body = "\n".join([*long_labels, "第三条 本办法自公布之日起施行。"])
        odd = public("odd", title="赤峰市停车场管理办法", body=body)
        await index.apply([change(odd)])
        await index.refresh()
        for text in ("停放秩序", "收费标准", "赤峰市停车场管理办法 第三条"):
            assert [h.version.name for h in (await index.search(SearchQuery(text=text))).hits] == [odd.name], text
        assert await index.get(odd.name) is not None

    async def test_the_exact_title_ranks_first(self, loaded: SearchIndex) -> None:
        assert (await self.found(loaded, "赤峰市城市绿化管理办法"))[:2] == [GREEN_NEW.name, GREEN_RULES.name]
        assert (await self.found(loaded, "赤峰市城市绿化管理办法实施细则"))[0] == GREEN_RULES.name

    async def test_a_query_of_punctuation_only_finds_nothing(self, loaded: SearchIndex) -> None:
        result = await loaded.search(SearchQuery(text="，。！"))
        assert (result.hits, result.total) == ((), 0)

    # ---- the second search of a query that found nothing ------------------------------------------

    async def test_a_long_query_of_common_words_finding_nothing_still_finds_the_document_of_its_rare_words(
        self, loaded: SearchIndex
    ) -> None:
        await loaded.apply([change(v) for v in COMMON])
        await loaded.refresh()
        common_terms = len(parse_query(COMMON_QUERY).terms) - 2
        assert common_terms > RELAXED_TERMS
        assert (await loaded.search(SearchQuery(text=COMMON_QUERY))).total == 0
        page = await PublicSearch(loaded, FakeClock(T0), JurisdictionProfile()).search(SearchQuery(text=COMMON_QUERY))
        assert page.hits[0].version.name == RULE_C.name

    async def test_a_question_that_finds_less_than_a_page_is_followed_by_what_holds_its_rarest_words(
        self, index: SearchIndex
    ) -> None:
        """A whole question cut into bigrams holds some a statute never says, so the law it is about
        may hold too few of its terms to be found. What the question as read finds comes first; the
        versions holding its rarest words follow, on every page size, counted in the total."""
        enough = public("f1", title="赤峰市甲办法", body="第一条 禁止露天焚烧秸秆，乡镇负责巡查，违者处以罚款。")
        rare = public("f2", title="赤峰市乙办法", body="第一条 苗木应当登记。")
        await index.apply([change(enough), change(rare)])
        await index.refresh()
        text = "秸秆 巡查 罚款 苗木"
        assert parse_query(text).minimum_should_match == 3
        assert [h.version.name for h in (await index.search(SearchQuery(text=text, limit=10))).hits] == [enough.name]
        search = PublicSearch(index, FakeClock(T0), JurisdictionProfile())
        page = await search.search(SearchQuery(text=text, limit=10))
        assert ([h.version.name for h in page.hits], page.total) == ([enough.name, rare.name], 2)
        pages = [await search.search(SearchQuery(text=text, offset=i, limit=1)) for i in range(3)]
        assert [h.version.name for p in pages for h in p.hits] == [enough.name, rare.name]
        assert [p.total for p in pages] == [2, 2, 2]

    # ---- state and time ------------------------------------------------------------------------------

    async def test_default_search_is_the_rules_in_force(self, loaded: SearchIndex) -> None:
        assert set(await self.found(loaded)) == {v.name for v in IN_FORCE}
        assert await self.found(loaded, "绿地") == [GREEN_NEW.name]
        assert await self.found(loaded, "燃放") == []

    async def test_text_only_in_an_older_version_is_not_found_by_default(self, loaded: SearchIndex) -> None:
        assert await self.found(loaded, "旧版独有条款") == []
        assert await self.found(loaded, "旧版独有条款", states=frozenset({"AMENDED"})) == [GREEN_OLD.name]

    async def test_consultations_are_never_search_results(self, loaded: SearchIndex) -> None:
        every_state = frozenset({"PROMULGATED", "IN_FORCE", "AMENDED", "REPEALED", "DECLARED_INVALID", "EXPIRED"})
        assert await self.found(loaded, "养犬", states=every_state) == []

    async def test_valid_on_finds_the_version_in_effect_that_day(self, loaded: SearchIndex) -> None:
        for day, expected in [
            (D(2014, 12, 31), []),
            (D(2015, 1, 1), [GREEN_OLD.name]),
            (D(2021, 12, 31), [GREEN_OLD.name]),
            (D(2022, 1, 1), [GREEN_NEW.name]),
            (D(2030, 1, 1), [GREEN_NEW.name]),
        ]:
            assert await self.found(loaded, "城市绿化由园林部门负责", valid_on=day) == expected, day
        assert await self.found(loaded, "烟花爆竹", valid_on=D(2019, 1, 1)) == [FIREWORKS.name]
        assert await self.found(loaded, "烟花爆竹", valid_on=D(2020, 6, 1)) == []

    async def test_valid_on_overrides_states(self, loaded: SearchIndex) -> None:
        found = await self.found(loaded, "绿化", valid_on=D(2018, 1, 1), states=frozenset({"IN_FORCE"}))
        assert found == [GREEN_OLD.name]

    # ---- filters, facets, order, pages ---------------------------------------------------------------

    async def test_filters_narrow_the_results(self, loaded: SearchIndex) -> None:
        assert await self.found(loaded, kinds=frozenset({"LOCAL_REGULATION"})) == [RULE_C.name]
        assert await self.found(loaded, issuing_bodies=frozenset({"赤峰市人民代表大会常务委员会"})) == [RULE_C.name]
        assert await self.found(loaded, uniform_number="赤政发〔2021〕5号") == [RULE_A.name]
        assert set(await self.found(loaded, promulgation=DateRange(D(2020, 1, 1), D(2021, 3, 1)))) == {
            RULE_A.name,
            RULE_B.name,
        }
        assert set(await self.found(loaded, effective=DateRange(start=D(2022, 1, 1)))) == {
            GREEN_NEW.name,
            GREEN_RULES.name,
        }

    async def test_facets_count_each_dimension_without_its_own_filter(self, loaded: SearchIndex) -> None:
        result = await loaded.search(SearchQuery(kinds=frozenset({"GOVERNMENT_RULE"})))
        assert result.total == 2
        assert dict(result.facets["kinds"]) == {"GOVERNMENT_RULE": 2, "NORMATIVE_DOCUMENT": 2, "LOCAL_REGULATION": 1}
        assert dict(result.facets["states"]) == {"IN_FORCE": 2, "AMENDED": 1, "REPEALED": 1}
        assert dict(result.facets["issuing_bodies"]) == {"赤峰市人民政府": 2}
        assert dict(result.facets["years"]) == {"2021": 2}

    async def test_facets_follow_the_text_query(self, loaded: SearchIndex) -> None:
        result = await loaded.search(SearchQuery(text="绿化"))
        assert result.total == 2
        assert dict(result.facets["states"]) == {"IN_FORCE": 2, "AMENDED": 1}

    async def test_results_sort_by_date(self, loaded: SearchIndex) -> None:
        by_promulgation = await self.found(loaded, sort=Sort.PROMULGATION_DATE_DESC)
        assert by_promulgation == [GREEN_RULES.name, GREEN_NEW.name, RULE_A.name, RULE_B.name, RULE_C.name]
        by_effect = await self.found(loaded, "绿化", sort=Sort.EFFECTIVE_DATE_DESC)
        assert by_effect == [GREEN_RULES.name, GREEN_NEW.name]

    async def test_pages_cover_every_result_once(self, loaded: SearchIndex) -> None:
        seen: list[str] = []
        for offset in range(0, 6, 2):
            page = await loaded.search(SearchQuery(offset=offset, limit=2, sort=Sort.PROMULGATION_DATE_DESC))
            assert page.total == 5
            seen += [h.version.name for h in page.hits]
        assert sorted(seen) == sorted(v.name for v in IN_FORCE)

    # ---- time budget --------------------------------------------------------------------------------

    async def test_a_search_within_its_deadline_answers_as_without_one(self, loaded: SearchIndex) -> None:
        query = SearchQuery(text="备案", limit=100)
        bounded = await loaded.search(query, deadline=time.monotonic() + 60)
        assert bounded == await loaded.search(query)
        assert bounded.total > 0

    async def test_a_search_whose_deadline_has_passed_is_refused_and_the_next_one_answers(
        self, loaded: SearchIndex
    ) -> None:
        with pytest.raises(SearchTooLong):
            await loaded.search(SearchQuery(text="备案", limit=100), deadline=time.monotonic() - 1)
        assert (await loaded.search(SearchQuery(text="备案", limit=100))).total > 0

    # ---- consultations ---------------------------------------------------------------------------------

    async def test_open_consultations_are_those_whose_window_contains_the_day(self, loaded: SearchIndex) -> None:
        assert await loaded.open_consultations(D(2026, 3, 2), 0, 10) == ([DOGS_OPEN], 1)
        assert await loaded.open_consultations(D(2026, 3, 31), 0, 10) == ([DOGS_OPEN], 1)
        assert await loaded.open_consultations(D(2026, 1, 1), 0, 10) == ([PARKS_CLOSED], 1)
        assert await loaded.open_consultations(D(2026, 4, 1), 0, 10) == ([], 0)

    async def test_consultations_page_by_closing_date(self, index: SearchIndex) -> None:
        drafts = [
            public(f"p{i}", state="PUBLIC_COMMENT", comment=(D(2026, 3, 1), D(2026, 3, 10 + i))) for i in (3, 1, 2)
        ]
        await index.apply([change(v) for v in drafts])
        await index.refresh()
        first, total = await index.open_consultations(D(2026, 3, 5), 0, 2)
        rest, _ = await index.open_consultations(D(2026, 3, 5), 2, 2)
        assert total == 3
        assert names(first + rest) == ["documents/p1/versions/1", "documents/p2/versions/1", "documents/p3/versions/1"]

    # ---- comment counts ------------------------------------------------------------------------------

    async def test_a_comment_count_keeps_the_highest_whatever_the_order_or_copies(self, loaded: SearchIndex) -> None:
        name = DOGS_OPEN.name
        assert await loaded.comment_counts([name]) == {}
        await loaded.apply([], comments=[CommentCount(name, 2), CommentCount(name, 1), CommentCount(name, 2)])
        assert await loaded.comment_counts([name]) == {name: 2}
        await loaded.apply([], comments=[CommentCount(name, 1)])  # a late copy
        assert await loaded.comment_counts([name]) == {name: 2}
        await loaded.apply([change(DOGS_OPEN, 5)], comments=[CommentCount(name, 3)])
        assert await loaded.comment_counts([name, PARKS_CLOSED.name, "documents/x/versions/1"]) == {name: 3}
        # The count lives beside the version: the version reads back as it was written.
        assert await loaded.get(name) == DOGS_OPEN

    async def test_a_comment_count_read_before_its_version_and_across_a_rebuild_is_kept(
        self, index: SearchIndex
    ) -> None:
        await index.apply([], comments=[CommentCount(DOGS_OPEN.name, 4)])
        await index.apply([change(DOGS_OPEN, 2)])
        assert await index.comment_counts([DOGS_OPEN.name]) == {DOGS_OPEN.name: 4}
        build = await index.begin_rebuild()
        await build.apply([change(DOGS_OPEN, 2)])
        await build.switch()
        assert await index.comment_counts([DOGS_OPEN.name]) == {DOGS_OPEN.name: 4}
        await index.apply([], comments=[CommentCount(DOGS_OPEN.name, 5)])
        assert await index.comment_counts([DOGS_OPEN.name]) == {DOGS_OPEN.name: 5}

    # ---- rebuild ------------------------------------------------------------------------------------------

    async def test_a_rebuild_replaces_the_index_only_when_it_switches(self, loaded: SearchIndex) -> None:
        before = await loaded.entries()
        build = await loaded.begin_rebuild()
        await build.apply([change(RULE_A, 9)])
        assert await self.found(loaded, "法治") != []  # still the old index
        assert await loaded.entries() == before
        await build.switch()
        await loaded.refresh()
        assert await loaded.entries() == {RULE_A.name: (9, RULE_A)}
        assert await self.found(loaded, "法治") == [RULE_A.name]
        # Writes now go to the new index.
        await loaded.apply([change(RULE_B, 2)])
        await loaded.refresh()
        assert set(await self.found(loaded, "法治")) == {RULE_A.name, RULE_B.name}

    async def test_an_aborted_rebuild_changes_nothing(self, loaded: SearchIndex) -> None:
        before = await loaded.entries()
        build = await loaded.begin_rebuild()
        await build.apply([change(RULE_A, 9)])
        await build.abort()
        assert await loaded.entries() == before
        again = await loaded.begin_rebuild()
        await again.apply([change(v, 2) for v in ALL])
        await again.switch()
        await loaded.refresh()
        assert {n: v for n, (_, v) in (await loaded.entries()).items()} == {v.name: v for v in ALL}
