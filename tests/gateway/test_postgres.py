"""The gateway on PostgreSQL (the production database): sale, replay, 0097, concurrent repeats,
advice, unsold tokens and delivery marks through real TCP. Needs PRABAYAR_TEST_POSTGRES_URL."""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from prabayar.gateway import iso
from prabayar.gateway.framing import encode_frame
from prabayar.vending.db import create_engine_for, upgrade
from prabayar.vending.demo import seed_demo
from prabayar.vending.keystore import MasterKey, SoftwareKeyStore
from prabayar.vending.service import VendingService

POSTGRES_URL = os.environ.get("PRABAYAR_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PRABAYAR_TEST_POSTGRES_URL"),
]
AMOUNT = 100_000


@pytest.fixture
def pg_service(clock: Any, master_key: MasterKey) -> Iterator[VendingService]:
    assert POSTGRES_URL is not None
    schema = f"gateway_test_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine_for(POSTGRES_URL, schema=schema)
    try:
        upgrade(engine=engine)
        service = VendingService(engine, SoftwareKeyStore(engine, master_key), clock=clock)
        seed_demo(service)
        yield service
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_sale_flow_on_postgresql(pg_service: VendingService, k: Any) -> None:
    k.add_partners(pg_service)
    gateway = k.RunningGateway(pg_service)
    try:
        _flow(gateway, pg_service, k)
    finally:
        gateway.stop()


def _flow(gateway: Any, service: VendingService, k: Any) -> None:
    c = gateway.connect()
    f = c.request(k.ISO.inquiry(k.BUDI_METER))[1]
    assert f["39"] == "0000" and f["62"][22:27] == "00936"
    f48 = k.ISO.purchase_48(f["48"])
    sold = c.request(k.ISO.purchase(f48, AMOUNT))[1]
    assert sold["39"] == "0000" and len(sold["48"]) == 241
    token = sold["48"][221:241]
    mti, fields = k.ISO.purchase(f48, AMOUNT)
    assert c.request((mti, {**fields, "32": "0080002"}))[1]["39"] == "0097"
    assert c.request(k.ISO.purchase(f48, 50_000))[1]["39"] == "0093"
    # ten repeats in flight at once: one sale, one token
    msgs = [k.ISO.purchase(f48, AMOUNT) for _ in range(10)]
    c.send_bytes(b"".join(encode_frame("trailer", iso.encode(*m)) for m in msgs))
    answers = [c.recv()[1] for _ in msgs]
    assert {a["39"] for a in answers} == {"0000"} and {a["48"][221:241] for a in answers} == {token}
    assert c.request(k.ISO.advice(f48, AMOUNT, repeat=True))[1]["48"][221:241] == token
    unknown = k.ISO.purchase_48(identifier=k.BUDI_METER, srn="PG-NEVER")
    assert c.request(k.ISO.advice(unknown, AMOUNT))[1]["39"] == "0092"
    # a sale whose connection closed at once stays unsold until its advice is answered
    lost = k.ISO.purchase_48(identifier=k.BUDI_METER, srn="PG-LOST")
    with socket.create_connection(("127.0.0.1", gateway.port("H2HISO")), timeout=5) as s:
        s.sendall(
            encode_frame("trailer", iso.encode(*k.ISO.network("001")))
            + encode_frame("trailer", iso.encode(*k.ISO.purchase(lost, 50_000)))
        )
    deadline = time.monotonic() + 10
    while len(service.reprint(k.BUDI_METER, limit=10)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    c = gateway.connect()
    f62 = c.request(k.ISO.inquiry(k.BUDI_METER))[1]["62"]
    assert f62[27] == "1" and f62[28:39] == f"{50_000:011d}"
    assert c.request(k.ISO.advice(lost, 50_000))[1]["39"] == "0000"
    time.sleep(0.3)
    assert c.request(k.ISO.inquiry(k.BUDI_METER))[1]["62"][27] == "0"
    assert len(service.reprint(k.BUDI_METER, limit=10)) == 2
