"""A small PLN world for support tests: the demo back office, emulated meters, one clock.

The seeded database is built once per session and copied for each test, so every test starts
from the same ledger without paying for migrations and argon2 hashes again.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from prabayar.meter import AesGcmBox, ManualClock, Meter, MeterSettings, StateFile
from prabayar.support.engine import DiagnosisEngine, DiagnosisRequest
from prabayar.support.meter_state import MeterStateReader
from prabayar.support.result import Diagnosis
from prabayar.support.ticket_service import TicketService
from prabayar.support.vending_sources import VendingSources
from prabayar.vending import ApprovalRequest, MasterKey, PurchaseResult, SoftwareKeyStore, VendingService
from prabayar.vending.db import create_engine_for, upgrade
from prabayar.vending.demo import DEMO_CUSTOMERS, seed_demo

START = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # 10:00 WIB
STATE_KEY = bytes(range(32))
MASTER = MasterKey(STATE_KEY)
BUDI = DEMO_CUSTOMERS[0]  # R1/1300 VA, Jakarta
SITI = DEMO_CUSTOMERS[1]
JOKO_BLOCKED = DEMO_CUSTOMERS[10]
YULIANTI_LEGACY = DEMO_CUSTOMERS[12]
OPERATOR = "operator"
ADMIN = "admin"
CHECKER = "supervisor"  # the second admin: four eyes


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("support-template") / "prabayar.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = create_engine_for(url)
    service = VendingService(engine, SoftwareKeyStore(engine, MASTER), clock=lambda: START)
    seed_demo(service)
    engine.dispose()
    return path


@dataclass
class World:
    service: VendingService
    clock: ManualClock
    data_dir: Path
    meters: dict[str, Meter] = field(default_factory=dict)
    _refs: int = 0

    @property
    def box(self) -> AesGcmBox:
        return AesGcmBox.from_master_key(STATE_KEY)

    def meter(
        self, number: str, settings: MeterSettings | None = None, *, made: datetime | None = None
    ) -> Meter:
        """The customer's emulated meter, made a month before the story starts (or at ``made``)."""
        if number not in self.meters:
            mk = self.service.meter_key(number, actor="test", purpose="install emulated meter")
            store = StateFile(self.data_dir / "meters" / f"{number}.json", self.box)
            (self.data_dir / "meters").mkdir(parents=True, exist_ok=True)
            Meter.manufacture(
                number, mk.decoder_key, mk.params, settings=settings, store=store,
                clock=ManualClock(made or START - timedelta(days=30)),
            )  # fmt: skip
            self.meters[number] = Meter.open(store, self.clock)
        return self.meters[number]

    def buy(
        self, number: str, nominal: int = 100_000, *, channel: str = "BANKDEMO",
        deliver: bool = True,
    ) -> PurchaseResult:  # fmt: skip
        self._refs += 1
        self.clock.advance(timedelta(minutes=2))
        result = self.service.purchase(channel, f"T{self._refs:05d}", number, nominal)
        if deliver:
            self.service.confirm_delivery(channel, f"T{self._refs:05d}")
        return result

    def sources(self) -> VendingSources:
        reader = MeterStateReader(self.data_dir / "meters", self.box, clock=self.clock.now)
        return VendingSources(self.service, reader, actor="test")

    def engine(self, **kwargs: bool) -> DiagnosisEngine:
        return DiagnosisEngine(self.sources(), clock=self.clock.now, **kwargs)

    def diagnose(self, identifier: str, typed: str | None = None, display: str | None = None) -> Diagnosis:
        return self.engine().diagnose(DiagnosisRequest(identifier, typed, display))

    def tickets(self) -> TicketService:
        return TicketService(self.service, clock=self.clock.now)

    def key_change(self, number: str, reason: str, **kwargs: Any) -> ApprovalRequest:
        """A key change as the rules demand: asked by an admin, approved by another admin."""
        request = self.service.key_change(ADMIN, number, reason, **kwargs)
        return self.service.approve(request.id, CHECKER)


@pytest.fixture
def world(seeded_db: Path, tmp_path: Path) -> Iterator[World]:
    db = tmp_path / "prabayar.sqlite3"
    shutil.copy(seeded_db, db)
    engine = create_engine_for(f"sqlite:///{db}")
    clock = ManualClock(START)
    service = VendingService(engine, SoftwareKeyStore(engine, MASTER), clock=clock.now)
    yield World(service, clock, tmp_path)
    engine.dispose()


def mistype(digits: str, position: int, new: str | None = None) -> str:
    """``digits`` with the digit at 1-based ``position`` replaced (by default: +1 mod 10)."""
    old = digits[position - 1]
    repl = new if new is not None else str((int(old) + 1) % 10)
    return digits[: position - 1] + repl + digits[position:]


__all__ = ["ADMIN", "BUDI", "CHECKER", "OPERATOR", "SITI", "START", "Decimal", "World", "mistype"]


# --- the web app over a seeded data dir (for support's API routes and pages) ---------------

BASE_URL = "https://testserver"
PASSWORDS = {"budi": "budi-prabayar", "siti": "siti-prabayar", "operator": "operator-prabayar",
             "admin": "admin-prabayar", "supervisor": "supervisor-prabayar"}  # fmt: skip


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import secrets

    from prabayar.config import Settings
    from prabayar.vending import open_service

    data_dir = tmp_path_factory.mktemp("support-web")
    settings = Settings(data_dir=data_dir)
    upgrade(settings.resolved_database_url())
    vending = open_service(settings)
    seed_demo(vending)
    vending.engine.dispose()
    (data_dir / "session.secret").write_text(secrets.token_urlsafe(48))
    return data_dir


@pytest.fixture
def web(web_template: Path, tmp_path: Path) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from prabayar.config import Settings
    from prabayar.web import create_app
    from prabayar.web.services import Services

    data_dir = tmp_path / "data"
    shutil.copytree(web_template, data_dir)
    settings = Settings(data_dir=data_dir, host="0.0.0.0")
    services = Services.from_settings(settings)
    app = create_app(settings, services=services)
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        client.settings = settings  # type: ignore[attr-defined]
        yield client
    services.vending.engine.dispose()


_BEARERS: dict[str, str] = {}


def bearer(client: Any, user: str) -> dict[str, str]:
    if user not in _BEARERS:
        r = client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORDS[user]})
        assert r.status_code == 200, r.text
        _BEARERS[user] = r.json()["access_token"]
    return {"Authorization": f"Bearer {_BEARERS[user]}"}


def channel_buy(client: Any, reference: str, identifier: str, nominal: int = 50_000) -> str:
    from prabayar.vending.demo import DEMO_CHANNEL_KEYS

    r = client.post(
        "/api/v1/channel/purchase",
        json={"channel_reference": reference, "identifier": identifier, "nominal": nominal},
        headers={"X-Api-Key": DEMO_CHANNEL_KEYS["BANKDEMO"]},
    )
    assert r.status_code == 200, r.text
    token: str = r.json()["token"].replace(" ", "")
    return token
