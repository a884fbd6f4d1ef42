"""Tickets and a diagnosis on PostgreSQL (runs when PRABAYAR_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from prabayar.meter import ManualClock
from prabayar.vending import SoftwareKeyStore, VendingService
from prabayar.vending.db import create_engine_for, upgrade
from prabayar.vending.demo import seed_demo

from .conftest import BUDI, MASTER, OPERATOR, START, World, mistype

POSTGRES_URL = os.environ.get("PRABAYAR_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PRABAYAR_TEST_POSTGRES_URL"),
]


@pytest.fixture
def pg_world(tmp_path: Path) -> Iterator[World]:
    assert POSTGRES_URL
    schema = f"support_test_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine_for(POSTGRES_URL, schema=schema)
    try:
        upgrade(engine=engine)
        clock = ManualClock(START)
        service = VendingService(engine, SoftwareKeyStore(engine, MASTER), clock=clock.now)
        seed_demo(service)
        yield World(service, clock, tmp_path)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_diagnosis_and_ticket_flow_on_postgres(pg_world: World) -> None:
    meter = pg_world.meter(BUDI.meter_number)
    sale = pg_world.buy(BUDI.meter_number)
    d = pg_world.diagnose(BUDI.meter_number, mistype(sale.token, 2))
    assert d.cause.value == "typo" and d.candidates[0].digits == sale.token
    assert meter.enter_token(sale.token).kind.accepted
    tickets = pg_world.tickets()
    t = tickets.open(channel="facebook", identifier=BUDI.idpel, actor="fb-agent", diagnosis=d)
    tickets.assign(t.number, "tek", "spv")
    tickets.schedule_visit(t.number, pg_world.clock.now() + timedelta(hours=2), "spv")
    tickets.record_inspection(t.number, "ok", installation_ok=True, actor="tek")
    (clear,) = tickets.clear_tamper(t.number, OPERATOR)
    assert len(clear) == 20
    tickets.resolve(t.number, "done", "tek")
    closed = tickets.close(t.number, "spv")
    assert len(closed.events) == 7
    assert tickets.list(idpel=BUDI.idpel)[0].number == t.number
