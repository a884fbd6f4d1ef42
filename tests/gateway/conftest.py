"""A running gateway over a seeded SQLite database, reached through real TCP sockets.

Two partners: ``H2HISO`` (trailer framing, the profile's §9 identity: switcher BNKDEMO, PCID
7700001, bank codes 0080001/0080002, admin Rp 3,000, PLN nominals) and ``H2HLEN`` (len2).
The gateway runs its asyncio loop in a thread; tests talk to it with ``GatewayClient``.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from argon2 import PasswordHasher

from prabayar.gateway.client import GatewayClient, Partner
from prabayar.gateway.server import GatewayServer, Timers
from prabayar.vending import accounts
from prabayar.vending.db import create_engine_for, upgrade
from prabayar.vending.demo import seed_demo
from prabayar.vending.keystore import MasterKey, SoftwareKeyStore
from prabayar.vending.service import VendingService

T = TypeVar("T")
#: 10 March 2026, 12:00 WIB: no cut-off, mid-month.
START = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
BUDI_METER = "14100000018"
BUDI_IDPEL = "541000000001"
PLN_NOMINALS = [20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000]


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def master_key() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory, master_key: MasterKey) -> Path:
    path = tmp_path_factory.mktemp("gateway-template") / "seeded.sqlite3"
    engine = create_engine_for(f"sqlite:///{path}")
    saved = accounts._HASHER
    accounts._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        upgrade(engine=engine)
        seed_demo(VendingService(engine, SoftwareKeyStore(engine, master_key), clock=FakeClock()))
    finally:
        accounts._HASHER = saved
        engine.dispose()
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path, seeded_template: Path) -> Path:
    target = tmp_path / "vending.sqlite3"
    shutil.copyfile(seeded_template, target)
    return target


@pytest.fixture
def service(db_path: Path, clock: FakeClock, master_key: MasterKey) -> Iterator[VendingService]:
    engine = create_engine_for(f"sqlite:///{db_path}")
    yield VendingService(engine, SoftwareKeyStore(engine, master_key), clock=clock)
    engine.dispose()


ISO = Partner(switcher_id="BNKDEMO", pcid="7700001", bank_code="0080001", terminal_id="BANKDEMOATM00001")
LEN = Partner(switcher_id="LENDEMO", pcid="7700002", bank_code="0090001", terminal_id="LENDEMOATM000001")


def add_partners(service: VendingService) -> dict[str, int]:
    ports = {"H2HISO": free_port(), "H2HLEN": free_port()}
    service.add_gateway_partner(
        "H2HISO", port=ports["H2HISO"], framing="trailer", switcher_id="BNKDEMO", pcid="7700001",
        bank_codes=["0080001", "0080002"], sources=["127.0.0.0/8"], admin_fee=3000,
        nominals=PLN_NOMINALS, min_nominal=20_000, max_nominal=1_000_000, server=True,
    )  # fmt: skip
    service.add_gateway_partner(
        "H2HLEN", port=ports["H2HLEN"], framing="len2", switcher_id="LENDEMO", pcid="7700002",
        bank_codes=["0090001"], sources=["127.0.0.1/32"], admin_fee=2000, max_connections=8, server=True,
    )  # fmt: skip
    return ports


class RunningGateway:
    """A GatewayServer on its own event loop thread."""

    def __init__(self, service: VendingService, timers: Timers | None = None, reload_interval: float = 0.2) -> None:
        self.service = service
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="gateway-loop", daemon=True)
        self.thread.start()
        self.server = GatewayServer(service, timers=timers, reload_interval=reload_interval, workers=4)
        self.call(self.server.start())
        self.clients: list[GatewayClient] = []

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def port(self, channel: str) -> int:
        return self.server.port_of(channel)

    def connect(self, channel: str = "H2HISO", *, sign_on: bool = True, timeout: float = 30) -> GatewayClient:
        framing = "len2" if channel == "H2HLEN" else "trailer"
        client = GatewayClient("127.0.0.1", self.port(channel), framing, timeout=timeout)
        self.clients.append(client)
        if sign_on:
            partner = LEN if channel == "H2HLEN" else ISO
            mti, fields = client.request(partner.network("001"))
            assert (mti, fields["39"]) == ("2810", "0000")
        return client

    def stop(self) -> None:
        for c in self.clients:
            c.close()
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def make_gateway(service: VendingService) -> Iterator[Callable[..., RunningGateway]]:
    running: list[RunningGateway] = []

    def make(timers: Timers | None = None, reload_interval: float = 0.2) -> RunningGateway:
        gw = RunningGateway(service, timers, reload_interval)
        running.append(gw)
        return gw

    yield make
    for gw in running:
        gw.stop()


@pytest.fixture
def ports(service: VendingService) -> dict[str, int]:
    return add_partners(service)


@pytest.fixture
def gateway(ports: dict[str, int], make_gateway: Callable[..., RunningGateway]) -> RunningGateway:
    return make_gateway()


@pytest.fixture
def k() -> SimpleNamespace:
    """Constants and helpers for test modules (conftest cannot be imported under importlib mode)."""
    return SimpleNamespace(
        ISO=ISO, LEN=LEN, BUDI_METER=BUDI_METER, BUDI_IDPEL=BUDI_IDPEL, START=START, free_port=free_port,
        PLN_NOMINALS=PLN_NOMINALS, RunningGateway=RunningGateway, add_partners=add_partners,
    )  # fmt: skip
