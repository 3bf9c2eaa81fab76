"""The review suggestion form (审查建议, 立法法 art. 110): anyone may ask the body a document was filed
with to review it, through FilingReviewService.SubmitReviewSuggestion. The same guards as the comment
form: a double-submitted CSRF cookie, size limits, a per-client rate limit. The contact goes to the
recipient's reviewers only; this page never shows it back."""

from __future__ import annotations

import re
from typing import Any

from normreg.v1 import document_pb2 as pb
from normreg.v1 import filing_review_service_pb2 as fpb
from normreg.v1 import search_service_pb2 as spb
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from normreg_portal import guards, labels
from normreg_portal.errors import BadRequest, Conflict, Forbidden, NotFound, TooMany
from normreg_portal.gateway import NOT_IN_FORCE, NOT_REVIEWED_HERE
from normreg_portal.pages import checked_id, gateway
from normreg_portal.rendering import render

REQUESTER_KINDS = {
    "citizen": ("公民", fpb.REQUESTER_KIND_CITIZEN),
    "organisation": ("组织", fpb.REQUESTER_KIND_ORGANISATION),
    "state_body": ("国家机关", fpb.REQUESTER_KIND_STATE_BODY),
}
# What a suggestion may be about: promulgated, in force or not yet.
SUGGESTIBLE = frozenset((pb.VERSION_STATE_PROMULGATED, pb.VERSION_STATE_IN_FORCE))
# 第五条、第六条 / 第五条,第六条 / 第五条 第六条: each one provision.
_SEPARATORS = re.compile(r"[、，,；;\s]+")
PROVISIONS_MAX = 20
NOT_YET_KNOWN = (
    "受理审查建议的机关尚无本文件的公布或备案记录，暂时无法受理：若本文件刚刚公布，请稍后再试；"
    "否则请向制定机关的上级机关或备案审查机关直接提出。"
)
UNREADABLE = "填写的内容中有无法识别的字符，请检查涉及的条款、理由和联系方式后重新提交。"


async def _document(request: Request, doc_id: str) -> spb.PublicDocument:
    """The document a suggestion is about: one promulgated and in force or not yet in force (立法法
    第一百一十条: a suggestion asks for the review of a filed text). A draft open for comment takes
    comments on its consultation page instead; a text no longer in force has nothing left to review."""
    if not gateway(request).takes_suggestions:
        raise NotFound()
    doc = await gateway(request).document(doc_id)
    if doc.state == pb.VERSION_STATE_PUBLIC_COMMENT:
        raise Conflict("本文件是正在征求意见的草案，尚未公布，不能提出审查建议；请在它的征求意见页面提出意见。")
    if doc.state not in SUGGESTIBLE:
        raise Conflict(NOT_IN_FORCE)
    if doc.kind not in labels.REVIEWED_KINDS:
        raise Conflict(NOT_REVIEWED_HERE)
    return doc


async def form(request: Request) -> Response:
    doc_id = checked_id(request)
    doc = await _document(request, doc_id)
    values = {"provisions": "", "reasons": "", "contact": "", "requester": "citizen"}
    return _page(request, doc_id, doc, values, error="", submitted=request.query_params.get("sent") == "1")


def _page(
    request: Request,
    doc_id: str,
    doc: spb.PublicDocument,
    values: dict[str, str],
    *,
    error: str,
    submitted: bool,
    status: int = 200,
) -> Response:
    token = request.cookies.get(guards.CSRF_COOKIE) or guards.new_csrf_token()
    context: dict[str, Any] = {
        "doc": doc,
        "doc_id": doc_id,
        "csrf_token": token,
        "csrf_field": guards.CSRF_FIELD,
        "values": values,
        "kinds": [(key, label) for key, (label, _) in REQUESTER_KINDS.items()],
        "error": error,
        "submitted": submitted,
        "reasons_max": guards.COMMENT_MAX,
        "line_max": guards.LINE_MAX,
    }
    response = render(request.app.state.templates, request, "suggestion.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    if guards.CSRF_COOKIE not in request.cookies:
        response.set_cookie(
            guards.CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )
    return response


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def check(provisions: str, reasons: str, contact: str, requester: str) -> tuple[dict[str, str], list[str], str]:
    """(cleaned values, provisions as a list, error message or "")."""
    requester = requester or "citizen"
    provisions = guards.clean_line(provisions)
    contact = guards.clean_line(contact)
    reasons, error = guards.clean_comment(reasons)
    values = {
        "provisions": provisions[: guards.LINE_MAX * 2],
        "reasons": reasons[: guards.COMMENT_MAX * 2],
        "contact": contact[: guards.LINE_MAX * 2],
        "requester": requester if requester in REQUESTER_KINDS else "citizen",
    }
    named = [p for p in _SEPARATORS.split(provisions) if p]
    if error:
        error = error.replace("意见内容", "审查建议的理由").replace("意见最多", "理由最多")
    elif requester not in REQUESTER_KINDS:
        error = "请选择建议人类别。"
    elif not contact:
        error = "请留下联系方式（仅用于答复，不会公开）。"
    elif len(contact) > guards.LINE_MAX:
        error = f"联系方式最多 {guards.LINE_MAX} 字。"
    elif (
        len(provisions) > guards.LINE_MAX or len(named) > PROVISIONS_MAX or any(len(p) > guards.LINE_MAX for p in named)
    ):
        error = f"涉及的条款最多 {PROVISIONS_MAX} 项、{guards.LINE_MAX} 字。"
    return values, named, error


async def submit(request: Request) -> Response:
    doc_id = checked_id(request)
    request._body = await guards.form_body(request)  # the form parser reads the body already received
    form = await request.form(max_files=0, max_fields=10, max_part_size=guards.FORM_MAX_BYTES)
    if not guards.csrf_ok(request.cookies.get(guards.CSRF_COOKIE), _field(form, guards.CSRF_FIELD) or None):
        raise Forbidden("表单已过期或来源无法确认，请返回审查建议页面重新填写。")
    doc = await _document(request, doc_id)
    values, provisions, error = check(
        _field(form, "provisions"), _field(form, "reasons"), _field(form, "contact"), _field(form, "requester")
    )
    if error:
        return _page(request, doc_id, doc, values, error=error, submitted=False, status=400)
    client = request.client.host if request.client else "unknown"
    if not request.app.state.suggestion_limiter.allow(client):
        raise TooMany("您提交审查建议过于频繁，请稍后再试。")
    try:
        await gateway(request).submit_review_suggestion(
            fpb.ReviewSuggestion(
                document=f"documents/{doc_id}",
                # The jurisdiction whose documents this portal shows.
                sender=request.app.state.settings.profile,
                provisions=provisions,
                reasons=values["reasons"],
                contact=values["contact"],
                requester_kind=REQUESTER_KINDS[values["requester"]][1],
            )
        )
    except NotFound:
        # The page showed the text, but the body it is filed with has no record of it yet: its
        # promulgation is still on its way there, or the text is not one filed with that body. The
        # form comes back as it was written, to be sent again.
        return _page(request, doc_id, doc, values, error=NOT_YET_KNOWN, submitted=False, status=409)
    except BadRequest:
        # Something the checks above let through and the service refused: the form comes back as
        # written, not an error page that loses it.
        return _page(request, doc_id, doc, values, error=UNREADABLE, submitted=False, status=400)
    return RedirectResponse(f"/documents/{doc_id}/review-suggestion?sent=1#suggestion-form", status_code=303)
