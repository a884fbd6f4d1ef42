"""/metrics in Prometheus format; JSON log lines (issue 11)."""

from __future__ import annotations

import json
import logging
import re

from fastapi.testclient import TestClient

from prabayar.vending.demo import DEMO_CHANNEL_KEYS, DEMO_CUSTOMERS
from prabayar.web.context import RequestIdFilter, bind_request_id, reset_request_id
from prabayar.web.logconfig import JsonFormatter, log_config

BUDI = DEMO_CUSTOMERS[0]
BLOCKED = next(c for c in DEMO_CUSTOMERS if c.status == "blocked")


def _value(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_purchases_by_response_code_and_time_each_route(client: TestClient) -> None:
    headers = {"X-Api-Key": DEMO_CHANNEL_KEYS["BANKDEMO"]}
    before = client.get("/metrics").text
    ok = client.post(
        "/api/v1/channel/purchase",
        json={"channel_reference": "M-1", "identifier": BUDI.meter_number, "nominal": 20_000},
        headers=headers,
    )
    assert ok.status_code == 200
    refused = client.post(
        "/api/v1/channel/purchase",
        json={"channel_reference": "M-2", "identifier": BLOCKED.meter_number, "nominal": 20_000},
        headers=headers,
    )
    assert refused.status_code == 403
    page = client.get("/metrics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    text = page.text
    sold = _value(text, "prabayar_purchases_total", response_code="0000")
    assert sold == _value(before, "prabayar_purchases_total", response_code="0000") + 1
    assert _value(text, "prabayar_purchases_total", response_code="0077") >= 1
    route = "/api/v1/channel/purchase"
    assert _value(text, "prabayar_http_request_duration_seconds_count", route=route) >= 2
    assert _value(text, "prabayar_http_requests_total", route=route, status="200") >= 1
    assert "prabayar_db_pool_connections" in text
    assert "prabayar_rate_limit_refusals_total" in text or "prabayar_rate_limit_refusals" in text
    # raw paths never become labels (a meter number in a path would explode the series)
    assert not re.search(r'route="/[^"]*\d{11}', text)


def test_a_json_log_line_carries_time_level_request_id_and_message() -> None:
    record = logging.LogRecord("prabayar.web.access", logging.INFO, __file__, 1, "POST %s -> %s", ("/x", 200), None)
    token = bind_request_id("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        reset_request_id(token)
    doc = json.loads(JsonFormatter().format(record))
    assert doc["message"] == "POST /x -> 200" and doc["request_id"] == "req-42" and doc["level"] == "INFO"
    assert doc["time"].endswith("+00:00") and isinstance(doc["pid"], int)
    config = log_config("WARNING", fmt="json")
    assert config["formatters"]["main"] == {"()": "prabayar.web.logconfig.JsonFormatter"}
    assert config["loggers"]["prabayar"]["level"] == "WARNING"
