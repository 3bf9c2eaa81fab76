"""The Jinja environment: autoescaping on, the filters the templates use, one place for asset URLs."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
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


@dataclass(frozen=True)
class Redirect:
    """What a reply answers instead of a page (a draft open for comment has its own page)."""

    location: str

    def response(self) -> Response:
        return RedirectResponse(self.location, status_code=303)


# A rendered page's UTF-8 bytes, or where to send the reader instead.
Page = bytes | Redirect


class PageCache:
    """Rendered pages, encoded once: one per page address (its template and parameters), kept with
    the exact bytes of the service's reply it shows. A page is a pure function of those, so a hit is
    the same bytes a render would give. Every request still asks the service, and the kept page is
    used only when the new reply equals the kept one in full (one memcmp): any change in the reply
    (a new version, a state, a timeline entry) renders the page again and replaces it, so a kept page
    is never stale and an outdated one is not held. No digest to trust, and no hash of the reply
    either: the address is the key, so finding the page costs a hash of a few short strings instead
    of one of a whole law (about 40 µs for 90 KB here; sha256 would be 0.3 ms). Bounded by pages and
    by bytes (replies and pages)."""

    def __init__(self, size: int, max_bytes: int = 128 * 2**20) -> None:
        self._size = size
        self._max_bytes = max_bytes
        self._bytes = 0
        self._pages: OrderedDict[tuple[Any, ...], tuple[bytes, Page]] = OrderedDict()

    def page(self, address: tuple[Any, ...], reply: bytes, make: Callable[[], Page]) -> Page:
        """The page at `address` showing `reply`: the kept one if it was made from equal bytes."""
        if self._size <= 0:
            return make()
        found = self._pages.get(address)
        if found is not None:
            if found[0] == reply:
                self._pages.move_to_end(address)
                return found[1]
            del self._pages[address]
            self._bytes -= _cost(*found)
        made = make()
        cost = _cost(reply, made)
        if cost > self._max_bytes:
            return made
        self._pages[address] = (reply, made)
        self._bytes += cost
        while len(self._pages) > self._size or self._bytes > self._max_bytes:
            _, old = self._pages.popitem(last=False)
            self._bytes -= _cost(*old)
        return made

    @property
    def held_bytes(self) -> int:
        return self._bytes


def _cost(reply: bytes, page: Page) -> int:
    return len(reply) + (len(page) if isinstance(page, bytes) else len(page.location))


def render_reply(
    request: Request, name: str, reply: Message, params: tuple[Any, ...], context: Callable[[], dict[str, Any]]
) -> Response:
    """`name` rendered with `context()` for this service `reply`, through the page cache; `params`
    are everything besides the reply that the page depends on (they name the page in the cache)."""
    templates: Jinja2Templates = request.app.state.templates
    return cached_page(
        request,
        reply.SerializeToString(deterministic=True),
        (name, *params),
        lambda: templates.env.get_template(name).render(context()).encode(),
    )


def cached_page(request: Request, serialised: bytes, address: tuple[Any, ...], make: Callable[[], Page]) -> Response:
    """The page `make()` gives for the reply whose bytes are `serialised`, kept at `address` (the
    template and every parameter of the page): on a hit the reply is neither parsed nor rendered nor
    encoded again."""
    cache: PageCache = request.app.state.pages
    return page_response(cache.page(address, serialised, make))


def page_response(page: Page) -> Response:
    return page.response() if isinstance(page, Redirect) else HTMLResponse(page)
