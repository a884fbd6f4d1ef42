"""Fixtures: a migrated, seeded vending database on SQLite and (when configured) PostgreSQL.

PostgreSQL runs when PRABAYAR_TEST_POSTGRES_URL is set; each database gets its own schema
with a random name (``search_path`` per connection), dropped afterwards, so tests of other
packages and parallel workers can share the server.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, create_engine, text

from prabayar.vending import accounts
from prabayar.vending.db import create_engine_for, upgrade
from prabayar.vending.demo import seed_demo
from prabayar.vending.keystore import MasterKey, SoftwareKeyStore
from prabayar.vending.service import VendingService

POSTGRES_URL = os.environ.get("PRABAYAR_TEST_POSTGRES_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not POSTGRES_URL,
                reason="PostgreSQL tests need PRABAYAR_TEST_POSTGRES_URL "
                "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)",
            ),
        ],
    ),
]

#: 10 March 2026, 12:00 WIB: inside no cut-off window, mid-month.
START = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand (vending takes time as an argument, like sts)."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost makes every seeded database slow; the format is the same."""
    monkeypatch.setattr(
        accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def make_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, empty database of the given kind; removed afterwards."""
    if backend == "sqlite":
        engine = create_engine_for(f"sqlite:///{tmp_path / 'vending.sqlite3'}")
        yield engine
        engine.dispose()
        return
    assert POSTGRES_URL is not None
    schema = f"vending_test_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine_for(POSTGRES_URL, schema=schema)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    yield from make_engine(backend, tmp_path)


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    upgrade(engine=empty_engine)
    return empty_engine


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def clock_type() -> type[FakeClock]:
    """For tests that need a fresh clock per hypothesis example."""
    return FakeClock


@pytest.fixture
def key_store(engine: Engine) -> SoftwareKeyStore:
    return SoftwareKeyStore(engine, MasterKey.generate())


@pytest.fixture(scope="session")
def master_key() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory, master_key: MasterKey) -> Path:
    """Migrated and seeded once per test process; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("vending-template") / "seeded.sqlite3"
    engine = create_engine_for(f"sqlite:///{path}")
    saved = accounts._HASHER
    accounts._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        upgrade(engine=engine)
        seed_demo(VendingService(engine, SoftwareKeyStore(engine, master_key), clock=FakeClock()))
    finally:
        accounts._HASHER = saved
        engine.dispose()  # the last close checkpoints the WAL into the file
    return path


@pytest.fixture
def service(
    backend: str,
    tmp_path: Path,
    clock: FakeClock,
    master_key: MasterKey,
    request: pytest.FixtureRequest,
) -> Iterator[VendingService]:
    """The demo data set on a fresh database of the test's backend."""
    if backend == "sqlite":
        target = tmp_path / "vending.sqlite3"
        shutil.copyfile(request.getfixturevalue("seeded_sqlite"), target)
        engine = create_engine_for(f"sqlite:///{target}")
        yield VendingService(engine, SoftwareKeyStore(engine, master_key), clock=clock)
        engine.dispose()
        return
    engine = request.getfixturevalue("engine")
    svc = VendingService(engine, SoftwareKeyStore(engine, master_key), clock=clock)
    seed_demo(svc)
    yield svc
