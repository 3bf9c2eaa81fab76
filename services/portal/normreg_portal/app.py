"""The portal as an ASGI app: routes, error pages, security headers, static assets.

Starlette + Jinja2 under uvicorn: the app is plain async code on the same asyncio loop as its
grpc.aio channels, with no ORM, admin or session machinery to switch off, and Jinja2 escapes every
value by default. Both are small, widely used and steadily maintained.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from normreg_portal import api, consultations, feeds, pages, suggestions
from normreg_portal.assets import Assets
from normreg_portal.errors import NotFound, PortalError
from normreg_portal.gateway import Gateway
from normreg_portal.guards import RateLimiter
from normreg_portal.hotpath import DocumentPages
from normreg_portal.rendering import STATIC_DIR, PageCache, make_templates, render
from normreg_portal.security import SecurityHeaders
from normreg_portal.settings import PortalSettings

log = logging.getLogger(__name__)

HTTP_TITLES = {404: "页面不存在", 405: "不支持的请求方式", 400: "请求有误", 413: "内容过长"}


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def ready(request: Request) -> Response:
    """Ready when the search service answers: the portal has nothing to show without it."""
    gw: Gateway = request.app.state.gateway
    await gw.consultations(page_size=1)
    return PlainTextResponse("ok")


async def favicon(request: Request) -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


def error_response(request: Request, status: int, title: str, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"status": status, "message": message or title}}, status_code=status)
    response = render(
        request.app.state.templates,
        request,
        "error.html",
        {"title": title, "message": message, "status": status},
        status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def on_portal_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PortalError)
    return error_response(request, exc.status, exc.title, exc.message)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        missing = NotFound()
        return error_response(request, 404, missing.title, missing.message)
    return error_response(request, exc.status_code, HTTP_TITLES.get(exc.status_code, "请求有误"), "")


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("portal: unexpected error on %s", request.url.path, exc_info=exc)
    return error_response(request, 500, "出错了", "页面暂时无法显示，请稍后再试。")


def routes() -> list[Route | Mount]:
    return [
        Route("/", pages.home),
        Route("/search", pages.search),
        Route("/documents/{document}", pages.document),
        Route("/documents/{document}/versions/{number}", pages.version),
        Route("/documents/{document}/compare", pages.compare_versions),
        Route("/numbers/{number:path}", pages.by_number),
        Route("/consultations", consultations.consultation_list),
        Route("/consultations/{document}", consultations.consultation),
        Route("/consultations/{document}/comments", consultations.submit, methods=["POST"]),
        Route("/documents/{document}/review-suggestion", suggestions.form, methods=["GET"]),
        Route("/documents/{document}/review-suggestion", suggestions.submit, methods=["POST"]),
        Route("/feed.atom", feeds.feed),
        Route("/sitemap.xml", feeds.sitemap),
        Route("/robots.txt", feeds.robots),
        Route("/favicon.ico", favicon),
        Route("/healthz", health),
        Route("/readyz", ready),
        Route("/api/v1/search", api.search),
        Route("/api/v1/documents/{document}", api.document),
        Route("/api/v1/documents/{document}/versions/{number}", api.version),
        Route("/api/v1/numbers/{number:path}", api.by_number),
        Route("/api/v1/consultations", api.consultations),
        Route("/api/v1/openapi.json", api.openapi),
        Mount("/static", Assets(STATIC_DIR), name="static"),
    ]


def create_app(settings: PortalSettings, gateway: Gateway | None = None) -> Starlette:
    """The portal; `gateway` defaults to channels to the addresses in `settings`."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if getattr(app.state, "gateway", None) is None:
            app.state.gateway = Gateway(
                settings.search_addr,
                settings.registry_addr,
                timeout_s=settings.portal_backend_timeout_s,
                tls=settings.client_tls(),
                filing_addr=settings.filing_addr,
            )
        try:
            yield
        finally:
            await app.state.gateway.close()

    app = Starlette(
        routes=routes(),
        middleware=[Middleware(DocumentPages), Middleware(SecurityHeaders)],
        exception_handlers={PortalError: on_portal_error, HTTPException: on_http_error, Exception: on_unexpected},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.gateway = gateway
    app.state.templates = make_templates(settings.portal_site_name)
    app.state.limiter = RateLimiter(settings.portal_comment_limit, settings.portal_comment_window_s)
    app.state.suggestion_limiter = RateLimiter(settings.portal_suggestion_limit, settings.portal_suggestion_window_s)
    app.state.cache = feeds.Cache()
    app.state.pages = PageCache(settings.portal_page_cache, settings.portal_page_cache_mb * 2**20)
    return app
