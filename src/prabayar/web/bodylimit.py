"""Bounded request bodies on the API: 413 before the body is read whole.

Pure ASGI middleware in front of everything else (log-in, API-key checks, routing): a request to
``/api/`` whose ``Content-Length`` is over the limit is answered 413 at once, without reading
the body; a body without a length (chunked) is read up to the limit and answered 413 as soon as
one byte more arrives. A body within the limit is handed to the application unchanged. Pages
(forms) keep Starlette's own form limits.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prabayar.digits import is_digits
from prabayar.web.context import current_request_id
from prabayar.web.errors import InvalidJson, PayloadTooLarge, WebError

DEFAULT_MAX_BODY = 64 * 1024


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body: int = DEFAULT_MAX_BODY, prefix: str = "/api/") -> None:
        self.app = app
        self.max_body = max_body
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)  # ASCII digits only: int() of bytes refuses others
                except ValueError:
                    declared = -1
                if declared < 0 or not is_digits(value.decode("latin-1")):
                    await self._refuse(send, 400)
                    return
                if declared > self.max_body:
                    await self._refuse(send, 413)
                    return
        # Read the body here, never more than the limit, then replay it to the application.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                if message["type"] == "http.disconnect":
                    return
                continue
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body:
                await self._refuse(send, 413)
                return
            chunks.append(body)
            more = bool(message.get("more_body", False))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, status: int) -> None:
        error: WebError = PayloadTooLarge()
        if status != 413:
            error = InvalidJson("Content-Length tidak valid.", "The Content-Length header is not valid.")
        body = json.dumps(error.body(current_request_id())).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
