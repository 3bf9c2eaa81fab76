"""The portal in a real browser (Debian's Chromium, headless) against the real services on embedded
storage: a reader's path through the rules, a citizen's comment, hidden drafts, accessibility (axe-core,
WCAG 2.1 AA) on every page type, and screenshots at desktop and phone width under var/.

One browser for the whole module: starting Chromium costs more than all the pages together.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

import pytest
from selenium.webdriver.common.by import By

from tests.portal.browser import Browser, start_browser
from tests.portal.site import Site


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Browser]:
    driver = start_browser()
    try:
        yield Browser(driver, site.url)
    finally:
        driver.quit()


def text_of(b: Browser, css: str) -> str:
    return str(b.driver.find_element(By.CSS_SELECTOR, css).text)


def assert_accessible_without_script(b: Browser, page: str) -> None:
    # No script of our own: every page and form works with JavaScript off.
    assert b.driver.find_elements(By.TAG_NAME, "script") == [], page
    violations = b.axe_violations()
    assert violations == [], f"{page}: {violations}"


def test_a_reader_searches_opens_an_article_goes_back_in_time_and_compares_versions(
    browser: Browser, site: Site
) -> None:
    b = browser
    b.open("/")
    assert b.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    b.driver.find_element(By.ID, "q").send_keys("犬链")
    b.click_and_load(".hero button[type=submit]")
    assert "/search?q=" in b.driver.current_url
    first = b.driver.find_element(By.CSS_SELECTOR, ".hits > li")
    assert "赤峰市养犬管理办法" in first.find_element(By.CSS_SELECTOR, "h3").text
    assert [m.text for m in first.find_elements(By.TAG_NAME, "mark")][:1] == ["犬链"]
    b.screenshots("search")
    # The snippet names its article; following it lands on that article.
    b.click_and_load(".hits > li a.article-ref")
    assert unquote(b.driver.current_url).endswith("#第四条")
    target = b.driver.execute_script("return document.querySelector(':target').id")
    assert target == "第四条"
    assert "二米" in text_of(b, "#第四条")

    b.open(f"/documents/{site.ids['dogs']}")
    assert text_of(b, ".doc-head .badge") == "现行有效"
    assert [a.text for a in b.driver.find_elements(By.CSS_SELECTOR, ".toc a")] == [
        "第一章　总则",
        "第二章　养犬登记",
        "第三章　附则",
    ]
    b.screenshots("document")
    # As in force on an earlier day: the first version, with the older wording.
    b.driver.execute_script("document.getElementById('valid_on').value = arguments[0]", site.dates["dogs_v1_valid"])
    b.click_and_load(".asof button")
    assert f"valid_on={site.dates['dogs_v1_valid']}" in b.driver.current_url
    assert "第 1 版" in text_of(b, ".banner")
    assert text_of(b, ".doc-head .badge") == "已被修改"
    assert "一点五米" in text_of(b, "#第四条")
    b.screenshots("document-valid-on")

    b.open(f"/documents/{site.ids['dogs']}")
    b.click_and_load(".compare-form button")
    assert "/compare?from=1&to=2" in b.driver.current_url
    changed = b.driver.find_elements(By.CSS_SELECTOR, ".change-changed")
    deleted = [d.text for c in changed for d in c.find_elements(By.TAG_NAME, "del")]
    inserted = [i.text for c in changed for i in c.find_elements(By.TAG_NAME, "ins")]
    assert deleted == ["一点五"]
    assert "二" in inserted and any("维护社会公共秩序" in i for i in inserted)
    added = b.driver.find_elements(By.CSS_SELECTOR, ".change-added .new")
    assert [a.find_element(By.CSS_SELECTOR, ".article-label").text for a in added] == ["第五条（新增）"]
    b.screenshots("compare")


def test_a_citizen_comments_on_an_open_consultation(browser: Browser, site: Site) -> None:
    b = browser
    b.open("/consultations")
    listed_before = int(text_of(b, ".doclist .comment-count"))
    b.click_and_load(".doclist a")
    assert b.driver.current_url.endswith(f"/consultations/{site.ids['bikes']}")
    before = int(text_of(b, "#comment-count"))
    assert before == listed_before
    b.screenshots("consultation")
    b.driver.find_element(By.ID, "text").send_keys("建议在地铁站口增加停放点。")
    b.click_and_load("#comment-form button[type=submit]")
    assert "您的意见已提交" in text_of(b, ".success")
    b.screenshots("consultation-sent")
    assert "建议在地铁站口增加停放点。" in site.run(site.comments_of(site.ids["bikes"]))
    # The count comes from the registry's comment event through the search index: let the relay and
    # the projection run as their loops would, then the page shows one more.
    site.run(site.settle())
    b.open(f"/consultations/{site.ids['bikes']}")
    assert int(text_of(b, "#comment-count")) == before + 1
    b.open("/consultations")
    assert int(text_of(b, ".doclist .comment-count")) == before + 1


def test_a_citizen_asks_for_a_review_from_a_documents_page(browser: Browser, site: Site) -> None:
    b = browser
    site.reset_limits()
    b.open(f"/documents/{site.ids['dogs']}")
    b.click_and_load(".suggest a")
    assert b.driver.current_url.endswith(f"/documents/{site.ids['dogs']}/review-suggestion")
    b.screenshots("review-suggestion")
    b.driver.find_element(By.ID, "provisions").send_keys("第四条")
    b.driver.find_element(By.ID, "reasons").send_keys("第四条对犬链长度的限制缺乏上位法依据。")
    b.driver.find_element(By.CSS_SELECTOR, "input[name=requester][value=citizen]").click()
    b.driver.find_element(By.ID, "contact").send_keys("dog-owner@example.cn")
    b.click_and_load("#suggestion-form button[type=submit]")
    assert "审查建议已提交" in text_of(b, ".success")
    assert "dog-owner@example.cn" not in b.driver.page_source
    b.screenshots("review-suggestion-sent")
    stored = site.run(site.suggestions())
    assert any(
        s.contact == "dog-owner@example.cn"
        and list(s.provisions) == ["第四条"]
        and s.document.endswith(site.ids["dogs"])
        for s in stored
    )


def test_a_drafts_url_shows_the_same_page_as_a_missing_one(browser: Browser, site: Site) -> None:
    b = browser
    b.open(f"/documents/{site.ids['secret']}")
    hidden = text_of(b, "main")
    b.open("/documents/no-such-document")
    assert text_of(b, "main") == hidden
    assert "页面不存在" in hidden
    assert "内部草案" not in b.driver.page_source
    b.screenshots("not-found")


# (page, name of its screenshots when the flows above do not take them)
PAGES = [
    ("/", "home"),
    ("/search?q=养犬", ""),
    ("/search?q=" + "长" * 300, "search-error"),
    ("/search?status=all&sort=date", "search-list"),
    ("/documents/{dogs}", ""),
    ("/documents/{dogs}/versions/1", "version"),
    ("/documents/{dogs}/compare", ""),
    ("/documents/{fireworks}", "repealed"),
    ("/consultations", "consultations"),
    ("/consultations/{bikes}", ""),
    ("/documents/{dogs}/review-suggestion", ""),
    ("/documents/{secret}", ""),
]


@pytest.mark.parametrize(("page", "shot"), PAGES)
def test_every_page_type_passes_axe_at_wcag_21_aa(browser: Browser, site: Site, page: str, shot: str) -> None:
    browser.open(page.format(**site.ids))
    assert_accessible_without_script(browser, page)
    if shot:
        browser.screenshots(shot)
