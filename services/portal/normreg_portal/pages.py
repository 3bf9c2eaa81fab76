"""The reading pages: home, search, a document (as in force today, on a date, or one version), the
comparison of two versions, and lookup by uniform number."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import quote

from normreg.v1 import document_pb2 as pb
from normreg.v1 import search_service_pb2 as spb
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from normreg_portal import dates, labels, searchform
from normreg_portal.compare import compare
from normreg_portal.errors import BadRequest, NotFound
from normreg_portal.gateway import Gateway
from normreg_portal.rendering import (
    Page,
    PageCache,
    Redirect,
    accepts_gzip,
    document_id,
    page_response,
    render,
    render_reply,
    version_number,
)
from normreg_portal.structure import outline

DOCUMENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")
VERSION_NUMBER = re.compile(r"^[1-9][0-9]{0,3}\Z")
NUMBER_MAX = 60


def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


def checked_id(request: Request) -> str:
    doc = str(request.path_params["document"])
    if not DOCUMENT_ID.match(doc):
        raise NotFound()
    return doc


def checked_version(value: str) -> int:
    if not VERSION_NUMBER.match(value):
        raise NotFound()
    return int(value)


async def home(request: Request) -> Response:
    gw = gateway(request)
    latest_request = spb.SearchDocumentsRequest(
        states=labels.STATUS_FILTERS["all"][1], sort=spb.SORT_ORDER_PROMULGATION_DATE_DESC, page_size=20
    )
    latest, consultations = await asyncio.gather(gw.search(latest_request), gw.consultations(page_size=5))
    # One line per document: an amendment and the version it replaced link to the same page.
    newest: dict[str, spb.SearchHit] = {}
    for hit in latest.hits:
        newest.setdefault(hit.document, hit)
    return render(
        request.app.state.templates,
        request,
        "home.html",
        {
            "latest": list(newest.values())[:8],
            "consultations": consultations.consultations,
            "form": searchform.SearchForm(),
        },
    )


# The search service's refusals by field, as a reader is told them.
SEARCH_REFUSALS = {
    "page_token": "翻页参数已失效，请从第一页重新检索。",
    "query": "检索词过长或含有无法识别的字符，请修改后重新检索。",
    "issuing_bodies": "制定机关名称含有无法识别的字符，请修改后重新检索。",
}


async def search(request: Request) -> Response:
    form = searchform.parse(request.query_params)
    templates = request.app.state.templates
    if form.errors:
        context: dict[str, Any] = {"form": form, "result": None, "facets": None}
        return render(templates, request, "search.html", context, status_code=400)
    try:
        result = await gateway(request).search(form.request())
    except BadRequest as refused:
        # What the portal cannot check itself: a page token that is not this search's, or a text the
        # service reads otherwise (a query longer than its limit once normalised, say).
        field = re.split(r"[.\[]", refused.field, maxsplit=1)[0]  # issuing_bodies.0 -> issuing_bodies
        form.errors.append(SEARCH_REFUSALS.get(field, "检索条件中有无法识别的内容，请修改后重新检索。"))
        return render(templates, request, "search.html", {"form": form, "result": None, "facets": None}, 400)
    return render_reply(
        request,
        "search.html",
        result,
        (form.url(page=form.page),),
        lambda: {"form": form, "result": result, "facets": facets(result)},
    )


def facets(result: spb.SearchDocumentsResponse) -> dict[str, list[tuple[str, str, int]]]:
    """Facet lists as (URL value, label, count), ready for links."""
    states: dict[str, int] = {}
    for f in result.facets.states:
        key = labels.STATE_TO_FILTER.get(labels.enum_value("state", f.value), "")
        if key:
            states[key] = states.get(key, 0) + int(f.count)
    kinds = []
    for f in result.facets.kinds:
        kind = labels.enum_value("kind", f.value)
        if kind in labels.SLUG_OF_KIND:
            kinds.append((labels.SLUG_OF_KIND[kind], labels.kind_label(kind), int(f.count)))
    return {
        "status": [(k, labels.STATUS_FILTERS[k][0], n) for k, n in states.items()],
        "kind": kinds,
        "body": [(f.value, f.value, int(f.count)) for f in result.facets.issuing_bodies][:15],
        "year": sorted(((f.value, f.value, int(f.count)) for f in result.facets.years), reverse=True)[:15],
    }


async def document(request: Request) -> Response:
    doc_id = checked_id(request)
    raw = request.query_params.get("valid_on", "").strip()
    valid_on = None
    if raw:
        try:
            valid_on = dates.parse_user_date(raw)
        except dates.DateOutOfRange:
            raise BadRequest(dates.OUT_OF_RANGE) from None
        except ValueError:
            raise BadRequest("日期格式应为 年-月-日，例如 2025-01-01。") from None
    try:
        serialised = await gateway(request).document_bytes(doc_id, valid_on)
    except NotFound:
        if valid_on is None:
            raise
        raise NotFound(f"该文件在{dates.chinese(valid_on)}没有有效的版本，或文件不存在。") from None
    return document_page(request, doc_id, serialised, valid_on=valid_on.isoformat() if valid_on else "", pinned=False)


async def version(request: Request) -> Response:
    doc_id = checked_id(request)
    number = checked_version(str(request.path_params["number"]))
    serialised = await gateway(request).version_bytes(doc_id, number)
    return document_page(request, doc_id, serialised, valid_on="", pinned=True)


def document_page(request: Request, doc_id: str, serialised: bytes, *, valid_on: str, pinned: bool) -> Response:
    """The page of the PublicDocument whose bytes are `serialised`."""
    page = kept_document_page(
        request.app,
        request.scope["path"],
        doc_id,
        serialised,
        valid_on=valid_on,
        pinned=pinned,
        base=public_base(request),
        gzip=accepts_gzip(request.headers.get("accept-encoding", "")),
    )
    return page_response(page)


def kept_document_page(
    app: Starlette,
    path: str,
    doc_id: str,
    serialised: bytes,
    *,
    valid_on: str,
    pinned: bool,
    base: str,
    gzip: bool = False,
) -> Page:
    """The document page at `path` for the reply `serialised`: read and rendered only the first time
    these exact bytes are shown there, so a changed status or timeline is a new page at once."""
    templates: Jinja2Templates = app.state.templates
    suggestions = app.state.gateway.takes_suggestions

    def make() -> Page:
        found = spb.PublicDocument.FromString(serialised)
        if found.state == pb.VERSION_STATE_PUBLIC_COMMENT:
            return Redirect(f"/consultations/{doc_id}")
        context = document_context(found, valid_on=valid_on, pinned=pinned, base=base)
        context["suggestions"] = suggestions and found.kind in labels.REVIEWED_KINDS
        return templates.env.get_template("document.html").render(context).encode()

    cache: PageCache = app.state.pages
    return cache.page(("document.html", path, valid_on, pinned, base), serialised, make, gzip=gzip)


def document_context(found: spb.PublicDocument, *, valid_on: str, pinned: bool, base: str) -> dict[str, Any]:
    promulgated = [v for v in found.versions if v.state != pb.VERSION_STATE_PUBLIC_COMMENT]
    return {
        "doc": found,
        "doc_id": document_id(found.name),
        "number": version_number(found.name),
        "outline": outline(found.body, [(a.label, a.text) for a in found.articles]),
        "versions": promulgated,
        "valid_on": valid_on,
        "pinned": pinned,
        "comparable": len(promulgated) > 1,
        "base": base,
    }


def public_base(request: Request) -> str:
    """Absolute base of canonical links: the configured public URL, else where the request came."""
    configured: str = request.app.state.settings.portal_public_url
    return (configured or str(request.base_url)).rstrip("/")


async def compare_versions(request: Request) -> Response:
    doc_id = checked_id(request)
    gw = gateway(request)
    current = await gw.document(doc_id)
    numbers = [v.version_number for v in current.versions if v.state != pb.VERSION_STATE_PUBLIC_COMMENT]
    if len(numbers) < 2:
        raise NotFound("该文件只有一个公开版本，无可比较的版本。")
    try:
        old_n = checked_version(request.query_params.get("from", "") or str(numbers[-2]))
        new_n = checked_version(request.query_params.get("to", "") or str(numbers[-1]))
    except NotFound:
        raise BadRequest("版本号应为正整数。") from None
    if old_n not in numbers or new_n not in numbers:
        raise NotFound("要比较的版本不存在或尚未公开。")
    old, new = await asyncio.gather(gw.version(doc_id, old_n), gw.version(doc_id, new_n))
    changes = compare(clean_articles(old), clean_articles(new))
    counts = {kind: sum(1 for c in changes if c.change == kind) for kind in ("added", "removed", "changed")}
    context = {
        "doc_id": doc_id,
        "old": old,
        "new": new,
        "changes": changes,
        "counts": counts,
        "numbers": numbers,
        "title_changed": old.title != new.title,
    }
    return render(request.app.state.templates, request, "compare.html", context)


def clean_articles(doc: spb.PublicDocument) -> list[tuple[str, str]]:
    """Articles without the chapter headings that trail them, so a heading is not a change."""
    structure = outline(doc.body, [(a.label, a.text) for a in doc.articles])
    return [(a.label, "\n".join(a.paragraphs)) for a in structure.articles if a.label]


async def by_number(request: Request) -> Response:
    number = str(request.path_params["number"]).strip()
    if not number or len(number) > NUMBER_MAX or any(ord(c) < 32 for c in number):
        raise NotFound()
    found = await gateway(request).by_number(number)
    doc_id = document_id(found.name)
    current_states = (pb.VERSION_STATE_IN_FORCE, pb.VERSION_STATE_PROMULGATED)
    if found.state in current_states or len(found.versions) <= 1:
        target = f"/documents/{quote(doc_id)}"
    else:
        target = f"/documents/{quote(doc_id)}/versions/{version_number(found.name)}"
    return RedirectResponse(target, status_code=302)
