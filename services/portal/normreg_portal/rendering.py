"""The Jinja environment: autoescaping on, the filters the templates use, one place for asset URLs."""

from __future__ import annotations

import gzip
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


@dataclass(frozen=True)
class Gzipped:
    """A kept page's bytes gzipped, for a client that accepts them (compressed once while kept)."""

    body: bytes


# A rendered page's UTF-8 bytes, or where to send the reader instead (or the page gzipped).
Page = bytes | Redirect | Gzipped

# Below this a page gains less from compression than the header and the client's inflating cost.
GZIP_FROM = 1024


class PageCache:
    """Rendered pages, encoded once: one per page address (its template and parameters), kept with
    the exact bytes of the service's reply it shows. A page is a pure function of those, so a hit is
    the same bytes a render would give. Every request still asks the service, and the kept page is
    used only when the new reply equals the kept one in full (one memcmp): any change in the reply
    (a new version, a state, a timeline entry) renders the page again and replaces it, so a kept page
    is never stale and an outdated one is not held. No digest to trust, and no hash of the reply
    either: the address is the key, so finding the page costs a hash of a few short strings instead
    of one of a whole law (about 40 µs for 90 KB here; sha256 would be 0.3 ms). A page is gzipped
    the first time a client that accepts gzip asks for it, and kept so too. Bounded by pages and by
    bytes (replies, pages and their gzipped copies)."""

    def __init__(self, size: int, max_bytes: int = 128 * 2**20) -> None:
        self._size = size
        self._max_bytes = max_bytes
        self._bytes = 0
        self._pages: OrderedDict[tuple[Any, ...], _Kept] = OrderedDict()

    def page(self, address: tuple[Any, ...], reply: bytes, make: Callable[[], Page], *, gzip: bool = False) -> Page:
        """The page at `address` showing `reply`: the kept one if it was made from equal bytes;
        `gzip`: the client accepts gzip, so a page long enough to gain comes gzipped."""
        if self._size <= 0:
            return _encoded(make(), gzip)
        found = self._pages.get(address)
        if found is not None:
            if found.reply == reply:
                self._pages.move_to_end(address)
                return self._gzipped(found) if gzip else found.page
            del self._pages[address]
            self._bytes -= found.cost()
        made = make()
        entry = _Kept(reply, made)
        cost = entry.cost()
        if cost > self._max_bytes:
            return _encoded(made, gzip)
        self._pages[address] = entry
        self._bytes += cost
        page = self._gzipped(entry) if gzip else made
        self._bound()
        return page

    def _gzipped(self, entry: _Kept) -> Page:
        page = entry.page
        if not isinstance(page, bytes) or len(page) < GZIP_FROM:
            return page
        if entry.gzipped is None:
            entry.gzipped = gzip_bytes(page)
            self._bytes += len(entry.gzipped)
            self._bound()
        return Gzipped(entry.gzipped)

    def _bound(self) -> None:
        while len(self._pages) > self._size or self._bytes > self._max_bytes:
            _, old = self._pages.popitem(last=False)
            self._bytes -= old.cost()

    @property
    def held_bytes(self) -> int:
        return self._bytes


def gzip_bytes(page: bytes) -> bytes:
    # No timestamp: the same page is the same bytes.
    return gzip.compress(page, compresslevel=6, mtime=0)


def _encoded(page: Page, accepts_gzip: bool) -> Page:
    if accepts_gzip and isinstance(page, bytes) and len(page) >= GZIP_FROM:
        return Gzipped(gzip_bytes(page))
    return page


@dataclass
class _Kept:
    reply: bytes
    page: Page
    gzipped: bytes | None = None

    def cost(self) -> int:
        page = self.page
        held = len(self.reply) + (len(self.gzipped) if self.gzipped is not None else 0)
        return held + (
            len(page) if isinstance(page, bytes) else len(page.location) if isinstance(page, Redirect) else 0
        )


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value accepts gzip: named (or `*` when it is not), q above 0."""
    weights: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        q = next((param[2:] for param in params if param.startswith("q=")), "1")
        try:
            weights[coding] = float(q)
        except ValueError:
            weights[coding] = 0.0
    return weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0))) > 0


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
    gzip = accepts_gzip(request.headers.get("accept-encoding", ""))
    return page_response(cache.page(address, serialised, make, gzip=gzip))


# A kept page is sent as is or gzipped, by what the client accepts: shared caches must tell them apart.
VARY = {"Vary": "Accept-Encoding"}


def page_response(page: Page) -> Response:
    if isinstance(page, Redirect):
        return page.response()
    if isinstance(page, Gzipped):
        return HTMLResponse(page.body, headers={**VARY, "Content-Encoding": "gzip"})
    return HTMLResponse(page, headers=VARY)
