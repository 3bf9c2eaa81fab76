"""A document's text as a reader navigates it: chapters (章) and sections (节) holding articles (条).

The registry parses headings as structure, so an article's text no longer holds them: they are
found in the body, between the articles they separate. Texts indexed before that still carry a
heading such as "第二章 审批" at the end of the article before it; those are taken back out of the
article text. Either way the headings become the table of contents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NUM = "零〇一二三四五六七八九十百千两0-9"
_HEADING = re.compile(rf"^[ \t\u3000]*(第[{_NUM}]+[编章节])[ \t\u3000]*(.*)$")


@dataclass(frozen=True)
class Article:
    label: str
    paragraphs: tuple[str, ...]

    @property
    def anchor(self) -> str:
        return self.label


@dataclass
class Part:
    """A chapter or section heading and the articles under it; an untitled leading part has no label."""

    label: str
    title: str
    level: int
    articles: list[Article] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return self.label


@dataclass(frozen=True)
class Outline:
    parts: tuple[Part, ...]
    preamble: tuple[str, ...] = ()

    @property
    def articles(self) -> list[Article]:
        return [a for p in self.parts for a in p.articles]

    @property
    def has_headings(self) -> bool:
        return any(p.label for p in self.parts)


def outline(body: str, articles: list[tuple[str, str]]) -> Outline:
    """Parts and their articles, from the body (for what precedes the first article) and the articles."""
    preamble: list[str] = []
    parts = [Part("", "", 0)]
    if not articles:
        return Outline((), tuple(_paragraphs(body)))
    first = articles[0][0]
    # Imported articles may carry no label: then nothing marks where the first one starts.
    head = body.split(first, 1)[0] if first and first in body else ""
    for line in _paragraphs(head):
        heading = _HEADING.match(line)
        if heading:
            parts.append(Part(heading.group(1), heading.group(2).strip(), _level(heading.group(1))))
        else:
            preamble.append(line)
    between = _headings_between_articles(body, [label for label, _ in articles])
    for index, (label, text) in enumerate(articles):
        if index:
            glued = set(_paragraphs(articles[index - 1][1]))
            for line in between[index]:
                if line not in glued:
                    match = _HEADING.match(line)
                    if match:
                        parts.append(Part(match.group(1), match.group(2).strip(), _level(match.group(1))))
        kept: list[str] = []
        headings: list[Part] = []
        for line in _paragraphs(text):
            heading = _HEADING.match(line)
            if heading and (headings or kept):
                headings.append(Part(heading.group(1), heading.group(2).strip(), _level(heading.group(1))))
            elif headings:
                # Text after a heading inside one article's span: keep it with the heading's part.
                headings[-1].articles.append(Article("", (line,)))
            else:
                kept.append(line)
        parts[-1].articles.append(Article(label, tuple(kept)))
        parts.extend(headings)
    return Outline(tuple(p for p in parts if p.label or p.articles), tuple(preamble))


def _headings_between_articles(body: str, labels: list[str]) -> list[list[str]]:
    """For each article, the heading lines of the body that stand between it and the article before."""
    found: list[list[str]] = [[] for _ in labels]
    lines = _paragraphs(body)
    index = -1
    for line in lines:
        following = index + 1
        if following < len(labels) and labels[following] and line.startswith(labels[following]):
            index = following
        elif _HEADING.match(line) and 0 <= index < len(labels) - 1:
            found[index + 1].append(line)
    return found


def _level(label: str) -> int:
    return {"编": 0, "章": 1, "节": 2}[label[-1]]


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]
