"""Headers on every response: a strict Content-Security-Policy (no inline script or style, nothing
from another host), and the usual hardening. Pure ASGI, so streaming responses keep streaming."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; manifest-src 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


# Encoded once: every response gets them, so the per-response work is one pass over its headers.
RAW = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS.items()]
STATIC_CACHE = (b"cache-control", b"public, max-age=31536000, immutable")
PAGE_CACHE = (b"cache-control", b"public, max-age=60")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                cache = STATIC_CACHE if path.startswith("/static/") else PAGE_CACHE
                headers += [pair for pair in (*RAW, cache) if pair[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
