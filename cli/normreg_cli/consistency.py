"""Does the public index say what the registry says? Pure comparisons of the two services' messages.

The registry is the system of record; the search index is a projection of its events. A version in a
public state must be in the index with the same public fields; a version the index shows must be
public in the registry; a draft is listed as open for comment exactly while its window is open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from normreg.v1 import document_pb2 as pb
from normreg.v1 import search_service_pb2 as spb

from normreg_cli import dates
from normreg_cli.enums import KIND, STATE

# Promulgated states: the version is searchable, whatever its validity today.
PUBLIC_STATES = frozenset(
    {
        pb.VERSION_STATE_PROMULGATED,
        pb.VERSION_STATE_IN_FORCE,
        pb.VERSION_STATE_AMENDED,
        pb.VERSION_STATE_REPEALED,
        pb.VERSION_STATE_DECLARED_INVALID,
        pb.VERSION_STATE_EXPIRED,
    }
)
ABSENT = "(absent)"


@dataclass(frozen=True)
class Difference:
    # missing | unexpected | consultation_missing | consultation_unexpected | the name of a field
    what: str
    # documents/{d}/versions/{v}
    name: str
    registry: str
    index: str

    def as_dict(self) -> dict[str, str]:
        return {"what": self.what, "name": self.name, "registry": self.registry, "index": self.index}


def is_public(version: pb.Version) -> bool:
    return version.state in PUBLIC_STATES


def open_for_comment(version: pb.Version, today: dt.date) -> bool:
    start, end = dates.value(version.comment_window.start_date), dates.value(version.comment_window.end_date)
    if version.state != pb.VERSION_STATE_PUBLIC_COMMENT or start is None or end is None:
        return False
    return start <= today <= end


def _text(value: str) -> str:
    return f"{len(value)} chars"


def _first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _texts(registry: str, index: str) -> tuple[str, str]:
    """Long texts are described, not printed: their lengths and where they part."""
    return _text(registry), f"{_text(index)}, differs from character {_first_difference(registry, index) + 1}"


def _articles(articles: Iterable[pb.Article]) -> list[tuple[str, str]]:
    return [(a.label, a.text) for a in articles]


def compare_version(doc: pb.Document, version: pb.Version, public: spb.PublicDocument) -> list[Difference]:
    """Every public field of one version where the index disagrees with the registry."""
    name = version.name
    promulgation = version.promulgation
    found: list[Difference] = []

    def check(
        what: str, registry: str, index: str, describe: Callable[[str, str], tuple[str, str]] | None = None
    ) -> None:
        if registry != index:
            shown = describe(registry, index) if describe else (registry or '""', index or '""')
            found.append(Difference(what, name, *shown))

    if version.state != public.state:
        found.append(Difference("state", name, STATE.word(version.state), STATE.word(public.state) or "?"))
    check("title", version.title, public.title)
    check("body", version.body, public.body, _texts)
    registry_articles, index_articles = _articles(version.articles), _articles(public.articles)
    if registry_articles != index_articles:
        found.append(
            Difference("articles", name, f"{len(registry_articles)} articles", f"{len(index_articles)} articles")
        )
    check("uniform_number", promulgation.uniform_number, public.uniform_number)
    for field in ("promulgation_date", "effective_date", "validity_end_date"):
        check(field, dates.text(getattr(promulgation, field)), dates.text(getattr(public, field)))
    if doc.kind != public.kind:
        found.append(Difference("kind", name, KIND.word(doc.kind), KIND.word(public.kind) or "?"))
    check("issuing_body", doc.issuing_body, public.issuing_body)
    check("amends", version.amends, public.amends)
    check("amended_by", version.amended_by, public.amended_by)
    return found


def compare_consultation(version: pb.Version, listed: spb.Consultation) -> list[Difference]:
    """A draft open for comment: the index lists its current title, text and window."""
    found: list[Difference] = []
    if version.title != listed.title:
        found.append(Difference("title", version.name, version.title, listed.title))
    if version.body != listed.body:
        found.append(Difference("body", version.name, *_texts(version.body, listed.body)))
    window = (dates.text(version.comment_window.start_date), dates.text(version.comment_window.end_date))
    listed_window = (dates.text(listed.window.start_date), dates.text(listed.window.end_date))
    if window != listed_window:
        found.append(Difference("comment_window", version.name, " – ".join(window), " – ".join(listed_window)))
    return found


def state_word(state: pb.VersionState.ValueType) -> str:
    return STATE.word(state) or "?"
