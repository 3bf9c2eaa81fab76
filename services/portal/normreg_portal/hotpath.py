"""The portal's most asked page, a document as in force today (`GET /documents/{id}`, no query),
served in front of the framework.

On a kept page the portal's own work is small next to Starlette's: the exception middleware, the
router's matching, the Request and Response objects and the headers middleware made up most of the
~118 µs the app took for such a request in process (~18 µs through here). This path makes the same
call, takes the page from the same cache through the same function, and sends the same headers
(those of rendering.page_response plus security.HEADERS, pre-encoded); a draft's redirect and an
error page are the app's own responses under the same headers middleware, and every other URL goes
through the app.
"""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from normreg_portal import pages
from normreg_portal.errors import PortalError
from normreg_portal.rendering import Gzipped, Redirect, accepts_gzip
from normreg_portal.security import PAGE_CACHE, RAW, SecurityHeaders

# The ids pages.checked_id accepts; any other path under /documents/ is the router's (a 404 page).
DOCUMENT_PATH = re.compile(r"^/documents/(" + pages.DOCUMENT_ID.pattern.removeprefix("^").removesuffix(r"\Z") + r")\Z")
HTML = (b"content-type", b"text/html; charset=utf-8")
VARY = (b"vary", b"Accept-Encoding")
GZIP = (b"content-encoding", b"gzip")


class DocumentPages:
    """Middleware answering the current version's page of a document; everything else goes on to
    `app` (the headers middleware, then the router). Outermost but for Starlette's own
    ServerErrorMiddleware, which still turns an unexpected error here into the 500 page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            match = DOCUMENT_PATH.match(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        doc_id = match.group(1)
        portal: Starlette = scope["app"]
        request = Request(scope, receive)
        try:
            serialised = await pages.gateway(request).document_bytes(doc_id)
        except PortalError as error:
            handler = portal.exception_handlers[PortalError]
            await SecurityHeaders(await handler(request, error))(scope, receive, send)
            return
        page = pages.kept_document_page(
            portal,
            scope["path"],
            doc_id,
            serialised,
            valid_on="",
            pinned=False,
            base=pages.public_base(request),
            gzip=accepts_gzip(request.headers.get("accept-encoding", "")),
        )
        if isinstance(page, Redirect):
            await SecurityHeaders(page.response())(scope, receive, send)
            return
        if isinstance(page, Gzipped):
            page = page.body
            headers = [VARY, GZIP, (b"content-length", str(len(page)).encode()), HTML, *RAW, PAGE_CACHE]
        else:
            headers = [VARY, (b"content-length", str(len(page)).encode()), HTML, *RAW, PAGE_CACHE]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": page})
