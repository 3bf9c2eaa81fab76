"""The portal's pure pieces: snippet markup, outline of chapters, article comparison, dates, guards."""

from __future__ import annotations

import datetime as dt
import gzip
import re

import pytest
from google.type import date_pb2
from hypothesis import given
from hypothesis import strategies as st
from normreg.v1 import search_service_pb2 as spb
from normreg_portal import dates, guards, searchform
from normreg_portal.compare import compare
from normreg_portal.highlight import snippet_html
from normreg_portal.rendering import Gzipped, PageCache, accepts_gzip
from normreg_portal.structure import outline


@given(st.text())
def test_a_snippet_never_carries_markup_but_its_marks(text: str) -> None:
    html = str(snippet_html(text))
    assert re.sub(r"</?mark>", "", html).count("<") == 0


def test_a_snippet_marks_matches_and_escapes_the_rest() -> None:
    html = str(snippet_html('前<script>alert(1)</script><em>犬链</em>后"&'))
    assert html == "前&lt;script&gt;alert(1)&lt;/script&gt;<mark>犬链</mark>后&#34;&amp;"
    assert (
        str(snippet_html("<em><img src=x onerror=alert(1)></em>")) == "<mark>&lt;img src=x onerror=alert(1)&gt;</mark>"
    )


def test_chapter_headings_leave_the_articles_and_make_the_contents() -> None:
    body = "序言一段。\n第一章 总则\n第一条 甲。\n第二条 乙。\n第二章 管理\n第一节 登记\n第三条 丙。\n丙的第二款。"
    articles = [("第一条", "甲。"), ("第二条", "乙。\n第二章 管理\n第一节 登记"), ("第三条", "丙。\n丙的第二款。")]
    shape = outline(body, articles)
    assert shape.preamble == ("序言一段。",)
    assert [(p.label, p.title, p.level, [a.label for a in p.articles]) for p in shape.parts] == [
        ("第一章", "总则", 1, ["第一条", "第二条"]),
        ("第二章", "管理", 1, []),
        ("第一节", "登记", 2, ["第三条"]),
    ]
    assert shape.articles[1].paragraphs == ("乙。",)
    assert shape.articles[2].paragraphs == ("丙。", "丙的第二款。")


def test_headings_the_registry_parsed_out_of_the_articles_still_make_the_contents() -> None:
    body = "第一章 总则\n第一条 为了规范养犬。\n第二章 登记\n第一节 申请\n第二条 养犬实行登记。\n第三条 登记免费。"
    articles = [("第一条", "为了规范养犬。"), ("第二条", "养犬实行登记。"), ("第三条", "登记免费。")]
    parts = outline(body, articles).parts
    assert [(p.label, p.title, [a.label for a in p.articles]) for p in parts] == [
        ("第一章", "总则", ["第一条"]),
        ("第二章", "登记", []),
        ("第一节", "申请", ["第二条", "第三条"]),
    ]


@given(
    st.text(alphabet="第一二章节条 \n甲乙。", max_size=80),
    st.lists(st.tuples(st.sampled_from(["", "第一条", "第二条", "一、"]), st.text(max_size=20)), max_size=5),
)
def test_any_text_and_articles_make_an_outline(body: str, articles: list[tuple[str, str]]) -> None:
    # Imported articles can come without a label; no document may make its page fail.
    shape = outline(body, articles)
    assert [a.label for a in shape.articles] == [label for label, _ in articles]


def test_a_body_without_articles_is_all_preamble() -> None:
    shape = outline("一段。\n\n二段。", [])
    assert (shape.parts, shape.preamble) == ((), ("一段。", "二段。"))


def test_comparison_aligns_renumbered_articles_and_marks_words() -> None:
    old = [("第一条", "甲。"), ("第二条", "链长一点五米。"), ("第三条", "施行。"), ("第四条", "将删除。")]
    new = [("第一条", "甲。"), ("第二条", "链长二米。"), ("第三条", "新增疫苗。"), ("第四条", "施行。")]
    changes = compare(old, new)
    assert [(c.change, c.old_label, c.new_label) for c in changes] == [
        ("unchanged", "第一条", "第一条"),
        ("changed", "第二条", "第二条"),
        ("added", "", "第三条"),
        ("unchanged", "第三条", "第四条"),
        ("removed", "第四条", ""),
    ]
    assert str(changes[1].old_html) == "链长<del>一点五</del>米。"
    assert str(changes[1].new_html) == "链长<ins>二</ins>米。"


def test_comparison_escapes_the_text() -> None:
    [change] = compare([("第一条", "<b>旧</b>")], [("第一条", "<b>新</b>")])
    assert "<b>" not in str(change.old_html) + str(change.new_html)


def test_dates_read_strings_and_google_type_date() -> None:
    assert dates.to_date("2025-01-02") == dt.date(2025, 1, 2)
    assert dates.to_date(date_pb2.Date(year=2025, month=1, day=2)) == dt.date(2025, 1, 2)
    assert dates.to_date(date_pb2.Date()) is None
    assert dates.to_date("") is None and dates.to_date("2025-02-30") is None
    request = spb.GetPublicDocumentRequest()
    dates.set_date(request, "valid_on", dt.date(2025, 1, 2))
    assert request.valid_on == date_pb2.Date(year=2025, month=1, day=2)
    assert dates.parse_user_date(" 2025/1/2 ") == dt.date(2025, 1, 2)
    for bad in ("2025-13-01", "yesterday", "99999-01-01", "2025-01", "１２３"):
        try:
            dates.parse_user_date(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
    # Written correctly but outside the years answered for: said so, not called a bad format.
    for far in ("9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01"):
        try:
            dates.parse_user_date(far)
        except dates.DateOutOfRange:
            continue
        raise AssertionError(far)


def test_the_search_form_defaults_to_in_force_and_lists_by_date_without_words() -> None:
    from normreg.v1 import document_pb2 as pb

    form = searchform.parse({})
    request = form.request()
    assert (list(request.states), request.sort) == ([pb.VERSION_STATE_IN_FORCE], spb.SORT_ORDER_PROMULGATION_DATE_DESC)
    dated = searchform.parse({"q": "犬", "valid_on": "2025-1-1", "year": "2024", "kind": "government_rule"}).request()
    assert (list(dated.states), dates.iso(dated.valid_on), dated.sort) == ([], "2025-01-01", spb.SORT_ORDER_RELEVANCE)
    assert (dates.iso(dated.promulgation_date.from_date), dates.iso(dated.promulgation_date.to_date)) == (
        "2024-01-01",
        "2024-12-31",
    )
    assert list(dated.kinds) == [pb.DOCUMENT_KIND_GOVERNMENT_RULE]
    assert searchform.parse({"q": "a\x00b\nc"}).q == "a b c"


def test_the_rate_limit_counts_per_client_in_a_sliding_window() -> None:
    limiter = guards.RateLimiter(2, 60.0)
    assert [limiter.allow("a", t) for t in (0, 1, 2)] == [True, True, False]
    assert limiter.allow("b", 2)
    assert limiter.allow("a", 60.5) and not limiter.allow("a", 60.6)


def test_the_rate_limit_memory_stays_bounded() -> None:
    limiter = guards.RateLimiter(1, 60.0, max_keys=100)
    for i in range(1000):
        limiter.allow(f"client{i}", float(i) / 100)
    assert len(limiter._events) <= 100


def test_comments_are_cleaned_and_bounded() -> None:
    assert guards.clean_comment(" 建议\r\n增加\x00停放点 ") == ("建议\n增加停放点", "")
    assert guards.clean_comment("  ")[1] and guards.clean_comment("长" * 5001)[1]
    assert not guards.csrf_ok(None, "x") and not guards.csrf_ok("a", "b") and guards.csrf_ok("tok", "tok")


def test_a_document_page_leaves_out_the_dates_it_does_not_have() -> None:
    # Unset google.type.Date fields are messages all the same: the page must not print empty dates.
    from normreg_portal.rendering import make_templates
    from normreg_portal.structure import outline

    doc = spb.PublicDocument(
        name="documents/law/versions/1",
        title="某法",
        state=7,
        versions=[spb.PublicVersionSummary(name="documents/law/versions/1", version_number=1, state=7)],
    )
    doc.versions[0].valid_from.CopyFrom(date_pb2.Date(year=2020, month=1, day=1))
    html = (
        make_templates("x")
        .env.get_template("document.html")
        .render(
            doc=doc,
            doc_id="law",
            number=1,
            outline=outline("", []),
            versions=list(doc.versions),
            valid_on="",
            pinned=False,
            comparable=False,
            base="",
        )
    )
    assert "公布日期" not in html and "施行日期" not in html and "有效期至" not in html
    assert "2020年1月1日 起</td>" in html


def test_a_browser_that_cannot_start_fails_the_run_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.portal import browser

    monkeypatch.setattr(browser, "REAL_SERVERS_REQUIRED", True)
    with pytest.raises(pytest.fail.Exception, match="need a browser"):
        browser.unavailable("chromium did not start")
    monkeypatch.setattr(browser, "REAL_SERVERS_REQUIRED", False)
    with pytest.raises(pytest.skip.Exception):
        browser.unavailable("chromium did not start")


def test_a_kept_page_is_found_only_by_the_very_same_reply_and_the_cache_stays_bounded() -> None:
    cache = PageCache(size=3, max_bytes=100)
    made: list[str] = []

    def make(text: str) -> bytes:
        made.append(text)
        return text.encode()

    reply = b"\x0a\x05state" * 3
    assert cache.page(("p",), reply, lambda: make("a")) == b"a"
    assert cache.page(("p",), bytes(bytearray(reply)), lambda: make("b")) == b"a"  # equal bytes: kept
    changed = reply[:-1] + b"x"
    assert cache.page(("p",), changed, lambda: make("c")) == b"c"  # one byte differs: rendered
    assert cache.page(("p",), reply, lambda: make("c2")) == b"c2"  # the page of `changed` replaced a's
    assert cache.page(("q",), reply, lambda: make("d")) == b"d"  # other parameters: rendered
    assert made == ["a", "c", "c2", "d"]
    assert cache.held_bytes == 2 * len(reply) + len("c2") + len("d")  # one page per address
    cache.page(("r",), b"1", lambda: make("e"))
    cache.page(("s",), b"1", lambda: make("e"))
    assert cache.page(("p",), reply, lambda: make("f")) == b"f"  # the oldest of more than 3 went
    cache.page(("t",), b"x" * 90, lambda: make("g"))
    assert cache.held_bytes <= 100
    assert cache.page(("u",), b"y" * 200, lambda: make("h")) == b"h"  # larger than the bound: not kept
    assert cache.held_bytes <= 100


def test_a_kept_page_is_gzipped_once_for_the_clients_that_accept_it_and_counted_in_the_bound() -> None:
    cache = PageCache(size=3, max_bytes=10_000)
    page = "第一条　为了规范城市管理。".encode() * 100
    made: list[bytes] = []

    def make() -> bytes:
        made.append(page)
        return page

    assert cache.page(("p",), b"reply", make) == page
    held = cache.held_bytes
    packed = cache.page(("p",), b"reply", make, gzip=True)
    assert isinstance(packed, Gzipped)
    assert gzip.decompress(packed.body) == page
    assert cache.held_bytes == held + len(packed.body)
    assert cache.page(("p",), b"reply", make, gzip=True) == packed
    assert len(made) == 1  # rendered once, gzipped once
    changed = cache.page(("p",), b"reply 2", make, gzip=True)
    assert isinstance(changed, Gzipped) and len(made) == 2  # a new reply: rendered and gzipped again
    assert cache.page(("short",), b"r", lambda: b"<p>short</p>", gzip=True) == b"<p>short</p>"
    assert PageCache(size=0).page(("p",), b"reply", make, gzip=True) == packed  # no cache: gzipped anyway


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip, deflate, br", True),
        ("GZIP", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("x-gzip", True),
        ("", False),
        ("identity", False),
        ("br", False),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("gzip;q=0, *", False),
        ("*;q=0", False),
        ("gzip;q=x", False),
        ("deflate, *;q=0.1", True),
    ],
)
def test_accept_encoding_decides_gzip_by_name_wildcard_and_weight(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted
