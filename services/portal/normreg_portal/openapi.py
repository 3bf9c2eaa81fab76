"""The OpenAPI 3.1 description of /api/v1/, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from normreg_portal.labels import KIND_SLUGS, STATUS_FILTERS


def _string(description: str = "", **extra: Any) -> dict[str, Any]:
    return {"type": "string", **({"description": description} if description else {}), **extra}


def _date(description: str) -> dict[str, Any]:
    return _string(description + " Empty when unknown.", pattern="^(\\d{4}-\\d{2}-\\d{2})?$")


_CODED = {
    "type": "object",
    "required": ["code", "label"],
    "properties": {"code": _string("Stable code."), "label": _string("Chinese label.")},
}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "message"],
            "properties": {"status": {"type": "integer"}, "message": _string()},
        }
    },
}
_VERSION = {
    "type": "object",
    "properties": {
        "version": {"type": "integer"},
        "title": _string(),
        "status": {"$ref": "#/components/schemas/Coded"},
        "uniform_number": _string("文号, e.g. 赤政规〔2024〕1号."),
        "promulgation_date": _date("Date of promulgation."),
        "effective_date": _date("Date it takes effect."),
        "valid_from": _date("First day it is valid."),
        "valid_to": _date("Day it stopped being valid (exclusive); empty while valid."),
    },
}


def _count() -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": 0,
        "readOnly": True,
        "description": "Comments received so far on this draft. "
        "Counted from the registry's events: a comment just submitted shows up within moments.",
    }


_DOCUMENT = {
    "type": "object",
    "properties": {
        "id": _string("Document id, as in /documents/{id}."),
        "version": {"type": "integer"},
        "title": _string(),
        "kind": {"$ref": "#/components/schemas/Coded"},
        "status": {"$ref": "#/components/schemas/Coded"},
        "issuing_body": _string("制定机关."),
        "uniform_number": _string(),
        "promulgation_date": _date("Date of promulgation."),
        "effective_date": _date("Date it takes effect."),
        "validity_end_date": _date("Last day of a limited validity period."),
        "url": _string("Path of its page."),
        "body": _string("Full text."),
        "articles": {
            "type": "array",
            "items": {"type": "object", "properties": {"label": _string("e.g. 第三十条."), "text": _string()}},
        },
        "timeline": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "date": _date("Date of the event."),
                    "event": _string("promulgated, in_force, amended, repealed, declared_invalid, expired, ..."),
                    "label": _string(),
                    "related": _string("Related version or uniform number."),
                },
            },
        },
        "amends": _string("documents/{id}/versions/{n} this version amended."),
        "amended_by": _string("documents/{id}/versions/{n} that amended it."),
        "repealed_by": _string("What repealed it."),
        "versions": {"type": "array", "items": {"$ref": "#/components/schemas/Version"}},
    },
}
_HIT = {
    "type": "object",
    "properties": {
        "id": _string(),
        "version": _string(),
        "title": _string(),
        "kind": {"$ref": "#/components/schemas/Coded"},
        "status": {"$ref": "#/components/schemas/Coded"},
        "issuing_body": _string(),
        "uniform_number": _string(),
        "promulgation_date": _date("Date of promulgation."),
        "effective_date": _date("Date it takes effect."),
        "snippets": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "article": _string("title, body or an article label such as 第三条."),
                    "text": _string("Plain text."),
                    "marked": _string("The same text with matches in <em></em>; escape it before showing."),
                },
            },
        },
    },
}
_FACET = {
    "type": "array",
    "items": {"type": "object", "properties": {"value": _string(), "count": {"type": "integer"}}},
}
_CONSULTATION = {
    "type": "object",
    "properties": {
        "id": _string(),
        "version": {"type": "integer"},
        "title": _string(),
        "kind": {"$ref": "#/components/schemas/Coded"},
        "issuing_body": _string(),
        "start_date": _date("First day of the comment period."),
        "end_date": _date("Last day of the comment period."),
        "comment_count": _count(),
        "url": _string("Page with the text and the comment form."),
    },
}


def _ok(schema: str) -> dict[str, Any]:
    return {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_ERRORS = {
    "400": {
        "description": "Bad parameter",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "404": {
        "description": "Unknown, or not public",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema or _string()}


_ID = {"name": "id", "in": "path", "required": True, "schema": _string(pattern="^[a-z0-9][a-z0-9-]{0,62}$")}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "normreg public read API",
        "version": "1.0.0",
        "description": "Regulations and normative documents as the public sees them: search, full text by "
        "article, versions in force on a date, and drafts open for comment. No authentication.",
    },
    "servers": [{"url": "/"}],
    "paths": {
        "/api/v1/search": {
            "get": {
                "summary": "Search public documents; an empty q lists them newest first",
                "parameters": [
                    _query("q", "Words to find (at most 200 characters).", _string(maxLength=200)),
                    _query("status", "Status filter (default in_force).", _string(enum=list(STATUS_FILTERS))),
                    _query("kind", "Kind of document.", _string(enum=list(KIND_SLUGS))),
                    _query("body", "Issuing body.", _string(maxLength=100)),
                    _query("year", "Year of promulgation.", {"type": "integer", "minimum": 1900, "maximum": 2200}),
                    _query("valid_on", "Versions valid on this date (overrides status).", _string(format="date")),
                    _query("sort", "relevance (default with q) or date.", _string(enum=["relevance", "date"])),
                    _query("page", "next_page of the previous response.", _string(maxLength=200)),
                    _query("page_size", "1..100, default 20.", {"type": "integer", "minimum": 1, "maximum": 100}),
                ],
                "responses": {"200": _ok("SearchResponse"), **_ERRORS},
            }
        },
        "/api/v1/documents/{id}": {
            "get": {
                "summary": "A document: the version in force today, or on valid_on",
                "parameters": [_ID, _query("valid_on", "Version valid on this date.", _string(format="date"))],
                "responses": {"200": _ok("Document"), **_ERRORS},
            }
        },
        "/api/v1/documents/{id}/versions/{version}": {
            "get": {
                "summary": "One version of a document",
                "parameters": [
                    _ID,
                    {"name": "version", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
                ],
                "responses": {"200": _ok("Document"), **_ERRORS},
            }
        },
        "/api/v1/numbers/{number}": {
            "get": {
                "summary": "The version with this uniform number (文号)",
                "parameters": [{"name": "number", "in": "path", "required": True, "schema": _string(maxLength=60)}],
                "responses": {"200": _ok("Document"), **_ERRORS},
            }
        },
        "/api/v1/consultations": {
            "get": {"summary": "Drafts open for comment today", "responses": {"200": _ok("ConsultationList")}}
        },
    },
    "components": {
        "schemas": {
            "Coded": _CODED,
            "Error": _ERROR,
            "Version": _VERSION,
            "Document": _DOCUMENT,
            "Hit": _HIT,
            "SearchResponse": {
                "type": "object",
                "properties": {
                    "total": {"type": "integer"},
                    "results": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
                    "next_page": _string("Pass as page for the next page; empty on the last."),
                    "facets": {
                        "type": "object",
                        "properties": {"status": _FACET, "kind": _FACET, "issuing_body": _FACET, "year": _FACET},
                    },
                },
            },
            "Consultation": _CONSULTATION,
            "ConsultationList": {
                "type": "object",
                "properties": {
                    "consultations": {"type": "array", "items": {"$ref": "#/components/schemas/Consultation"}}
                },
            },
        }
    },
}
