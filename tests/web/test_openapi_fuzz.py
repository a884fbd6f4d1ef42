"""schemathesis against the OpenAPI document: no generated request gets a 5xx, and every status
an answer carries is one the document lists for that operation (valid and invalid data; bounded run)."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from prabayar.config import Settings
from prabayar.vending.demo import DEMO_CHANNEL_KEYS
from prabayar.web import create_app
from prabayar.web.services import Services

from .conftest import BASE_URL, DEMO_PASSWORDS

EXAMPLES_PER_OPERATION = 8


def _bearer(app: Any, user: str) -> dict[str, str]:
    with TestClient(app, base_url=BASE_URL) as client:
        token = client.post("/api/v1/auth/token", json={"username": user, "password": DEMO_PASSWORDS[user]}).json()[
            "access_token"
        ]
    return {"Authorization": f"Bearer {token}"}


def test_no_generated_request_gets_a_server_error(settings: Settings, services: Services) -> None:
    app = create_app(settings, services=services)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    # Real credentials for each part of the API, so generated requests get past authentication.
    channel = {"X-Api-Key": DEMO_CHANNEL_KEYS["H2HDEMO"]}
    operator = _bearer(app, "operator")
    customer = _bearer(app, "budi")
    admin = _bearer(app, "admin")  # the master-data API (/api/v1/admin) is mostly for admins
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:
        headers = admin if operation.path.startswith("/api/v1/admin") else None
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, headers or _headers_for(operation.path, channel, operator, customer), mode)


def _headers_for(
    path: str, channel: dict[str, str], operator: dict[str, str], customer: dict[str, str]
) -> dict[str, str]:
    if path.startswith("/api/v1/channel"):
        return channel
    if path.startswith("/api/v1/operator"):
        return operator
    return customer


def _fuzz(operation: Any, headers: dict[str, str], mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.method, case.path, response.text)
        # raises when the status is not among the operation's documented responses
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance], headers=headers)
        if response.status_code >= 400:
            body = response.json()
            assert body["response_code"] and body["error"] and body["request_id"]

    try:
        run()
    except Unsatisfiable:
        if mode is not GenerationMode.NEGATIVE:
            raise  # an operation without parameters or body has no invalid request to generate
