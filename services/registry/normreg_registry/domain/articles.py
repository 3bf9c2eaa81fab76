"""Splits a body into its articles (条) so results can point at 第三十条 rather than at a whole law."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_NUM = "零〇一二三四五六七八九十百千两0-9"
# An article starts a line: 第三十条 / 第30条, followed by a space or the text.
_ARTICLE = re.compile(rf"^[ \t\u3000]*(第[{_NUM}]+条(?:之[{_NUM}]+)?)[ \t\u3000]*", re.MULTILINE)


@dataclass(frozen=True)
class Article:
    label: str
    text: str


@functools.lru_cache(maxsize=256)
def split_articles(body: str) -> tuple[Article, ...]:
    """Cached: the same body is split for the stored view, the event and the reply of one write."""
    matches = list(_ARTICLE.finditer(body))
    articles: list[Article] = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        text = body[match.end() : end].strip()
        articles.append(Article(match.group(1), text))
    return tuple(articles)
