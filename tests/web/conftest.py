"""Fixtures: a migrated, demo-seeded embedded database copied fresh for every test, and the app."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from prabayar.config import Settings
from prabayar.vending.demo import DEMO_CHANNEL_KEYS, DEMO_USERS, demo_meter_number
from prabayar.web import create_app
from prabayar.web.app import SESSION_COOKIE
from prabayar.web.deps import Limits
from prabayar.web.services import Services

BASE_URL = "https://testserver"


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded data dir per test process; tests get copies of it."""
    from prabayar.vending import open_service, upgrade
    from prabayar.vending.demo import seed_demo

    data_dir = tmp_path_factory.mktemp("seeded")
    settings = Settings(data_dir=data_dir)
    upgrade(settings.resolved_database_url())
    vending = open_service(settings)
    seed_demo(vending)
    vending.engine.dispose()
    # One session secret for all copies, so bearer tokens can be reused across tests.
    (data_dir / "session.secret").write_text(secrets.token_urlsafe(48))
    return data_dir


@pytest.fixture
def settings(seeded_template: Path, tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    shutil.copytree(seeded_template, data_dir)
    return Settings(data_dir=data_dir, host="0.0.0.0")


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = Services.from_settings(settings)
    yield built
    built.vending.engine.dispose()


def make_client(settings: Settings, services: Services, limits: Limits | None = None) -> TestClient:
    app = create_app(settings, services=services, limits=limits)
    return TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)


@pytest.fixture
def client(settings: Settings, services: Services) -> Iterator[TestClient]:
    with make_client(settings, services) as test_client:
        yield test_client


DEMO_PASSWORDS = {username: password for username, password, _role, _idpel in DEMO_USERS}
BUDI_METER = demo_meter_number(10000001)
BUDI_IDPEL = "541000000001"
SITI_METER = demo_meter_number(10000002)
SITI_IDPEL = "541000000002"
AGUS_METER = demo_meter_number(10000003)  # 450 VA: monthly cap 324 kWh
JOKO_METER = demo_meter_number(10000011)  # blocked customer
JOKO_IDPEL = "541000000011"
REPLACED_METER = demo_meter_number(10000112)
LEGACY_METER = demo_meter_number(10000013)  # still on base date 1993: needs a key change


class Api:
    """Small helpers for calling the API as a channel or as a user."""

    #: Bearer tokens by user name, shared by all tests of this process (argon2 is slow on
    #: purpose; the tokens stay valid because every data dir copy has the same secret).
    _tokens: ClassVar[dict[str, str]] = {}

    def __init__(self, client: TestClient) -> None:
        self.client = client

    @staticmethod
    def channel(code: str = "BANKDEMO") -> dict[str, str]:
        return {"X-Api-Key": DEMO_CHANNEL_KEYS[code]}

    def user(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            response = self.client.post(
                "/api/v1/auth/token",
                json={"username": username, "password": DEMO_PASSWORDS[username]},
            )
            assert response.status_code == 200, response.text
            self._tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    def buy(
        self,
        reference: str,
        identifier: str = BUDI_METER,
        nominal: int = 20_000,
        channel: str = "BANKDEMO",
    ) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/channel/purchase",
            json={"channel_reference": reference, "identifier": identifier, "nominal": nominal},
            headers=self.channel(channel),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


def assert_error(response: Any, status: int, code: str, slug: str | None = None) -> dict[str, Any]:
    """The error document: status, PLN code, slug, both messages, the request id."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["response_code"] == code
    if slug is not None:
        assert body["error"] == slug
    assert body["message"] and body["message_en"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def signed_in(client: TestClient, username: str) -> None:
    """Give ``client`` a signed-in page session for ``username`` (written straight into the app's
    server-side session store, as a log-in through the form would; argon2 is slow on purpose)."""
    import secrets as _secrets

    from prabayar.web.app import SESSION_MAX_AGE

    role, idpel = next((r, i) for u, _p, r, i in DEMO_USERS if u == username)
    session_id = _secrets.token_urlsafe(32)
    state = client.app.state.shared_state  # type: ignore[attr-defined]
    data = {"user": {"u": username, "r": role, "c": idpel}, "csrf": _secrets.token_urlsafe(32)}
    state.save_session(session_id, data, username, SESSION_MAX_AGE)
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, session_id, domain="testserver.local", path="/")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """``PRABAYAR_TEST_REDIS_URL`` with a key prefix of this test's own (removed afterwards);
    skips with a message when no Redis is configured or reachable (``.ci/run`` starts one)."""
    import os

    url = os.environ.get("PRABAYAR_TEST_REDIS_URL")
    if not url:
        pytest.skip("PRABAYAR_TEST_REDIS_URL is not set (.ci/run starts Redis and sets it)")
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {url} does not answer: {exc}")
    prefix = f"prabayar-test-{secrets.token_hex(6)}"
    yield f"{url}#{prefix}"
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


def split_redis(value: str) -> tuple[str, str]:
    """(url, key prefix) from the ``redis_url`` fixture's value."""
    url, _, prefix = value.partition("#")
    return url, prefix
