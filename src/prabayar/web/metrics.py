"""Prometheus metrics at ``GET /metrics`` (prometheus-client; multiprocess mode under
``prabayar serve --workers N``).

* ``prabayar_http_requests_total{route, method, status}`` and
  ``prabayar_http_request_duration_seconds{route}`` (histogram) — ``route`` is the route's
  template (``/api/v1/channel/purchase``), never the raw path, so labels stay few;
* ``prabayar_purchases_total{response_code}`` — channel and web purchases by PLN response
  code (``0000`` sold, ``0047`` monthly cap, ``0099`` in process, …);
* ``prabayar_rate_limit_refusals_total{route}`` — requests answered 429;
* ``prabayar_db_pool_connections{state}`` — database connections checked out (``in_use``) and
  open (``open``), summed over the live worker processes;
* ``prabayar_lane_sales_total{outcome}`` (``sold`` on the event-loop lane, ``handed_back`` to
  the full path) and ``prabayar_lane_batch_size`` (sales per group-commit transaction).

``prabayar serve`` gives every start an empty ``PROMETHEUS_MULTIPROC_DIR``; without it (tests,
an app built by hand) the metrics live in this process's registry. Keep ``/metrics`` off the
public side of the TLS proxy (docs/operations.md).
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Whether this process's metrics live in PROMETHEUS_MULTIPROC_DIR: prometheus-client decides
#: when it is first imported (a single ``prabayar serve`` worker may have imported it before
#: the directory was set, and then keeps its metrics in memory).
MULTIPROCESS = values.ValueClass is not values.MutexValue
PURCHASE_PATHS = frozenset({"/api/v1/channel/purchase"})
_RESPONSE_CODE = re.compile(rb'"response_code"\s*:\s*"(\d{4})"')
_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("prabayar_http_requests", "HTTP requests handled", ["route", "method", "status"])
LATENCY = Histogram("prabayar_http_request_duration_seconds", "Time to answer a request", ["route"], buckets=_BUCKETS)
PURCHASES = Counter("prabayar_purchases", "Purchases answered, by PLN response code", ["response_code"])
RATE_LIMITED = Counter("prabayar_rate_limit_refusals", "Requests refused by a rate limit (429)", ["route"])
POOL = Gauge("prabayar_db_pool_connections", "Database connections of the pool", ["state"], multiprocess_mode="livesum")
LANE_SALES = Counter(
    "prabayar_lane_sales", "Channel purchases the event-loop lane sold, or handed to the full path", ["outcome"]
)
LANE_BATCH = Histogram(
    "prabayar_lane_batch_size", "Sales per group-commit transaction of the lane", buckets=(1, 2, 4, 8, 16, 32, 64)
)


API_PREFIX = "/api/v1"


def _route_of(scope: Scope) -> str:
    """The matched route's template with the API prefix (FastAPI keeps an included router's
    routes relative to it), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return "unmatched"
    if str(scope.get("path", "")).startswith(API_PREFIX + "/") and not path.startswith(API_PREFIX):
        return API_PREFIX + path
    return path


class MetricsMiddleware:
    """Counts and times every HTTP request; reads a purchase's response code from its body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == "/metrics":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        code: bytes | None = None
        is_purchase = scope.get("path") in PURCHASE_PATHS

        async def watch(message: Message) -> None:
            nonlocal status, code
            if message["type"] == "http.response.start":
                status = message["status"]
            elif is_purchase and code is None and message["type"] == "http.response.body":
                found = _RESPONSE_CODE.search(message.get("body", b"")[:200])
                if found:
                    code = found.group(1)
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = _route_of(scope)
            REQUESTS.labels(route, scope.get("method", ""), str(status)).inc()
            LATENCY.labels(route).observe(time.perf_counter() - started)
            if status == 429:
                RATE_LIMITED.labels(route).inc()
            if is_purchase and status != 429:
                PURCHASES.labels(code.decode() if code else f"http_{status}").inc()


def watch_pool(engine: Any) -> None:
    """Follow an SQLAlchemy engine's pool: connections open and checked out."""
    from sqlalchemy import event

    if getattr(engine, "_prabayar_pool_watched", False):
        return
    engine._prabayar_pool_watched = True

    @event.listens_for(engine, "connect")
    def _connect(*_args: Any) -> None:
        POOL.labels("open").inc()

    @event.listens_for(engine, "close")
    def _close(*_args: Any) -> None:
        POOL.labels("open").dec()

    @event.listens_for(engine, "checkout")
    def _checkout(*_args: Any) -> None:
        POOL.labels("in_use").inc()

    @event.listens_for(engine, "checkin")
    def _checkin(*_args: Any) -> None:
        POOL.labels("in_use").dec()


def render() -> tuple[bytes, str]:
    """The exposition text: every live worker's metrics when several processes serve."""
    if MULTIPROCESS and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


async def metrics_endpoint(_request: Request) -> Response:
    body, content_type = render()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def mark_worker_dead(pid: int) -> None:
    """Drop a stopped worker's live gauges (uvicorn restarts workers that die)."""
    if MULTIPROCESS and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
