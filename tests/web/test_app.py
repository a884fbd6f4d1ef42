"""App-wide behaviour: request ids, security headers, the error model for 404/405/500,
readiness, logging, the OpenAPI document and the session secret."""

from __future__ import annotations

import base64
import logging
import os
import stat

import pytest
from fastapi.testclient import TestClient

from prabayar.config import Settings
from prabayar.web import create_app
from prabayar.web.app import session_secret
from prabayar.web.context import RequestIdFilter, new_request_id
from prabayar.web.services import Services

from .conftest import BASE_URL, assert_error


def test_every_response_has_a_request_id_and_security_headers(client: TestClient) -> None:
    for path in ("/api/v1/health", "/", "/api/v1/nope", "/static/style.css"):
        response = client.get(path)
        assert len(response.headers["X-Request-ID"]) == 32
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_sane_caller_request_id_is_kept_and_a_bad_one_replaced(client: TestClient) -> None:
    kept = client.get("/api/v1/health", headers={"X-Request-ID": "bank-42:abc"})
    assert kept.headers["X-Request-ID"] == "bank-42:abc"
    replaced = client.get("/api/v1/health", headers={"X-Request-ID": "x" * 65})
    assert replaced.headers["X-Request-ID"] != "x" * 65
    assert new_request_id("with space") != "with space"


def test_every_request_is_logged_with_its_id(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="prabayar.web.access"):
        response = client.get("/api/v1/health", headers={"X-Request-ID": "trace-1"})
    lines = [r for r in caplog.records if r.name == "prabayar.web.access"]
    assert lines and lines[-1].request_id == "trace-1"  # type: ignore[attr-defined]
    assert "/api/v1/health -> 200" in lines[-1].getMessage()
    assert response.status_code == 200


def test_unknown_api_route_and_wrong_method_use_the_error_model(client: TestClient) -> None:
    assert_error(client.get("/api/v1/nope"), 404, "0005", "not_found")
    assert_error(client.get("/api/v1/channel/purchase"), 405, "0005", "method_not_allowed")


def test_unknown_page_renders_a_page_not_json(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Tidak ditemukan" in response.text


def test_a_crash_is_a_500_error_document_without_traceback(
    settings: Settings, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, services=services)

    def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/api/v1/boom", boom)
    with (
        TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client,
        caplog.at_level(logging.ERROR, logger="prabayar.web"),
    ):
        response = client.get("/api/v1/boom")
    body = assert_error(response, 500, "0005", "internal_error")
    assert response.headers["X-Request-ID"] == body["request_id"]
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert body["request_id"]
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


def test_readiness_reports_a_database_that_does_not_answer(settings: Settings) -> None:
    broken = Settings(
        data_dir=settings.data_dir,
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
        master_key=base64.b64encode(os.urandom(32)).decode(),  # type: ignore[arg-type]
    )
    services = Services.from_settings(broken)
    app = create_app(broken, services=services)
    with TestClient(app, base_url=BASE_URL) as client:
        assert client.get("/api/v1/health").status_code == 200
        assert_error(client.get("/api/v1/ready"), 503, "0005", "not_ready")


def test_openapi_document_is_versioned_and_has_no_pages(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert document["info"]["title"] == "prabayar API"
    assert all(path.startswith("/api/v1/") for path in document["paths"])
    schemes = document["components"]["securitySchemes"]
    assert {"APIKeyHeader", "HTTPBearer"} <= set(schemes)


def test_session_secret_is_generated_once_with_mode_0600(tmp_path: object) -> None:
    from pathlib import Path

    data_dir = Path(str(tmp_path)) / "fresh"
    settings = Settings(data_dir=data_dir)
    first = session_secret(settings)
    assert session_secret(settings) == first
    mode = stat.S_IMODE((data_dir / "session.secret").stat().st_mode)
    assert mode == 0o600
    with pytest.raises(ValueError, match="at least 32"):
        session_secret(Settings(data_dir=data_dir, session_secret="short"))  # type: ignore[arg-type]
    assert session_secret(Settings(data_dir=data_dir, session_secret="k" * 40)) == "k" * 40  # type: ignore[arg-type]
