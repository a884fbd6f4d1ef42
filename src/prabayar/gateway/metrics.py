"""Prometheus metrics of the gateway (its own registry; ``prabayar gateway run --metrics-port``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from prabayar.gateway import iso

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES = Counter(
    "prabayar_gateway_messages",
    "ISO 8583 requests by partner, request MTI and response code "
    "(rc 'none' = no answer by the profile, 'closed' = the connection was closed)",
    ["partner", "mti", "rc"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "prabayar_gateway_request_seconds",
    "Time from reading a request to writing its answer",
    ["partner", "mti"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30),
    registry=REGISTRY,
)
CONNECTIONS = Gauge("prabayar_gateway_connections", "Open partner connections", ["partner"], registry=REGISTRY)
REFUSED = Counter(
    "prabayar_gateway_connections_refused",
    "Connections closed at once (source not allowed) or evicted (max_connections)",
    ["partner", "reason"],
    registry=REGISTRY,
)


def mti_label(mti: str) -> str:
    """Bounded label values: the profile's request MTIs, else 'other'."""
    return mti if mti in iso.REQUESTS else "other"


def count(partner: str, mti: str, rc: str) -> None:
    MESSAGES.labels(partner=partner, mti=mti_label(mti), rc=rc).inc()
