"""The FastAPI application factory: API under /api/v1, server-rendered pages, static files."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from prabayar.config import Settings
from prabayar.web.bodylimit import BodyLimitMiddleware
from prabayar.web.clientaddr import parse_proxies
from prabayar.web.context import current_request_id, install_log_filter
from prabayar.web.errors import InvalidJson, InvalidRequest, NotAuthenticated, NotFound, WebError
from prabayar.web.metrics import MetricsMiddleware, metrics_endpoint, watch_pool
from prabayar.web.middleware import RequestContextMiddleware
from prabayar.web.purchase_lane import PurchaseLane
from prabayar.web.ratelimit import AsyncRateLimiter, LoginThrottle, RateLimiter, open_storage
from prabayar.web.security import TokenSigner
from prabayar.web.sessions import ServerSessionMiddleware
from prabayar.web.state import open_state

if TYPE_CHECKING:
    from prabayar.web.deps import Limits

log = logging.getLogger("prabayar.web")

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "prabayar_session"
SESSION_MAX_AGE = 8 * 3600


class PrabayarApp(FastAPI):
    """FastAPI whose outermost layers sit outside Starlette's error middleware, so that a 500
    page carries the security headers and request id too, and an oversized API body is refused
    before anything else (log-in, API key, routing) runs."""

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()
        settings: Settings = self.state.settings
        lane = PurchaseLane(inner, self)
        return RequestContextMiddleware(BodyLimitMiddleware(lane, max_body=settings.max_json_body))


def session_secret(settings: Settings) -> str:
    """The configured secret, or one generated once and kept (mode 0600) under the data dir."""
    if settings.session_secret is not None:
        value = settings.session_secret.get_secret_value()
        if len(value) < 32:
            raise ValueError("PRABAYAR_SESSION_SECRET must be at least 32 characters")
        return value
    path = settings.data_dir / "session.secret"
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value)
    return value


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", None) or current_request_id())


def _error_response(request: Request, error: WebError, extra: dict[str, Any] | None = None) -> Response:
    if not _is_api(request):
        from prabayar.web.pages.rendering import render_error

        if isinstance(error, NotAuthenticated):
            if request.method != "GET":  # a form posted after the session ended
                return RedirectResponse("/masuk", status_code=303)
            target = request.url.path
            if request.url.query:
                target += "?" + request.url.query
            return RedirectResponse(f"/masuk?next={quote(target, safe='/')}", status_code=303)
        page = render_error(request, error)
        page.headers["X-Request-ID"] = _request_id(request)
        return page
    body = error.body(_request_id(request))
    if extra:
        body.update(extra)
    headers = {"X-Request-ID": _request_id(request), **error.headers}
    return JSONResponse(body, status_code=error.status_code, headers=headers)


def _install_handlers(app: FastAPI) -> None:
    async def on_web_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WebError)
        return _error_response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            return _error_response(request, InvalidJson())
        problems = [
            {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))} for err in exc.errors()
        ]
        return _error_response(request, InvalidRequest(), {"detail": problems})

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return _error_response(request, NotFound())
        error = WebError(
            "Permintaan tidak dapat diproses.",
            str(exc.detail) if exc.detail else "The request cannot be processed.",
            status_code=exc.status_code,
            slug="method_not_allowed" if exc.status_code == 405 else "http_error",
            headers=dict(exc.headers or {}),
        )
        return _error_response(request, error)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error while serving %s", request.url.path)
        error = WebError(
            "Terjadi kesalahan pada sistem. Silakan coba lagi.",
            "Something went wrong on our side. Please try again.",
            status_code=500,
            slug="internal_error",
        )
        return _error_response(request, error)

    app.add_exception_handler(WebError, on_web_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


def create_app(settings: Settings | None = None, *, services: Any = None, limits: Limits | None = None) -> FastAPI:
    """Build the app for ``settings`` (the environment's when None).

    ``services`` is the vending facade (:class:`prabayar.web.services.Services`); by default it
    is built from ``settings`` and opens the configured database.
    """
    from prabayar.config import get_settings
    from prabayar.web.deps import Limits
    from prabayar.web.routers import API_ROUTERS, PAGE_ROUTERS
    from prabayar.web.services import Services
    from prabayar.web.virtual_meters import VirtualMeters

    settings = settings or get_settings()
    install_log_filter()
    app = PrabayarApp(
        title="prabayar API",
        version="1",
        summary="Prepaid electricity (STS) vending API for payment points and operators.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.services = services if services is not None else Services.from_settings(settings)
    storage = open_storage(settings.redis_url, key_prefix=settings.redis_prefix)
    app.state.rate_limiter = RateLimiter(storage)
    app.state.async_rate_limiter = AsyncRateLimiter(
        app.state.rate_limiter, settings.redis_url, key_prefix=settings.redis_prefix
    )
    app.state.purchase_lane = _purchase_lane(settings, app.state.services.vending)
    app.state.limits = limits or Limits()
    app.state.login_throttle = LoginThrottle(storage, app.state.limits.login)
    app.state.trusted_proxies = parse_proxies(settings.trusted_proxies)
    app.state.virtual_meters = VirtualMeters(settings, app.state.services)
    secret = session_secret(settings)
    app.state.token_signer = TokenSigner(secret)
    app.state.shared_state = open_state(
        settings.redis_url, getattr(app.state.services.vending, "engine", None), prefix=settings.redis_prefix
    )

    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    for router in PAGE_ROUTERS:
        app.include_router(router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    _install_handlers(app)
    # Secure even on http://127.0.0.1: browsers treat loopback as a secure context.
    app.add_middleware(
        ServerSessionMiddleware, state=app.state.shared_state, cookie=SESSION_COOKIE, max_age=SESSION_MAX_AGE
    )
    # /metrics (Prometheus) and the per-route counters and latencies behind it
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.add_middleware(MetricsMiddleware)
    engine = getattr(app.state.services.vending, "engine", None)
    if engine is not None:
        watch_pool(engine)
    _document_common_responses(app)
    return app


def _purchase_lane(settings: Settings, vending: Any) -> Any:
    """The event-loop purchase path (``web.purchase_lane``) when the vending service runs the
    lean path on PostgreSQL and ``PRABAYAR_ASYNC_PURCHASE`` is on; None otherwise."""
    from prabayar.vending.fastpath import LeanPurchase

    engine = getattr(vending, "engine", None)
    if not settings.async_purchase or not isinstance(vending, LeanPurchase) or engine is None:
        return None
    if engine.dialect.name != "postgresql":
        return None
    from prabayar.vending.db import LIBPQ_OPTIONS
    from prabayar.vending.fastpath_async import AsyncLeanPurchase

    url = engine.url.render_as_string(hide_password=False)
    options = str(engine.__dict__.get(LIBPQ_OPTIONS, ""))
    from prabayar.web.metrics import LANE_BATCH

    lane = AsyncLeanPurchase(vending, url, pool_size=settings.db_pool_size, options=options, batch=settings.sale_batch)
    lane.on_batch = LANE_BATCH.observe
    return lane


def _document_common_responses(app: FastAPI) -> None:
    """Every API operation documents the statuses any request may get: 400 (not JSON), 413 (body
    over the limit), 500 (our fault); those taking an API key also 429 (wrong keys throttled)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        error = {
            "description": "Error document",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorDocument"}}},
        }
        common = {
            "400": "Invalid JSON or Content-Length (RC 0030, invalid_json)",
            "413": "Request body over the limit (RC 0030, payload_too_large)",
            "500": "Internal error (RC 0005, internal_error)",
        }
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                extra = dict(common)
                if any("APIKeyHeader" in req for req in operation.get("security", [])):
                    extra["429"] = "Too many wrong API keys from this address (RC 0005, rate_limited)"
                for status, description in extra.items():
                    responses.setdefault(status, {**error, "description": description})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
