"""Structure of a text (headings are not article text, items of amendment acts), articles kept as
imported, and the state of imported versions from their dates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import doctest

import pytest
from normreg_common.errors import InvalidArgument
from normreg_common.principal import SCHEDULER, Role
from normreg_common.profile import JurisdictionProfile
from normreg_registry.domain import structure
from normreg_registry.domain.articles import Article, split_articles
from normreg_registry.domain.lifecycle import Kind, State
from normreg_registry.domain.model import Document, ImportedVersion
from normreg_registry.domain.versions import TimelineEntry

from tests.conftest import SHANGHAI, principal

REGISTRAR = principal("reg", Role.REGISTRAR, org="政府办")
PROFILE = JurisdictionProfile()
D = dt.date


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(structure).failed == 0


def test_a_chapter_heading_is_not_the_text_of_the_article_before_it() -> None:
    body = (
        "第一章 总则\n第一条 为了解决纠纷，制定本法。\n第二条 本法适用于民事纠纷。\n"
        "第二章 调解\n第一节 一般规定\n第三条 调解应当遵循自愿原则。"
    )
    parsed = structure.parse(body)
    assert [(a.label, a.text) for a in parsed.articles] == [
        ("第一条", "为了解决纠纷，制定本法。"),
        ("第二条", "本法适用于民事纠纷。"),
        ("第三条", "调解应当遵循自愿原则。"),
    ]
    assert parsed.headings == ("第一章 总则", "第二章 调解", "第一节 一般规定")
    assert parsed.articles[2].heading == "第一节 一般规定"
    assert split_articles(body)[1] == Article("第二条", "本法适用于民事纠纷。")


def test_an_amendment_act_is_split_into_its_items() -> None:
    body = (
        "一、将第十七条修改为：“已满十六周岁的人犯罪，应当负刑事责任。”\n"
        "二、删去第五十条。\n三、本修正案自2021年3月1日起施行。"
    )
    assert [a.label for a in split_articles(body)] == ["一、", "二、", "三、"]
    assert split_articles(body)[1].text == "删去第五十条。"


def test_items_inside_articles_stay_in_their_article() -> None:
    body = "第一条 下列行为应当处罚：\n一、盗窃；\n二、诈骗。\n第二条 本法自公布之日起施行。"
    assert [a.label for a in split_articles(body)] == ["第一条", "第二条"]


def imported(versions: list[ImportedVersion], today: dt.date) -> Document:
    at = dt.datetime.combine(today, dt.time(9), tzinfo=SHANGHAI)
    return Document.imported(
        id="law", kind=Kind.NATIONAL_LAW, issuing_body="全国人大常委会", versions=versions,
        principal=REGISTRAR, at=at, today=today,
    )  # fmt: skip


def test_the_articles_sent_with_an_import_are_kept() -> None:
    given = (Article("第一条", "原文第一条。"), Article("第十七条之一", "增加的条文。"))
    doc = imported(
        [ImportedVersion("某法", "第一条 原文第一条。", State.IN_FORCE, D(2020, 1, 1), articles=given)], D(2026, 3, 2)
    )
    assert doc.versions[0].articles == given


def test_a_version_effective_after_today_is_not_yet_in_force_and_the_one_before_still_is() -> None:
    versions = [
        ImportedVersion("商标法", "第一条 旧。", State.AMENDED, D(2019, 4, 23), D(2019, 11, 1)),
        ImportedVersion("商标法", "第一条 新。", State.IN_FORCE, D(2026, 9, 1), D(2027, 1, 1)),
    ]
    doc = imported(versions, D(2026, 11, 29))
    assert [v.state for v in doc.versions] == [State.IN_FORCE, State.PROMULGATED]
    assert "amended" not in [e.event for e in doc.versions[0].timeline]
    # On the effective date the scheduler moves both, as for any promulgated document.
    on_the_day = dt.datetime(2027, 1, 1, 0, 5, tzinfo=SHANGHAI)
    assert doc.run_clock(SCHEDULER, on_the_day, PROFILE)
    assert [v.state for v in doc.versions] == [State.AMENDED, State.IN_FORCE]


def test_a_version_already_effective_is_imported_in_force() -> None:
    versions = [ImportedVersion("某法", "第一条 文。", State.IN_FORCE, D(2026, 9, 1), D(2026, 11, 29))]
    assert [v.state for v in imported(versions, D(2026, 11, 29)).versions] == [State.IN_FORCE]


def test_acts_that_amended_a_version_are_on_its_timeline_and_do_not_end_it() -> None:
    acts = (TimelineEntry(D(2020, 12, 26), "amended_by", "中华人民共和国刑法修正案（十一）"),)
    doc = imported(
        [ImportedVersion("中华人民共和国刑法", "第一条 文。", State.IN_FORCE, D(1997, 3, 14), public_acts=acts)],
        D(2026, 3, 2),
    )
    [version] = doc.versions
    assert version.state == State.IN_FORCE
    assert acts[0] in version.timeline
    assert [e.event for e in version.timeline] == ["promulgated", "in_force", "amended_by"]


def test_a_validity_period_that_ends_before_the_version_takes_effect_is_refused() -> None:
    late = ImportedVersion(
        "某办法", "第一条 文。", State.IN_FORCE, D(2024, 1, 1), D(2024, 2, 1), validity_end=D(2024, 1, 31)
    )
    with pytest.raises(InvalidArgument) as refused:
        imported([late], D(2026, 3, 2))
    assert refused.value.field == "versions[0].validity_end_date"
    # Ending the day it takes effect is a period of one day, and stands.
    one_day = dataclasses.replace(late, validity_end=D(2024, 2, 1))
    promulgation = imported([one_day], D(2024, 2, 1)).versions[0].promulgation
    assert promulgation is not None and promulgation.validity_end == D(2024, 2, 1)


def test_a_numeral_longer_than_any_law_numbers_with_is_no_label_but_text() -> None:
    # 5,000 digits, or 30,000 characters of mixed numerals: as labels they were terms no index holds.
    for numeral in ("1" * 5000, "1一" * 15000, "一" * 9):
        body = f"第一条 为了规范管理，制定本办法。\n第{numeral}条 另一事项。\n第二条 本办法自公布之日起施行。"
        parsed = split_articles(body)
        assert [a.label for a in parsed] == ["第一条", "第二条"]
        assert "另一事项" in parsed[0].text
    # The longest a law numbers with (民法典 第一千二百六十条, 第十七条之一) stays a label.
    longest = split_articles("第一千二百六十条 文。\n第十七条之一 增。")
    assert [a.label for a in longest] == ["第一千二百六十条", "第十七条之一"]
