"""Fixtures: a migrated, demo-seeded embedded database copied fresh for every test, and the app."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prabayar.config import Settings
from prabayar.web import create_app
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
