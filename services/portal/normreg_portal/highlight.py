"""Search snippets to HTML: the matches marked, everything else escaped.

SearchService wraps matches in <em></em>. The text around them is a document's text, which may hold
anything, "<script>" included: it is split on the markers and every piece is escaped, so the only
tags in the result are the <mark> elements made here.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_MARKER = re.compile(r"<em>(.*?)</em>", re.DOTALL)


def snippet_html(text: str) -> Markup:
    out: list[str] = []
    position = 0
    for match in _MARKER.finditer(text):
        out.append(str(escape(text[position : match.start()])))
        out.append(f"<mark>{escape(match.group(1))}</mark>")
        position = match.end()
    out.append(str(escape(text[position:])))
    return Markup("".join(out))  # noqa: S704 - every piece above was escaped


def plain(text: str) -> str:
    """The snippet without its markers, for places that take text only (feeds, JSON)."""
    return _MARKER.sub(r"\1", text)
