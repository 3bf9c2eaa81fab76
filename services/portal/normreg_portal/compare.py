"""Two versions of a document compared article by article: added, removed, changed (with the changed
words marked) and unchanged. Articles are aligned by their text, not their numbers, so inserting an
article does not show every later one as changed merely because it was renumbered."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup, escape

Change = Literal["added", "removed", "changed", "unchanged"]


@dataclass(frozen=True)
class ArticleChange:
    change: Change
    old_label: str
    new_label: str
    old_html: Markup
    new_html: Markup


def compare(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> list[ArticleChange]:
    matcher = difflib.SequenceMatcher(a=[t for _, t in old], b=[t for _, t in new], autojunk=False)
    out: list[ArticleChange] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.extend(
                ArticleChange("unchanged", old[i][0], new[j][0], _text(old[i][1]), _text(new[j][1]))
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for k in range(pairs):
            (ol, ot), (nl, nt) = old[i1 + k], new[j1 + k]
            old_html, new_html = _inline(ot, nt)
            out.append(ArticleChange("changed", ol, nl, old_html, new_html))
        for i in range(i1 + pairs, i2):
            out.append(ArticleChange("removed", old[i][0], "", _text(old[i][1]), Markup("")))
        for j in range(j1 + pairs, j2):
            out.append(ArticleChange("added", "", new[j][0], Markup(""), _text(new[j][1])))
    return out


def _text(text: str) -> Markup:
    return escape(text)


def _inline(old: str, new: str) -> tuple[Markup, Markup]:
    """The two texts with deleted characters in <del> and inserted ones in <ins>, all else escaped."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    left: list[str] = []
    right: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        a, b = str(escape(old[i1:i2])), str(escape(new[j1:j2]))
        if op == "equal":
            left.append(a)
            right.append(b)
            continue
        if a:
            left.append(f"<del>{a}</del>")
        if b:
            right.append(f"<ins>{b}</ins>")
    return Markup("".join(left)), Markup("".join(right))  # noqa: S704 - pieces escaped above
