"""The articles (条) of a body, so results can point at 第三十条 rather than at a whole law. The
headings they stand under are structure, not text (see structure.py)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from normreg_registry.domain import structure


@dataclass(frozen=True)
class Article:
    label: str
    text: str


@functools.lru_cache(maxsize=256)
def split_articles(body: str) -> tuple[Article, ...]:
    """Cached: the same body is split for the stored view, the event and the reply of one write."""
    return tuple(Article(a.label, a.text) for a in structure.parse(body).articles)
