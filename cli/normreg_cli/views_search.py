"""How the search service's messages read on a terminal: what the public sees."""

from __future__ import annotations

import re
from collections.abc import Sequence

from normreg.v1 import search_service_pb2 as search_pb

from normreg_cli import dates, render
from normreg_cli.enums import KIND, STATE
from normreg_cli.render import fields, sections, table, titled, with_hint

_EM = re.compile(r"<em>(.*?)</em>", re.DOTALL)


def highlight(text: str, *, tty: bool) -> str:
    """Snippet matches: bold on a terminal, [bracketed] elsewhere."""
    return _EM.sub(r"\033[1m\1\033[0m" if tty else r"[\1]", text)


def search_results(response: search_pb.SearchDocumentsResponse, hint: str, *, tty: bool = False) -> str:
    if not response.hits:
        return with_hint("no matching documents", hint)
    headers = ["title", "number", "state", "promulgated", "effective", "document"]
    rows = [
        [
            h.title,
            h.uniform_number,
            STATE.word(h.state),
            dates.text(h.promulgation_date),
            dates.text(h.effective_date),
            h.name,
        ]
        for h in response.hits
    ]
    lines = table(headers, rows).splitlines()
    out = lines[:2]
    for row_line, hit in zip(lines[2:], response.hits, strict=True):
        out.append(row_line)
        for snippet in hit.snippets:
            text = highlight(render.one_line(snippet.text), tty=tty)
            out.append(f"    {snippet.field}: {text}" if snippet.field else f"    {text}")
    shown = f"{len(response.hits)} of {response.total}" if response.total else str(len(response.hits))
    footer = [f"{shown} documents"]
    if response.HasField("facets"):
        footer += facets(response.facets)
    return with_hint("\n".join([*out, "", *footer]), hint)


def facets(f: search_pb.Facets) -> list[str]:
    def line(label: str, counts: Sequence[search_pb.FacetCount]) -> str:
        items = [f"{_facet_value(c.value)} {c.count}" for c in counts]
        return f"  {label}: {' · '.join(items)}" if items else ""

    found = [
        line("states", f.states),
        line("kinds", f.kinds),
        line("issuing bodies", f.issuing_bodies),
        line("years", f.years),
    ]
    return [x for x in found if x]


def _facet_value(value: str) -> str:
    """Enum names read as the words the flags take: VERSION_STATE_IN_FORCE -> in_force."""
    for prefix in ("VERSION_STATE_", "DOCUMENT_KIND_"):
        if value.startswith(prefix):
            return value[len(prefix) :].lower()
    return value


def public_document(d: search_pb.PublicDocument, *, text: bool = True) -> str:
    head = fields(
        [
            ("title", d.title),
            ("number", d.uniform_number),
            ("kind", KIND.label(d.kind)),
            ("state", STATE.label(d.state)),
            ("issuing body", d.issuing_body),
            ("promulgated", dates.text(d.promulgation_date)),
            ("effective", dates.text(d.effective_date)),
            ("valid until", dates.text(d.validity_end_date)),
            ("amends", d.amends),
            ("amended by", d.amended_by),
            ("repealed by", d.repealed_by),
            ("version", d.name),
        ]
    )
    timeline = table(
        ["date", "event", "note", "related"],
        [[dates.text(e.date), e.event, e.note, e.related] for e in d.timeline],
        max_width=60,
        optional=["note", "related"],
    )
    body = ""
    if text:
        body = "\n".join(f"{a.label} {a.text}".strip() for a in d.articles) if d.articles else d.body
    return sections(head, titled("timeline", timeline if d.timeline else ""), titled("text", body))


def consultations(response: search_pb.ListOpenConsultationsResponse, hint: str) -> str:
    rows = [
        [
            c.document,
            c.title,
            KIND.word(c.kind),
            c.issuing_body,
            render.span(dates.text(c.window.start_date), dates.text(c.window.end_date)),
        ]
        for c in response.consultations
    ]
    listing = table(
        ["document", "title", "kind", "issuing body", "comments accepted"], rows, empty="no open consultations"
    )
    return with_hint(listing, hint)
