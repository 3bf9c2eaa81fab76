"""Highlighted snippets, computed here for both backends from the stored text.

Neither backend can highlight: they index token streams, not text. So the hit's title and articles
are scanned for the query's clauses (a clause's text, else its bigrams) and the best articles are
cut around their first match, matches wrapped in <em></em>. Text is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from normreg_search import analysis, understanding
from normreg_search.model import PublicVersion
from normreg_search.query import ParsedQuery

WINDOW = 90
BEFORE = 24
MAX_ARTICLES = 2


@dataclass(frozen=True)
class Snippet:
    field: str  # "title", "body" or an article label such as 第三十条
    text: str


def snippets(version: PublicVersion, query: ParsedQuery, best: tuple[int, ...] = ()) -> list[Snippet]:
    """`best`: positions of the articles the index found best, when it says; only those (and the
    article the query asks for) are scanned, not every article of a long law."""
    if not query.matchable:
        return []
    candidates = _candidates(version, query, best)
    texts = [version.title] + [version.articles[i].text for i in candidates]
    texts += [] if version.articles else [version.body]
    pattern = _pattern(query, [analysis.fold(t) for t in texts])
    if pattern is None:
        pattern = re.compile(r"(?!)")  # marks nothing: the asked-for article is still shown
    out: list[Snippet] = []
    if pattern.search(analysis.fold(version.title)):
        out.append(Snippet("title", _highlight(version.title, pattern, 0, len(version.title))))
    if version.articles:
        scored = []
        for index in candidates:
            article = version.articles[index]
            asked = bool(query.article) and understanding.normalise_labels(article.label) == query.article
            score, first = _score(article.text, pattern)
            if score or asked:
                scored.append((not asked, -score, index, first))
        for _, _, index, first in sorted(scored)[:MAX_ARTICLES]:
            article = version.articles[index]
            out.append(Snippet(article.label, _window(article.text, pattern, first)))
    elif version.body:
        score, first = _score(version.body, pattern)
        if score:
            out.append(Snippet("body", _window(version.body, pattern, first)))
    return out


def _candidates(version: PublicVersion, query: ParsedQuery, best: tuple[int, ...]) -> list[int]:
    count = len(version.articles)
    known = [i for i in best if 0 <= i < count]
    if not known:
        return list(range(count))
    if query.article:
        known += [i for i, a in enumerate(version.articles) if understanding.normalise_labels(a.label) == query.article]
    return list(dict.fromkeys(known))


def _pattern(query: ParsedQuery, folded_texts: list[str]) -> re.Pattern[str] | None:
    """Alternation of the strings to mark, longest first. A clause's text that occurs nowhere in the
    version (the words were matched apart) is replaced by its bigrams."""
    terms: set[str] = set()
    for surface in query.surfaces:
        if surface == query.article:
            continue
        if len(surface) > 2 and analysis.is_cjk(surface[0]) and not any(surface in t for t in folded_texts):
            terms.update(analysis.bigram_tokens(surface))
        else:
            terms.add(surface)
    terms.discard("")
    if not terms:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(terms, key=lambda t: (-len(t), t))))


def _score(text: str, pattern: re.Pattern[str]) -> tuple[int, int]:
    """(sum of the lengths of the distinct strings found, offset of the first match)."""
    found: dict[str, int] = {}
    for match in pattern.finditer(analysis.fold(text)):
        found.setdefault(match.group(0), match.start())
    if not found:
        return 0, 0
    longest = max(found, key=lambda t: (len(t), -found[t]))
    return sum(len(t) for t in found), found[longest]


def _window(text: str, pattern: re.Pattern[str], first: int) -> str:
    start = max(0, first - BEFORE)
    end = min(len(text), start + WINDOW)
    start = max(0, min(start, end - WINDOW))
    snippet = _highlight(text, pattern, start, end)
    return ("…" if start > 0 else "") + snippet + ("…" if end < len(text) else "")


def _highlight(text: str, pattern: re.Pattern[str], start: int, end: int) -> str:
    folded = analysis.fold(text)
    parts: list[str] = []
    cursor = start
    for match in pattern.finditer(folded, start, end):
        parts.append(html.escape(text[cursor : match.start()], quote=False))
        parts.append("<em>" + html.escape(text[match.start() : match.end()], quote=False) + "</em>")
        cursor = match.end()
    parts.append(html.escape(text[cursor:end], quote=False))
    return "".join(parts).replace("</em><em>", "").replace("\n", " ")
