"""For machines that index the public rules: an Atom feed of what changed, a sitemap, robots.txt.

Both the feed and the sitemap walk many documents, so each is kept for a short while in memory;
a new rule appears in them within that time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from normreg.v1 import search_service_pb2 as spb
from normreg_common.profile import get_profile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from normreg_portal import dates, labels
from normreg_portal.errors import PortalError
from normreg_portal.pages import gateway, public_base
from normreg_portal.rendering import document_id

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
FEED_EVENTS = {
    "promulgated": "公布",
    "amended": "被修改",
    "repealed": "废止",
    "expired": "失效",
    "declared_invalid": "宣布失效",
}
FEED_DOCUMENTS = 30
FEED_ENTRIES = 50
SITEMAP_PAGES = 50
CACHE_S = 60.0


@dataclass
class Cached:
    at: float
    body: bytes


class Cache:
    def __init__(self, ttl_s: float = CACHE_S) -> None:
        self._ttl_s = ttl_s
        self._items: dict[str, Cached] = {}
        self._lock = asyncio.Lock()

    async def get(self, key: str, make: Callable[[], Awaitable[bytes]]) -> bytes:
        async with self._lock:
            item = self._items.get(key)
            if item is None or time.monotonic() - item.at > self._ttl_s:
                item = Cached(time.monotonic(), await make())
                self._items[key] = item
            return item.body


def base_url(request: Request) -> str:
    return public_base(request)


def all_states_request(page_size: int, page_token: str = "") -> spb.SearchDocumentsRequest:
    return spb.SearchDocumentsRequest(
        states=labels.STATUS_FILTERS["all"][1],
        sort=spb.SORT_ORDER_PROMULGATION_DATE_DESC,
        page_size=page_size,
        page_token=page_token,
    )


# Built once for every host: the absolute links are built on this mark, a private-use character no
# document holds and XML writes as it is, and each answer puts its own base there. Keyed by the
# request's Host, one build and one cached copy a host name anyone may invent would grow the cache
# without end, and cost up to SITEMAP_PAGES searches each.
BASE_MARK = "\ue000"


def _with_base(body: bytes, base: str) -> bytes:
    return body.replace(BASE_MARK.encode(), escape(base, {'"': "&quot;"}).encode())


async def feed(request: Request) -> Response:
    body = await request.app.state.cache.get("feed", lambda: build_feed(request, BASE_MARK))
    return Response(_with_base(body, base_url(request)), media_type="application/atom+xml; charset=utf-8")


async def build_feed(request: Request, base: str) -> bytes:
    gw = gateway(request)
    recent = await gw.search(all_states_request(FEED_DOCUMENTS))
    names = list(dict.fromkeys(h.name for h in recent.hits))
    found = await asyncio.gather(
        *(gw.version(document_id(n), int(n.rsplit("/", 1)[1])) for n in names), return_exceptions=True
    )
    entries: list[tuple[dt.date, str, spb.PublicDocument, str]] = []
    for doc in found:
        if isinstance(doc, PortalError):
            continue  # gone from the index since the search: leave it out of this feed
        if isinstance(doc, BaseException):
            raise doc
        for event in doc.timeline:
            day = dates.to_date(event.date)
            if event.event in FEED_EVENTS and day is not None:
                entries.append((day, event.event, doc, event.note))
    entries.sort(key=lambda e: (e[0], e[2].name), reverse=True)
    entries = entries[:FEED_ENTRIES]
    tz = get_profile(request.app.state.settings.profile).tz
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "zh-CN"})
    site = request.app.state.settings.portal_site_name
    ET.SubElement(root, f"{{{ATOM}}}title").text = f"{site}：新公布、修改、废止和失效的文件"
    ET.SubElement(root, f"{{{ATOM}}}id").text = f"{base}/feed.atom"
    ET.SubElement(root, f"{{{ATOM}}}link", {"rel": "self", "href": f"{base}/feed.atom"})
    ET.SubElement(root, f"{{{ATOM}}}link", {"rel": "alternate", "href": f"{base}/"})
    ET.SubElement(root, f"{{{ATOM}}}author").append(_text(f"{{{ATOM}}}name", site))
    newest = entries[0][0] if entries else dt.date(2000, 1, 1)
    ET.SubElement(root, f"{{{ATOM}}}updated").text = _stamp(newest, tz)
    for day, what, doc, _note in entries:
        number = doc.name.rsplit("/", 1)[1]
        url = f"{base}/documents/{document_id(doc.name)}/versions/{number}"
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = f"{FEED_EVENTS[what]}：{doc.title}"
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"{url}#{what}-{day.isoformat()}"
        ET.SubElement(entry, f"{{{ATOM}}}link", {"href": url})
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _stamp(day, tz)
        summary = "，".join(
            x for x in (doc.issuing_body, doc.uniform_number, f"{dates.chinese(day)}{FEED_EVENTS[what]}") if x
        )
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = summary
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + bytes(ET.tostring(root, encoding="utf-8"))


async def sitemap(request: Request) -> Response:
    body = await request.app.state.cache.get("sitemap", lambda: build_sitemap(request, BASE_MARK))
    return Response(_with_base(body, base_url(request)), media_type="application/xml; charset=utf-8")


async def build_sitemap(request: Request, base: str) -> bytes:
    gw = gateway(request)
    ET.register_namespace("", SITEMAP)
    root = ET.Element(f"{{{SITEMAP}}}urlset")
    for path in ("/", "/search", "/consultations"):
        ET.SubElement(root, f"{{{SITEMAP}}}url").append(_text(f"{{{SITEMAP}}}loc", base + path))
    seen: set[str] = set()
    token = ""
    for _ in range(SITEMAP_PAGES):
        page = await gw.search(all_states_request(100, token))
        for hit in page.hits:
            doc = document_id(hit.name)
            if doc in seen:
                continue
            seen.add(doc)
            url = ET.SubElement(root, f"{{{SITEMAP}}}url")
            url.append(_text(f"{{{SITEMAP}}}loc", f"{base}/documents/{doc}"))
            last = max(
                (d for d in (dates.to_date(hit.promulgation_date), dates.to_date(hit.effective_date)) if d),
                default=None,
            )
            if last is not None:
                url.append(_text(f"{{{SITEMAP}}}lastmod", last.isoformat()))
        token = page.next_page_token
        if not token:
            break
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + bytes(ET.tostring(root, encoding="utf-8"))


async def robots(request: Request) -> Response:
    base = base_url(request)
    text = f"User-agent: *\nAllow: /\nDisallow: /api/\n\nSitemap: {base}/sitemap.xml\n"
    return PlainTextResponse(text)


def _text(tag: str, value: str) -> ET.Element:
    element = ET.Element(tag)
    element.text = value
    return element


def _stamp(day: dt.date, tz: dt.tzinfo) -> str:
    """Midnight of a calendar date in the jurisdiction's time zone."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).isoformat()
