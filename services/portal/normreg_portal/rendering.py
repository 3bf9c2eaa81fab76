"""The Jinja environment: autoescaping on, the filters the templates use, one place for asset URLs."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from normreg_portal import dates, labels
from normreg_portal.highlight import snippet_html

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"


def _asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def document_id(name: str) -> str:
    """documents/abc/versions/2 -> abc."""
    parts = name.split("/")
    return parts[1] if len(parts) > 1 and parts[0] == "documents" else ""


def version_number(name: str) -> int:
    parts = name.split("/")
    return int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else 0


def related_url(related: str) -> str:
    """A timeline's related resource: a version name, or a uniform number."""
    if related.startswith("documents/"):
        number = version_number(related)
        doc = document_id(related)
        return f"/documents/{doc}/versions/{number}" if number else f"/documents/{doc}"
    return f"/numbers/{related}" if related else ""


def make_templates(site_name: str) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html", "xml"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        state_label=labels.state_label,
        state_class=labels.state_class,
        kind_label=labels.kind_label,
        cn_date=lambda v: dates.chinese(dates.to_date(v)),
        iso_date=dates.iso,
        doc_id=document_id,
        version_number=version_number,
        related_url=related_url,
        snippet=snippet_html,
        timeline_label=lambda e: labels.TIMELINE_LABELS.get(e, e),
    )
    env.globals.update(
        site_name=site_name,
        asset_version=_asset_version(),
        status_filters=labels.STATUS_FILTERS,
        kind_options=[(slug, labels.KIND_LABELS[kind]) for slug, kind in labels.KIND_SLUGS.items()],
    )
    return Jinja2Templates(env=env)


def render(
    templates: Jinja2Templates, request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return HTMLResponse(templates.env.get_template(name).render(context), status_code=status_code)


class PageCache:
    """Rendered pages keyed by the exact reply of the service they show and the page's own
    parameters. A page is a pure function of those, so a hit is the same bytes a render would give;
    any change in the reply (a new version, a state, a timeline entry) is a different key. It saves
    the rendering, not the call: every request still asks the service."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._pages: OrderedDict[tuple[Any, ...], str] = OrderedDict()

    def page(self, key: tuple[Any, ...], make: Callable[[], str]) -> str:
        if self._size <= 0:
            return make()
        found = self._pages.get(key)
        if found is not None:
            self._pages.move_to_end(key)
            return found
        made = make()
        self._pages[key] = made
        if len(self._pages) > self._size:
            self._pages.popitem(last=False)
        return made


def render_reply(
    request: Request, name: str, reply: Message, params: tuple[Any, ...], context: Callable[[], dict[str, Any]]
) -> HTMLResponse:
    """`name` rendered with `context()` for this service `reply`, through the page cache."""
    templates: Jinja2Templates = request.app.state.templates
    cache: PageCache = request.app.state.pages
    digest = hashlib.blake2b(reply.SerializeToString(deterministic=True), digest_size=16).digest()
    body = cache.page((name, digest, *params), lambda: templates.env.get_template(name).render(context()))
    return HTMLResponse(body)
