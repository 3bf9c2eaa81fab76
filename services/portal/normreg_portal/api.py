"""The JSON read API under /api/v1/: SearchService's public reads in a stable shape of our own.

Shapes are built field by field (never a dump of the gRPC message), so a field the services add
later reaches this API only when someone adds it here and to the OpenAPI description.
"""

from __future__ import annotations

from typing import Any

from normreg.v1 import document_pb2 as pb
from normreg.v1 import search_service_pb2 as spb
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from normreg_portal import dates, labels, searchform
from normreg_portal.consultations import LIST_PAGES
from normreg_portal.errors import BadRequest, NotFound
from normreg_portal.highlight import plain
from normreg_portal.openapi import SPEC
from normreg_portal.pages import NUMBER_MAX, checked_id, checked_version, gateway
from normreg_portal.rendering import document_id

STATE_CODES: dict[int, str] = {int(state): code for state, code in labels.STATE_TO_FILTER.items()} | {
    int(pb.VERSION_STATE_PUBLIC_COMMENT): "consultation"
}


def state_json(state: int) -> dict[str, str]:
    return {"code": STATE_CODES.get(state, "other"), "label": labels.state_label(state)}


def kind_json(kind: int) -> dict[str, str]:
    return {"code": labels.SLUG_OF_KIND.get(kind, ""), "label": labels.kind_label(kind)}


def hit_json(hit: spb.SearchHit) -> dict[str, Any]:
    return {
        "id": document_id(hit.name),
        "version": hit.name.rsplit("/", 1)[-1],
        "title": hit.title,
        "kind": kind_json(hit.kind),
        "status": state_json(hit.state),
        "issuing_body": hit.issuing_body,
        "uniform_number": hit.uniform_number,
        "promulgation_date": dates.iso(hit.promulgation_date),
        "effective_date": dates.iso(hit.effective_date),
        "snippets": [{"article": s.field, "text": plain(s.text), "marked": s.text} for s in hit.snippets],
    }


def document_json(doc: spb.PublicDocument) -> dict[str, Any]:
    doc_id = document_id(doc.name)
    return {
        "id": doc_id,
        "version": int(doc.name.rsplit("/", 1)[-1]),
        "title": doc.title,
        "kind": kind_json(doc.kind),
        "status": state_json(doc.state),
        "issuing_body": doc.issuing_body,
        "uniform_number": doc.uniform_number,
        "promulgation_date": dates.iso(doc.promulgation_date),
        "effective_date": dates.iso(doc.effective_date),
        "validity_end_date": dates.iso(doc.validity_end_date),
        "url": f"/documents/{doc_id}",
        "articles": [{"label": a.label, "text": a.text} for a in doc.articles],
        "body": doc.body,
        "timeline": [
            {
                "date": dates.iso(e.date),
                "event": e.event,
                "label": labels.TIMELINE_LABELS.get(e.event, e.event),
                "related": e.related,
            }
            for e in doc.timeline
        ],
        "amends": doc.amends,
        "amended_by": doc.amended_by,
        "repealed_by": doc.repealed_by,
        "versions": [
            {
                "version": v.version_number,
                "title": v.title,
                "status": state_json(v.state),
                "uniform_number": v.uniform_number,
                "promulgation_date": dates.iso(v.promulgation_date),
                "effective_date": dates.iso(v.effective_date),
                "valid_from": dates.iso(v.valid_from),
                "valid_to": dates.iso(v.valid_to),
            }
            for v in doc.versions
        ],
    }


def consultation_json(c: spb.Consultation) -> dict[str, Any]:
    doc_id = document_id(c.name)
    return {
        "id": doc_id,
        "version": int(c.name.rsplit("/", 1)[-1]),
        "title": c.title,
        "kind": kind_json(c.kind),
        "issuing_body": c.issuing_body,
        "start_date": dates.iso(c.window.start_date),
        "end_date": dates.iso(c.window.end_date),
        "comment_count": c.comment_count,
        "url": f"/consultations/{doc_id}",
    }


async def search(request: Request) -> Response:
    form = searchform.parse(request.query_params)
    if form.errors:
        raise BadRequest(" ".join(form.errors))
    size_text = request.query_params.get("page_size", "20")
    if not (size_text.isascii() and size_text.isdigit() and 1 <= int(size_text) <= 100):
        raise BadRequest("page_size 应为 1 到 100 之间的整数。")
    result = await gateway(request).search(form.request(page_size=int(size_text)))
    return JSONResponse(
        {
            "total": result.total,
            "results": [hit_json(h) for h in result.hits],
            "next_page": result.next_page_token,
            "facets": {
                "status": [{"value": f.value, "count": f.count} for f in result.facets.states],
                "kind": [{"value": f.value, "count": f.count} for f in result.facets.kinds],
                "issuing_body": [{"value": f.value, "count": f.count} for f in result.facets.issuing_bodies],
                "year": [{"value": f.value, "count": f.count} for f in result.facets.years],
            },
        }
    )


async def document(request: Request) -> Response:
    doc_id = checked_id(request)
    raw = request.query_params.get("valid_on", "")
    try:
        valid_on = dates.parse_user_date(raw) if raw else None
    except dates.DateOutOfRange:
        raise BadRequest("valid_on 应在 1900-01-01 至 2200-12-31 之间。") from None
    except ValueError:
        raise BadRequest("valid_on 应为 YYYY-MM-DD 格式的日期。") from None
    found = await gateway(request).document(doc_id, valid_on)
    if found.state == pb.VERSION_STATE_PUBLIC_COMMENT:
        raise NotFound()  # drafts are read through /api/v1/consultations
    return JSONResponse(document_json(found))


async def version(request: Request) -> Response:
    doc_id = checked_id(request)
    found = await gateway(request).version(doc_id, checked_version(str(request.path_params["number"])))
    if found.state == pb.VERSION_STATE_PUBLIC_COMMENT:
        raise NotFound()
    return JSONResponse(document_json(found))


async def by_number(request: Request) -> Response:
    number = str(request.path_params["number"]).strip()
    if not number or len(number) > NUMBER_MAX:
        raise NotFound()
    return JSONResponse(document_json(await gateway(request).by_number(number)))


async def consultations(request: Request) -> Response:
    gw = gateway(request)
    found: list[spb.Consultation] = []
    token = ""
    for _ in range(LIST_PAGES):
        page = await gw.consultations(page_size=100, page_token=token)
        found.extend(page.consultations)
        token = page.next_page_token
        if not token:
            break
    return JSONResponse({"consultations": [consultation_json(c) for c in found]})


async def openapi(request: Request) -> Response:
    return JSONResponse(SPEC)
