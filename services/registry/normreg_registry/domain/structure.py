"""The structure of a text of law: parts, chapters and sections (编、章、节) are headings, articles
(条) hold the text; an amendment act or a decision without articles is a list of items (一、二、…).
Pure: standard library only.

>>> body = "第一章 总则\\n第一条 为了规范备案，制定本办法。\\n第二章 调解\\n第二条 调解应当自愿。"
>>> [(a.label, a.text, a.heading) for a in parse(body).articles]
[('第一条', '为了规范备案，制定本办法。', '第一章 总则'), ('第二条', '调解应当自愿。', '第二章 调解')]
>>> [(a.label, a.text) for a in parse("一、将第三条修改为：“……”\\n二、删去第九条。").articles]
[('一、', '将第三条修改为：“……”'), ('二、', '删去第九条。')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = "零〇一二三四五六七八九十百千两0-9"
# A number of articles, chapters or items as a text of law writes it: the longest, 一千二百六十 of
# 民法典, is six characters. A longer run (第111…1条 of 5,000 digits) is no label but text: as a label
# it was a term too long for the index, and a number too long to read.
_NUMERAL = f"[{_NUM}]{{1,8}}"
_SPACE = "[ \\t\\u3000]"
# An article starts a line: 第三十条 / 第30条, followed by a space or the text.
_ARTICLE = re.compile(rf"^{_SPACE}*(第{_NUMERAL}条(?:之{_NUMERAL})?){_SPACE}*", re.MULTILINE)
# A heading is a whole line: 第二章 调解, 第一节 一般规定, 第一编 总则, 第三分编 合同.
_HEADING = re.compile(rf"^{_SPACE}*第{_NUMERAL}(?:分编|编|章|节)(?:{_SPACE}+[^\n]*)?{_SPACE}*$", re.MULTILINE)
# An item of an amendment act or a decision: 一、 at the start of a line.
_ITEM = re.compile(rf"^{_SPACE}*([一二三四五六七八九十百]{{1,8}}、){_SPACE}*", re.MULTILINE)


@dataclass(frozen=True)
class Article:
    label: str
    text: str
    # The innermost heading the article stands under ("" when none).
    heading: str = ""


@dataclass(frozen=True)
class Structure:
    headings: tuple[str, ...]
    articles: tuple[Article, ...]


def parse(body: str) -> Structure:
    """Articles with the headings they stand under; items when the text has no articles."""
    headings = [(m.start(), m.end(), _clean(m.group(0))) for m in _HEADING.finditer(body)]
    starts = list(_ARTICLE.finditer(body))
    if not starts:
        starts = list(_ITEM.finditer(body))
    articles: list[Article] = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(body)
        # A heading between this article and the next ends this article's text.
        inside = [h for h in headings if match.end() <= h[0] < end]
        if inside:
            end = inside[0][0]
        over = [h for h in headings if h[1] <= match.start()]
        articles.append(Article(match.group(1), body[match.end() : end].strip(), over[-1][2] if over else ""))
    return Structure(tuple(h for _, _, h in headings), tuple(articles))


def _clean(heading: str) -> str:
    return re.sub(rf"{_SPACE}+", " ", heading.strip())
