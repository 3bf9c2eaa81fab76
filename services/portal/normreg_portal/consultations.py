"""Drafts open for comment, and the comment form that submits through RegistryService.CreateComment."""

from __future__ import annotations

from typing import Any

from normreg.v1 import document_pb2 as pb
from normreg.v1 import search_service_pb2 as spb
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from normreg_portal import guards
from normreg_portal.errors import Forbidden, NotFound, TooMany
from normreg_portal.pages import checked_id, gateway
from normreg_portal.rendering import render
from normreg_portal.structure import outline

CLOSED = "该征求意见不存在或已经结束。正在征求意见的草案见征求意见列表。"
# Consultations read for the list page; more than this open at once is not a case we know of.
LIST_PAGES = 5


async def consultation_list(request: Request) -> Response:
    gw = gateway(request)
    found: list[spb.Consultation] = []
    token = ""
    for _ in range(LIST_PAGES):
        page = await gw.consultations(page_size=100, page_token=token)
        found.extend(page.consultations)
        token = page.next_page_token
        if not token:
            break
    response = render(request.app.state.templates, request, "consultations.html", {"consultations": found})
    # The comment counts change as people comment: a browser asks again rather than show a minute-old list.
    response.headers["Cache-Control"] = "no-cache"
    return response


async def open_draft(request: Request, doc_id: str) -> spb.PublicDocument:
    """The version of `doc_id` open for comment today, or NotFound (closed, never opened, unknown)."""
    gw = gateway(request)
    try:
        found = await gw.document(doc_id)
        if found.state == pb.VERSION_STATE_PUBLIC_COMMENT:
            return found
        # An amendment can be open for comment while the version in force is what the document shows.
        drafts = [v for v in found.versions if v.state == pb.VERSION_STATE_PUBLIC_COMMENT]
        if drafts:
            return await gw.version(doc_id, drafts[-1].version_number)
    except NotFound:
        pass
    # One message for unknown, hidden, closed and never opened: the URL tells nothing more.
    raise NotFound(CLOSED)


async def consultation(request: Request) -> Response:
    doc_id = checked_id(request)
    draft = await open_draft(request, doc_id)
    return form_page(request, doc_id, draft, text="", error="", submitted=request.query_params.get("sent") == "1")


def form_page(
    request: Request,
    doc_id: str,
    draft: spb.PublicDocument,
    *,
    text: str,
    error: str,
    submitted: bool,
    status: int = 200,
) -> Response:
    token = request.cookies.get(guards.CSRF_COOKIE) or guards.new_csrf_token()
    context: dict[str, Any] = {
        "doc": draft,
        "doc_id": doc_id,
        "outline": outline(draft.body, [(a.label, a.text) for a in draft.articles]),
        "csrf_token": token,
        "csrf_field": guards.CSRF_FIELD,
        "text": text,
        "error": error,
        "submitted": submitted,
        "comment_max": guards.COMMENT_MAX,
    }
    response = render(request.app.state.templates, request, "consultation.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    if guards.CSRF_COOKIE not in request.cookies:
        response.set_cookie(
            guards.CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )
    return response


async def submit(request: Request) -> Response:
    doc_id = checked_id(request)
    request._body = await guards.form_body(request)  # the form parser reads the body already received
    form = await request.form(max_files=0, max_fields=10, max_part_size=guards.FORM_MAX_BYTES)
    submitted_token = form.get(guards.CSRF_FIELD)
    if not guards.csrf_ok(
        request.cookies.get(guards.CSRF_COOKIE), submitted_token if isinstance(submitted_token, str) else None
    ):
        raise Forbidden("表单已过期或来源无法确认，请返回征求意见页面重新填写。")
    raw = form.get("text")
    text, error = guards.clean_comment(raw if isinstance(raw, str) else "")
    draft = await open_draft(request, doc_id)
    if error:
        return form_page(
            request, doc_id, draft, text=text[: guards.COMMENT_MAX * 2], error=error, submitted=False, status=400
        )
    client = request.client.host if request.client else "unknown"
    if not request.app.state.limiter.allow(client):
        raise TooMany("您提交意见过于频繁，请稍后再试。")
    await gateway(request).submit_comment(draft.name, text)
    return RedirectResponse(f"/consultations/{doc_id}?sent=1#comment-form", status_code=303)
