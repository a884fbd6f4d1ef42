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

import pytest

from prabayar.meter import AesGcmBox, ManualClock, Meter, MeterSettings, StateFile
from prabayar.support.engine import DiagnosisEngine, DiagnosisRequest
from prabayar.support.meter_state import MeterStateReader
from prabayar.support.result import Diagnosis
from prabayar.support.ticket_service import TicketService
from prabayar.support.vending_sources import VendingSources
from prabayar.vending import MasterKey, PurchaseResult, SoftwareKeyStore, VendingService
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

    def meter(self, number: str, settings: MeterSettings | None = None) -> Meter:
        """The customer's emulated meter, made a month before the story starts."""
        if number not in self.meters:
            mk = self.service.meter_key(number, actor="test", purpose="install emulated meter")
            store = StateFile(self.data_dir / "meters" / f"{number}.json", self.box)
            (self.data_dir / "meters").mkdir(parents=True, exist_ok=True)
            Meter.manufacture(
                number, mk.decoder_key, mk.params, settings=settings, store=store,
                clock=ManualClock(START - timedelta(days=30)),
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
        return VendingSources(self.service, MeterStateReader(self.data_dir / "meters", self.box), actor="test")

    def engine(self, **kwargs: bool) -> DiagnosisEngine:
        return DiagnosisEngine(self.sources(), clock=self.clock.now, **kwargs)

    def diagnose(self, identifier: str, typed: str | None = None, display: str | None = None) -> Diagnosis:
        return self.engine().diagnose(DiagnosisRequest(identifier, typed, display))

    def tickets(self) -> TicketService:
        return TicketService(self.service, clock=self.clock.now)


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


__all__ = ["BUDI", "OPERATOR", "SITI", "START", "Decimal", "World", "mistype"]
