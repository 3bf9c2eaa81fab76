"""The portal over HTTP against the real services: status codes, escaping, headers, the 404 that
hides drafts, odd input, the comment form's guards, feeds and the JSON API."""

from __future__ import annotations

import itertools
import logging
import re
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normreg_portal import guards

from tests.portal.site import Site


@pytest.fixture(scope="module")
def http(site: Site) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        yield client


def main_of(html: str) -> str:
    found = re.search(r"<main.*?</main>", html, re.DOTALL)
    assert found, html[:500]
    return found.group(0)


PAGES = [
    "/",
    "/search?q=养犬",
    "/search?status=all",
    "/documents/{dogs}",
    "/documents/{dogs}/versions/1",
    "/documents/{dogs}/compare?from=1&to=2",
    "/documents/{fireworks}",
    "/consultations",
    "/consultations/{bikes}",
    "/documents/{dogs}/review-suggestion",
]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_is_chinese_with_a_strict_policy_and_nothing_from_other_hosts(
    http: httpx.Client, site: Site, page: str
) -> None:
    reply = http.get(page.format(**site.ids))
    assert reply.status_code == 200
    assert '<html lang="zh-CN">' in reply.text
    policy = reply.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
    assert reply.headers["x-content-type-options"] == "nosniff"
    # Every asset and link is the portal's own: it works on an intranet with no way out. (The only
    # absolute URL is a document's canonical link, to this same site.)
    absolute = re.findall(r"""(?:src|href|action)=["']((?:https?:)?//[^"']*)""", reply.text)
    assert [url for url in absolute if not url.startswith(site.url + "/")] == []
    assert "style=" not in reply.text and "<script" not in reply.text


@pytest.mark.parametrize(
    "path",
    [
        "/documents/{secret}",
        "/documents/{secret}/versions/1",
        "/consultations/{secret}",
        "/documents/no-such-document",
        "/documents/NOT-AN-ID",
        "/documents/{dogs}/versions/9",
        "/documents/{dogs}/versions/0",
        "/documents/{dogs}/versions/x",
        "/documents/{dogs}/history",
        "/documents/{dogs}/comments",
        "/documents/{dogs}/reviews",
        "/consultations/{dogs}",
        "/documents/%3Cscript%3E",
        # A line break after an id or a version number is not that id or number.
        "/documents/{dogs}%0A",
        "/documents/{dogs}/versions/1%0A",
        "/documents/{dogs}%0A/versions/1",
        "/numbers/赤政规〔1999〕1号",
        "/no/such/page",
    ],
)
def test_hidden_unknown_and_internal_urls_are_the_same_404(http: httpx.Client, site: Site, path: str) -> None:
    missing = http.get("/consultations/no-such-document" if path.startswith("/consultations") else "/documents/no-such")
    reply = http.get(path.format(**site.ids))
    assert reply.status_code == 404
    assert main_of(reply.text) == main_of(missing.text)
    assert "内部草案" not in reply.text and "尚未公开，不得" not in reply.text


def test_api_hides_drafts_behind_the_same_404(http: httpx.Client, site: Site) -> None:
    for path in (f"/api/v1/documents/{site.ids['secret']}", f"/api/v1/documents/{site.ids['bikes']}", "/api/v1/x"):
        reply = http.get(path)
        assert reply.status_code == 404, path
        assert reply.json()["error"]["status"] == 404


def test_document_text_and_titles_are_escaped_everywhere(http: httpx.Client, site: Site) -> None:
    page = http.get(f"/documents/{site.ids['markup']}").text
    assert "<script>" not in page and "<b onmouseover" not in page and "<i>标记</i>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "赤峰市&lt;i&gt;标记&lt;/i&gt;测试办法" in page
    found = http.get("/search", params={"q": "原样显示"}).text
    assert "<mark>原样显示</mark>" in found
    assert "<script>" not in found and "<b onmouseover" not in found
    # A query is shown back escaped too.
    echoed = http.get("/search", params={"q": '"><script>alert(1)</script>'}).text
    assert "<script>alert(1)" not in echoed and "&lt;script&gt;alert(1)&lt;/script&gt;" in echoed


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/search?q=" + "长" * 201, 400),
        ("/search?q=" + quote("x" * 5000), 400),
        ("/search?valid_on=2025-13-01", 400),
        ("/search?valid_on=yesterday", 400),
        ("/search?valid_on=99999-01-01", 400),
        ("/search?year=20x4", 400),
        ("/search?year=1066", 400),
        ("/search?status=bogus", 400),
        ("/search?kind=bogus", 400),
        ("/search?sort=random", 400),
        ("/search?q=犬&page=not-a-token", 400),
        ("/documents/{dogs}?valid_on=2025-02-30", 400),
        ("/documents/{dogs}?valid_on=%00", 400),
        ("/documents/{dogs}?valid_on=1990-01-01", 404),
        ("/documents/{dogs}/compare?from=abc", 400),
        ("/documents/{dogs}/compare?from=7&to=1", 404),
        ("/api/v1/search?page_size=1000", 400),
        ("/api/v1/documents/{dogs}?valid_on=bad", 400),
        ("/consultations/{bikes}/comments", 405),
    ],
)
def test_bad_input_gets_a_friendly_4xx_page(http: httpx.Client, site: Site, path: str, status: int) -> None:
    reply = http.get(path.format(**site.ids))
    assert reply.status_code == status
    if path.startswith("/search"):
        assert '<html lang="zh-CN">' in reply.text and "检索条件有误" in reply.text
    elif not path.startswith("/api/"):
        assert '<html lang="zh-CN">' in reply.text and "返回首页" in reply.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    q=st.text(max_size=300),
    valid_on=st.one_of(st.just(""), st.text(max_size=12)),
    sort=st.sampled_from(["", "date", "x"]),
)
def test_no_query_string_makes_the_search_page_fail(http: httpx.Client, q: str, valid_on: str, sort: str) -> None:
    reply = http.get("/search", params={"q": q, "valid_on": valid_on, "sort": sort})
    assert reply.status_code in (200, 400), reply.text[:300]
    api = http.get("/api/v1/search", params={"q": q, "valid_on": valid_on, "sort": sort})
    assert api.status_code in (200, 400)


def test_search_lists_filters_and_counts(http: httpx.Client, site: Site) -> None:
    in_force = http.get("/search").text
    assert "赤峰市养犬管理办法" in in_force and "赤峰市烟花爆竹燃放管理规定" not in in_force
    repealed = http.get("/search", params={"status": "repealed"}).text
    assert "赤峰市烟花爆竹燃放管理规定" in repealed and "共 1 件" in repealed
    # A draft is never a search result, whatever the filter.
    drafts = main_of(http.get("/search", params={"q": "共享单车", "status": "all"}).text)
    assert "共 0 件" in drafts and "停放管理办法" not in drafts
    # As in force on an earlier date: the first version, with its wording.
    older = http.get("/search", params={"q": "犬链", "valid_on": site.dates["dogs_v1_valid"]}).text
    assert "<mark>犬链</mark>，链长不得超过一点五米" in older


def test_a_uniform_number_redirects_to_its_document(http: httpx.Client, site: Site) -> None:
    old = http.get(f"/numbers/{site.numbers['dogs_v1']}")
    assert (old.status_code, old.headers["location"]) == (302, f"/documents/{site.ids['dogs']}/versions/1")
    current = http.get(f"/numbers/{site.numbers['dogs_v1'].replace('1号', '2号')}")
    assert (current.status_code, current.headers["location"]) == (302, f"/documents/{site.ids['dogs']}")


def test_a_document_shows_status_toc_anchors_timeline_versions_and_links(http: httpx.Client, site: Site) -> None:
    page = http.get(f"/documents/{site.ids['dogs']}").text
    assert '<span class="badge badge-in-force">现行有效</span>' in page
    assert 'id="第四条"' in page and 'href="#第二章"' in page
    assert f'href="/documents/{site.ids["dogs"]}/versions/1">第 1 版</a>' in page
    assert "本版本修改了" in page
    old = http.get(f"/documents/{site.ids['dogs']}/versions/1").text
    assert "已被 <a" in old and "已被修改" in old and "一点五米" in old
    repealed = http.get(f"/documents/{site.ids['fireworks']}").text
    assert "已废止" in repealed and "废止" in repealed


def test_a_change_of_status_shows_on_the_next_request_of_a_page_already_shown(http: httpx.Client, site: Site) -> None:
    """Pages are kept rendered, but keyed by the service's exact reply: a rule declared invalid
    right after its page was served (and kept) reads so on the very next request, as does the
    version's own page."""
    doc = site.ids["roads"]
    urls = [f"/documents/{doc}", f"/documents/{doc}/versions/1"]
    shown = [http.get(url).text for url in urls]
    assert [http.get(url).text for url in urls] == shown
    for page in shown:
        assert '<span class="badge badge-in-force">现行有效</span>' in page
    site.run(site.declare_invalid(doc, "上位法已废止"))
    for url in urls:
        page = http.get(url).text
        assert '<span class="badge badge-in-force">现行有效</span>' not in page, url
        assert '<span class="badge badge-invalid">已失效</span>' in page, url
        assert "为了规范临时占用道路行为" in page, url


def comment_form(http: httpx.Client, doc: str) -> str:
    page = http.get(f"/consultations/{doc}")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    return token.group(1)


def _post_part_of(site: Site, path: str, cookie: str, sent: bytes, declared: int) -> socket.socket:
    """A form post that declares `declared` bytes and sends only `sent`: the connection stays open."""
    host, port = site.url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=10)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: normreg_csrf={cookie}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {declared}\r\n\r\n"
    )
    conn.sendall(head.encode("ascii") + sent)
    return conn


@pytest.mark.parametrize("form", ["/consultations/{bikes}/comments", "/documents/{dogs}/review-suggestion"])
def test_a_form_post_cut_short_stores_nothing_and_is_no_error_of_the_portal(
    http: httpx.Client, site: Site, caplog: pytest.LogCaptureFixture, form: str
) -> None:
    """A client that leaves part way through its body: nothing stored, nothing logged as the
    portal's own failure (it was: an unexpected error with a traceback), every page still served."""
    doc = site.ids["bikes"]
    token = comment_form(http, doc)
    before = site.run(site.comments_of(doc))
    with caplog.at_level(logging.WARNING):
        conn = _post_part_of(site, form.format(**site.ids), token, f"csrf_token={token}&text=".encode(), 1000)
        conn.close()
        for _ in range(50):  # the handler learns of the departure on its next read
            time.sleep(0.02)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert site.run(site.comments_of(doc)) == before
    assert http.get("/").status_code == 200


def test_a_form_post_whose_body_stops_arriving_is_answered_408(
    http: httpx.Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guards, "FORM_BODY_TIMEOUT_S", 0.3)
    doc = site.ids["bikes"]
    token = comment_form(http, doc)
    before = site.run(site.comments_of(doc))
    with _post_part_of(site, f"/consultations/{doc}/comments", token, b"csrf_token=", 1000) as conn:
        status = conn.makefile("rb").readline()
    assert status.split()[1] == b"408", status
    assert site.run(site.comments_of(doc)) == before


def test_the_comment_form_checks_token_size_and_rate(http: httpx.Client, site: Site) -> None:
    doc = site.ids["bikes"]
    site.reset_limits()
    token = comment_form(http, doc)
    url = f"/consultations/{doc}/comments"
    assert http.post(url, data={"text": "没有令牌的意见"}).status_code == 403
    assert http.post(url, data={"text": "令牌错误", "csrf_token": token + "x"}).status_code == 403
    with httpx.Client(base_url=site.url) as stranger:  # no cookie: a form posted from another site
        assert stranger.post(url, data={"text": "跨站提交", "csrf_token": token}).status_code == 403
    empty = http.post(url, data={"text": "  \n ", "csrf_token": token})
    assert empty.status_code == 400 and "请填写意见内容" in empty.text
    long = http.post(url, data={"text": "长" * 5001, "csrf_token": token})
    assert long.status_code == 400 and "最多 5000 字" in long.text
    assert http.post(url, data={"text": "长" * 70_000, "csrf_token": token}).status_code == 413
    sent = http.post(url, data={"text": "<b>建议</b>\x00延长停放时间", "csrf_token": token})
    assert (sent.status_code, sent.headers["location"]) == (303, f"/consultations/{doc}?sent=1#comment-form")
    assert "<b>建议</b>延长停放时间" in site.run(site.comments_of(doc))
    # Three per window in this suite's settings: two more pass, the next is refused.
    for i in range(2):
        assert http.post(url, data={"text": f"第{i}条意见", "csrf_token": token}).status_code == 303
    limited = http.post(url, data={"text": "再来一条", "csrf_token": token})
    assert limited.status_code == 429 and "过于频繁" in limited.text
    site.reset_limits()
    # A closed or unknown window is a clear message, and nothing is stored.
    closed = http.post(f"/consultations/{site.ids['dogs']}/comments", data={"text": "已结束", "csrf_token": token})
    assert closed.status_code == 404 and "不存在或已经结束" in closed.text
    assert "已结束" not in site.run(
        site.comments_of(site.ids["dogs"]),
    )


def suggestion_form(http: httpx.Client, doc: str) -> str:
    page = http.get(f"/documents/{doc}/review-suggestion")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    return token.group(1)


def test_what_a_reader_cannot_see_in_a_suggestions_lines_is_dropped_not_refused_with_the_form_lost(
    http: httpx.Client, site: Site
) -> None:
    """An emoji's variation selector, a line separator or a Hangul filler in the contact or the
    provisions: the services refuse them in names, and the form used to answer a bare error page that
    lost what was typed. They are dropped, as a reader could not see them anyway."""
    doc = site.ids["dogs"]
    site.reset_limits()
    url = f"/documents/{doc}/review-suggestion"
    form = {
        "reasons": "第一条与道路交通安全法抵触",
        "contact": "\u260e\ufe0f13800000000\u3164",
        "provisions": "第一条\u2028第二条",
        "csrf_token": suggestion_form(http, doc),
    }
    sent = http.post(url, data=form)
    assert sent.status_code == 303, sent.text[:300]
    stored = site.run(site.suggestions())[-1]
    assert (stored.contact, list(stored.provisions)) == ("\u260e13800000000", ["第一条", "第二条"])
    site.reset_limits()


def test_the_review_suggestion_form_checks_token_size_and_rate_and_never_shows_the_contact(
    http: httpx.Client, site: Site
) -> None:
    doc = site.ids["dogs"]
    assert f'href="/documents/{doc}/review-suggestion"' in http.get(f"/documents/{doc}").text
    site.reset_limits()
    token = suggestion_form(http, doc)
    url = f"/documents/{doc}/review-suggestion"
    good = {
        "reasons": "第一条与道路交通安全法抵触",
        "contact": "电话 13900000000",
        "provisions": "第一条",
        "csrf_token": token,
    }
    before = len(site.run(site.suggestions()))
    assert http.post(url, data={k: v for k, v in good.items() if k != "csrf_token"}).status_code == 403
    assert http.post(url, data={**good, "csrf_token": token + "x"}).status_code == 403
    with httpx.Client(base_url=site.url) as stranger:  # no cookie: a form posted from another site
        assert stranger.post(url, data=good).status_code == 403
    no_reasons = http.post(url, data={**good, "reasons": " \n "})
    assert no_reasons.status_code == 400 and "请填写审查建议的理由" in no_reasons.text
    no_contact = http.post(url, data={**good, "contact": "\x00 "})
    assert no_contact.status_code == 400 and "请留下联系方式" in no_contact.text
    long = http.post(url, data={**good, "reasons": "长" * 5001})
    assert long.status_code == 400 and "最多 5000 字" in long.text
    assert http.post(url, data={**good, "reasons": "长" * 70_000}).status_code == 413
    assert len(site.run(site.suggestions())) == before
    sent = http.post(url, data={**good, "requester": "organisation", "provisions": "第一条、第二条"})
    assert (sent.status_code, sent.headers["location"]) == (303, f"{url}?sent=1#suggestion-form")
    thanks = http.get(sent.headers["location"])
    assert "审查建议已提交" in thanks.text and "13900000000" not in thanks.text
    stored = site.run(site.suggestions())[-1]
    assert (stored.document, stored.sender, list(stored.provisions), stored.contact) == (
        f"documents/{doc}",
        "chifeng",
        ["第一条", "第二条"],
        "电话 13900000000",
    )
    # Three per window in this suite's settings: two more pass, the next is refused.
    for i in range(2):
        assert http.post(url, data={**good, "reasons": f"第{i}条理由"}).status_code == 303
    limited = http.post(url, data=good)
    assert limited.status_code == 429 and "过于频繁" in limited.text
    site.reset_limits()
    # A repealed document offers no form; hidden drafts and unknown documents: the same 404 as everywhere.
    assert "review-suggestion" not in http.get(f"/documents/{site.ids['fireworks']}").text
    # Nor does a national law: it is reviewed by the NPC Standing Committee, and the form says so.
    law = site.ids["law"]
    assert "review-suggestion" not in http.get(f"/documents/{law}").text
    for refused in (
        http.get(f"/documents/{law}/review-suggestion"),
        http.post(f"/documents/{law}/review-suggestion", data=good),
    ):
        assert refused.status_code == 409 and "全国人民代表大会常务委员会" in refused.text
    # Asked for anyway: a text no longer in force, or a draft open for comment (it takes comments), is
    # refused with the reason, and nothing is stored.
    before = len(site.run(site.suggestions()))
    for other, reason in ((site.ids["fireworks"], "已不再有效"), (site.ids["bikes"], "征求意见页面")):
        for refused in (
            http.get(f"/documents/{other}/review-suggestion"),
            http.post(f"/documents/{other}/review-suggestion", data=good),
        ):
            assert refused.status_code == 409 and reason in refused.text, other
    assert len(site.run(site.suggestions())) == before
    for hidden in (site.ids["secret"], "no-such-document"):
        assert http.post(f"/documents/{hidden}/review-suggestion", data=good).status_code == 404
        assert http.get(f"/documents/{hidden}/review-suggestion").status_code == 404


def test_feed_sitemap_and_robots_describe_the_public_rules(http: httpx.Client, site: Site) -> None:
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.fromstring(http.get("/feed.atom").content)  # noqa: S314 - our own output
    titles = [e.findtext(f"{atom}title") for e in feed.iter(f"{atom}entry")]
    assert "公布：赤峰市养犬管理办法" in titles and "废止：赤峰市烟花爆竹燃放管理规定" in titles
    assert "被修改：赤峰市养犬管理办法" in titles
    assert not any("共享单车" in (t or "") or "内部草案" in (t or "") for t in titles)
    sitemap = http.get("/sitemap.xml")
    root = ET.fromstring(sitemap.content)  # noqa: S314 - our own output
    locs = [e.text or "" for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert (
        f"{site.url}/documents/{site.ids['dogs']}" in locs and f"{site.url}/documents/{site.ids['fireworks']}" in locs
    )
    assert not any(site.ids["secret"] in loc or site.ids["bikes"] in loc for loc in locs)
    robots = http.get("/robots.txt").text
    assert f"Sitemap: {site.url}/sitemap.xml" in robots and "Disallow: /api/" in robots


def test_the_feed_and_sitemap_are_built_once_whatever_host_they_are_asked_for(http: httpx.Client, site: Site) -> None:
    """Each names its links by the host asked for; kept once per host, a host name anyone may invent
    grew the cache without end and cost a build of the sitemap's searches each."""
    assert site.server is not None
    cache = site.server.config.app.state.cache
    hosts = [f"h{n}.example" for n in range(40)]
    for host in hosts:
        sitemap = http.get("/sitemap.xml", headers={"Host": host})
        root = ET.fromstring(sitemap.content)  # noqa: S314 - our own output
        locs = [e.text or "" for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
        assert locs and all(loc.startswith(f"http://{host}/") for loc in locs), locs[:2]
        feed = ET.fromstring(http.get("/feed.atom", headers={"Host": host}).content)  # noqa: S314
        assert feed.findtext("{http://www.w3.org/2005/Atom}id") == f"http://{host}/feed.atom"
    assert len(cache._items) <= 2


@pytest.mark.parametrize(
    ("path", "says"),
    [
        # The portal lets these through; the search service refuses them for a field it names.
        ("/search?body=a%E2%80%8Bb", "制定机关名称含有无法识别的字符"),
        ("/search?q=" + "%E0%A5%98" * 150, "检索词过长或含有无法识别的字符"),
        ("/search?q=x&page=t1.AAAA", "翻页参数已失效"),
        # Well formed, out of range: not called a bad format.
        ("/search?valid_on=9999-12-31", "日期应在 1900 年至 2200 年之间"),
        ("/documents/{dogs}?valid_on=0001-01-01", "日期应在 1900 年至 2200 年之间"),
    ],
)
def test_a_refused_search_or_date_says_what_was_wrong(http: httpx.Client, site: Site, path: str, says: str) -> None:
    reply = http.get(path.format(**site.ids))
    assert reply.status_code == 400
    assert says in reply.text


def test_the_json_api_matches_its_openapi_description(http: httpx.Client, site: Site) -> None:
    spec = http.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and set(spec["paths"]) == {
        "/api/v1/search",
        "/api/v1/documents/{id}",
        "/api/v1/documents/{id}/versions/{version}",
        "/api/v1/numbers/{number}",
        "/api/v1/consultations",
    }
    found = http.get("/api/v1/search", params={"q": "犬链"}).json()
    assert [(r["id"], r["status"]["code"]) for r in found["results"]] == [(site.ids["dogs"], "in_force")]
    assert found["results"][0]["snippets"][0]["article"] == "第四条"
    schema = spec["components"]["schemas"]
    assert set(found["results"][0]) <= set(schema["Hit"]["properties"])
    doc = http.get(f"/api/v1/documents/{site.ids['dogs']}", params={"valid_on": site.dates["dogs_v1_valid"]}).json()
    assert (doc["version"], doc["status"]["code"]) == (1, "amended")
    assert set(doc) <= set(schema["Document"]["properties"])
    assert [v["version"] for v in doc["versions"]] == [1, 2]
    assert "drafting_org" not in str(doc) and "drafter" not in str(doc)
    assert http.get(f"/api/v1/documents/{site.ids['dogs']}/versions/2").json()["uniform_number"]
    by_number = http.get(f"/api/v1/numbers/{quote(site.numbers['dogs_v1'])}").json()
    assert by_number["version"] == 1
    open_now = http.get("/api/v1/consultations").json()["consultations"]
    assert [c["id"] for c in open_now] == [site.ids["bikes"]]
    assert set(open_now[0]) <= set(schema["Consultation"]["properties"])


def test_the_comment_count_of_an_open_draft_is_on_its_pages_and_in_the_api(http: httpx.Client, site: Site) -> None:
    doc = site.ids["bikes"]
    site.reset_limits()

    def shown() -> tuple[int, int, int]:
        [listed] = http.get("/api/v1/consultations").json()["consultations"]
        detail = re.search(r'id="comment-count">(\d+)<', http.get(f"/consultations/{doc}").text)
        on_list = re.search(r'class="comment-count">(\d+)<', http.get("/consultations").text)
        assert detail and on_list
        return listed["comment_count"], int(detail.group(1)), int(on_list.group(1))

    site.run(site.settle())
    before = shown()
    assert len(set(before)) == 1
    assert http.get("/consultations").headers["cache-control"] == "no-cache"
    form = {"text": "再增加一些停放点", "csrf_token": comment_form(http, doc)}
    sent = http.post(f"/consultations/{doc}/comments", data=form)
    assert sent.status_code == 303
    site.run(site.settle())
    assert shown() == (before[0] + 1,) * 3
    assert (
        http.get("/api/v1/openapi.json").json()["components"]["schemas"]["Consultation"]["properties"]["comment_count"][
            "type"
        ]
        == "integer"
    )


def without_date(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers.multi_items() if name != "date"]


def test_a_document_page_answered_before_the_router_is_the_routed_page_byte_for_byte(
    http: httpx.Client, site: Site
) -> None:
    """GET /documents/{id} is answered ahead of Starlette's router (normreg_portal.hotpath); with
    any query string the router answers. Same status, same headers in the same order, same body."""
    docs = (site.ids["dogs"], site.ids["markup"], site.ids["fireworks"], "no-such-document")
    for doc, encoding in itertools.product(docs, ("gzip, deflate", "identity")):
        asked = {"accept-encoding": encoding}
        direct = http.get(f"/documents/{doc}", headers=asked)
        routed = http.get(f"/documents/{doc}", params={"from": "bookmark"}, headers=asked)
        assert direct.status_code == routed.status_code, doc
        assert without_date(direct.headers) == without_date(routed.headers), doc
        assert direct.content == routed.content, doc
    assert http.get(f"/documents/{site.ids['dogs']}").headers["cache-control"] == "public, max-age=60"
    assert http.get("/documents/no-such-document").headers["cache-control"] == "no-store"


def test_a_draft_open_for_comment_sends_its_document_url_to_its_consultation(http: httpx.Client, site: Site) -> None:
    doc = site.ids["bikes"]
    for reply in (http.get(f"/documents/{doc}"), http.get(f"/documents/{doc}", params={"from": "bookmark"})):
        assert (reply.status_code, reply.headers["location"]) == (303, f"/consultations/{doc}")
        assert "default-src 'none'" in reply.headers["content-security-policy"]


def test_a_kept_page_is_gzipped_only_for_a_client_that_accepts_it_and_reads_the_same(
    http: httpx.Client, site: Site
) -> None:
    for url in (f"/documents/{site.ids['dogs']}", f"/documents/{site.ids['dogs']}/versions/1", "/search?q=犬"):
        plain = http.get(url, headers={"accept-encoding": "identity"})
        assert "content-encoding" not in plain.headers, url
        for encoding in ("gzip", "br, gzip;q=0.5", "*"):
            packed = http.get(url, headers={"accept-encoding": encoding})
            assert packed.headers["content-encoding"] == "gzip", (url, encoding)
            assert int(packed.headers["content-length"]) < len(plain.content) / 2, url
            assert packed.text == plain.text, url  # httpx inflates it
        refused = http.get(url, headers={"accept-encoding": "gzip;q=0, *"})
        assert "content-encoding" not in refused.headers, url
        for reply in (plain, packed, refused):
            assert reply.headers["vary"] == "Accept-Encoding", url
            assert reply.headers["cache-control"] == "public, max-age=60", url
            assert "default-src 'none'" in reply.headers["content-security-policy"], url


def test_the_stylesheet_is_gzipped_for_a_client_that_accepts_it_with_an_etag_of_its_own(http: httpx.Client) -> None:
    home = http.get("/").text
    found = re.search(r'href="(/static/portal\.css\?v=[0-9a-f]+)"', home)
    assert found
    url = found.group(1)
    plain = http.get(url, headers={"accept-encoding": "identity"})
    packed = http.get(url, headers={"accept-encoding": "gzip, deflate"})
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    assert packed.text == plain.text and "body" in plain.text
    for reply in (plain, packed):
        assert reply.headers["content-type"].startswith("text/css")
        assert reply.headers["vary"] == "Accept-Encoding"
        assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.headers["etag"] != packed.headers["etag"]
    again = http.get(url, headers={"accept-encoding": "gzip", "if-none-match": packed.headers["etag"]})
    assert again.status_code == 304
    assert (
        http.get(url, headers={"accept-encoding": "identity", "if-none-match": plain.headers["etag"]}).status_code
        == 304
    )
    # A client holding the plain copy's tag holds a current copy too, whatever it accepts now.
    assert http.get(url, headers={"accept-encoding": "gzip", "if-none-match": plain.headers["etag"]}).status_code == 304
    changed = http.get(url, headers={"accept-encoding": "gzip", "if-none-match": '"0123-gzip"'})
    assert changed.status_code == 200 and changed.headers["content-encoding"] == "gzip"
