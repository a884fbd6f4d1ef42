"""``POST /api/v1/channel/purchase`` answered on the event loop: the national-peak path (issue 11).

A pure ASGI layer in front of FastAPI. For a purchase whose body is valid JSON of the
documented shape and whose ``X-Api-Key`` this process already knows (the per-process key
cache), it does what the FastAPI route does — the wrong-key throttle of the client address, the
channel's purchase rate limit, the sale, the same JSON answer or the same typed error — without
FastAPI's per-request dependency solving, response-model validation and worker-thread hop. The
sale runs on a psycopg async pool (``vending.fastpath_async``); a sale the lane hands back (a
refusal, a replay, a campaign meter, an IDPEL, a cold cache) runs the full blocking ``purchase``
in a worker thread, exactly as the route would.

Everything else — another path, a bearer token, an unknown key, a body that does not validate,
a content type that is not JSON — goes to FastAPI untouched (the body replayed), so errors and
the OpenAPI document stay the route's. Metrics are counted here for the requests answered here.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prabayar.web.clientaddr import client_address
from prabayar.web.context import current_request_id
from prabayar.web.errors import WebError
from prabayar.web.metrics import LANE_SALES, LATENCY, PURCHASES, RATE_LIMITED, REQUESTS

if TYPE_CHECKING:
    from prabayar.vending.fastpath_async import AsyncLeanPurchase
    from prabayar.web.ratelimit import AsyncRateLimiter

log = logging.getLogger("prabayar.web.lane")

PATH = "/api/v1/channel/purchase"
_JSON = (b"content-type", b"application/json")


class PurchaseLane:
    """Answers channel purchases it can sell on the loop; passes everything else to ``app``."""

    def __init__(self, app: ASGIApp, owner: Any) -> None:
        self.app = app
        self.owner = owner  # the FastAPI app: its state holds services, limits and the lane's sale

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sale: AsyncLeanPurchase | None = getattr(self.owner.state, "purchase_lane", None)
        if sale is not None and scope["type"] == "lifespan":
            await self.app(scope, _closing_on_shutdown(receive, sale, self.owner.state.async_rate_limiter), send)
            return
        if sale is None or scope["type"] != "http" or scope.get("path") != PATH or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        api_key = None
        json_body = True
        for name, value in scope.get("headers", ()):
            if name == b"x-api-key" and api_key is None:
                api_key = value.decode("latin-1")
            elif name == b"content-type":
                kind = value.split(b";", 1)[0].strip().lower()
                json_body = kind == b"application/json"
        body, complete = await _read_body(receive)
        if not complete:
            return  # the client went away
        fallback = _replaying(body, receive)
        if not api_key or not json_body:
            await self.app(scope, fallback, send)
            return
        from prabayar.web.api.schemas import PurchaseIn

        try:
            request = PurchaseIn.model_validate_json(body)
        except ValidationError:
            await self.app(scope, fallback, send)  # the route words the 400/422
            return
        services = self.owner.state.services
        info = sale.channel_for_key(api_key)
        if info is None:
            await self.app(scope, fallback, send)  # the route authenticates and fills the cache
            return
        await self._sell(scope, send, sale, services, info, request)

    async def _sell(
        self, scope: Scope, send: Send, sale: AsyncLeanPurchase, services: Any, info: Any, request: Any
    ) -> None:
        from prabayar.vending.fastpath_async import HandBack
        from prabayar.web.api.schemas import PurchaseOut
        from prabayar.web.deps import channel_purchase_limit

        started = time.perf_counter()
        state = self.owner.state
        limiter: AsyncRateLimiter = state.async_rate_limiter
        limits = state.limits
        status = 200
        code = "0000"
        try:
            await limiter.check(f"api-key-fail:{client_address(Request(scope))}", limits.api_key_failures)
            per_minute = getattr(info, "purchases_per_minute", None)
            await limiter.hit(f"channel:{info.code}", channel_purchase_limit(per_minute, limits.channel_tokens))
            try:
                result = await sale.purchase(info.code, request.channel_reference, request.identifier, request.nominal)
                LANE_SALES.labels("sold").inc()
            except HandBack:
                LANE_SALES.labels("handed_back").inc()
                vending = services.vending
                result = await run_in_threadpool(
                    services.call,
                    vending.purchase,
                    info.code,
                    request.channel_reference,
                    request.identifier,
                    request.nominal,
                )
            payload = PurchaseOut.of(result).model_dump_json().encode()
            headers = [_JSON]
        except Exception as exc:
            error = _web_error(exc)
            status, code = error.status_code, str(error.response_code)
            import json

            payload = json.dumps(error.body(_request_id(scope))).encode()
            headers = [_JSON, *((k.lower().encode(), v.encode()) for k, v in error.headers.items())]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
        REQUESTS.labels(PATH, "POST", str(status)).inc()
        LATENCY.labels(PATH).observe(time.perf_counter() - started)
        if status == 429:
            RATE_LIMITED.labels(PATH).inc()
        else:
            PURCHASES.labels(code).inc()


def _web_error(exc: Exception) -> WebError:
    """The typed answer the route's exception handlers would give (500 for a crash)."""
    from prabayar.vending import VendingError
    from prabayar.web.services import web_error_from

    if isinstance(exc, WebError):
        return exc
    if isinstance(exc, VendingError):
        return web_error_from(exc)
    log.error("unhandled error while serving %s", PATH, exc_info=exc)
    return WebError(
        "Terjadi kesalahan pada sistem. Silakan coba lagi.",
        "Something went wrong on our side. Please try again.",
        status_code=500,
        slug="internal_error",
    )


def _request_id(scope: Scope) -> str:
    return str(scope.get("state", {}).get("request_id") or current_request_id())


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body (``BodyLimitMiddleware`` in front has bounded and buffered it)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", False
        if message["type"] != "http.request":
            continue
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _closing_on_shutdown(receive: Receive, sale: AsyncLeanPurchase, limiter: AsyncRateLimiter) -> Receive:
    """A lifespan ``receive`` that closes the lane's database pool and Redis connections when
    the server stops."""

    async def wrapped() -> Message:
        message = await receive()
        if message.get("type") == "lifespan.shutdown":
            for close in (sale.close, limiter.close):
                try:
                    await close()
                except Exception:  # never keep a stopping server from stopping
                    log.warning("closing the lane's connections failed", exc_info=True)
        return message

    return wrapped


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the already read body once, then the real channel."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


__all__ = ["PATH", "PurchaseLane"]
