"""Pure ASGI middleware: request ids, an access log line, and security headers on every response."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prabayar.web.context import bind_request_id, new_request_id, reset_request_id

log = logging.getLogger("prabayar.web.access")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
    ),
    "Cache-Control": "no-store",
}


class RequestContextMiddleware:
    """Gives each request an id (kept from ``X-Request-ID`` when sane), echoes it, logs the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = None
        for key, value in scope.get("headers", []):
            if key == b"x-request-id":
                offered = value.decode("latin-1")
                break
        request_id = new_request_id(offered)
        scope.setdefault("state", {})["request_id"] = request_id
        token = bind_request_id(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                path = scope.get("path", "")
                for name, value in SECURITY_HEADERS.items():
                    if name == "Cache-Control" and path.startswith("/static/"):
                        continue
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.info("%s %s -> %s in %.1f ms", scope.get("method"), scope.get("path"), status, elapsed_ms)
            reset_request_id(token)
