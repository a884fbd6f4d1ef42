"""The event-loop purchase lane on PostgreSQL (``web.purchase_lane`` + ``vending.fastpath_async``).

Every answer must be the route's: the same JSON for a sale, the same typed errors, the same
idempotency by channel reference, TIDs strictly increasing per meter under concurrency, one
guard, audit and usage row per sale. The lane's own counters say which path answered.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from prabayar.config import Settings
from prabayar.vending import accounts
from prabayar.vending.db import create_engine_for, upgrade
from prabayar.vending.demo import DEMO_CHANNEL_KEYS, demo_meter_number, seed_demo
from prabayar.vending.keystore import MasterKey, SoftwareKeyStore
from prabayar.vending.service import VendingService
from prabayar.web import create_app
from prabayar.web.deps import Limits
from prabayar.web.services import Services

from .conftest import AGUS_METER, BASE_URL, BUDI_IDPEL, BUDI_METER, JOKO_METER, SITI_METER, assert_error, split_redis

POSTGRES_URL = os.environ.get("PRABAYAR_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="the purchase lane needs PRABAYAR_TEST_POSTGRES_URL"),
]
PATH = "/api/v1/channel/purchase"
KEY = {"X-Api-Key": DEMO_CHANNEL_KEYS["BANKDEMO"]}
SHOP_METER = demo_meter_number(10000007)  # B2 13,200 VA: room for many sales a month


@pytest.fixture
def vending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VendingService]:
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    assert POSTGRES_URL is not None
    schema = f"lane_test_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine_for(POSTGRES_URL, schema=schema)
    try:
        upgrade(engine=engine)
        service = VendingService(engine, SoftwareKeyStore(engine, MasterKey.generate()))
        seed_demo(service)
        yield service
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _app(vending: VendingService, tmp_path: Path, *, limits: Limits | None = None, lane: bool = True) -> Any:
    settings = Settings(data_dir=tmp_path / "data", async_purchase=lane)
    return create_app(settings, services=Services(vending), limits=limits)


@pytest.fixture
def app(vending: VendingService, tmp_path: Path) -> Any:
    return _app(vending, tmp_path)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as test_client:
        yield test_client


def buy(client: TestClient, reference: str, identifier: str = BUDI_METER, nominal: int = 20_000) -> Any:
    return client.post(
        PATH, json={"channel_reference": reference, "identifier": identifier, "nominal": nominal}, headers=KEY
    )


def rows(vending: VendingService, sql: str, **params: Any) -> list[Any]:
    with vending.engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def test_once_the_caches_are_warm_sales_are_answered_by_the_lane(client: TestClient, app: Any) -> None:
    lane = app.state.purchase_lane
    first = buy(client, "LANE-1")  # cold caches: the full path answers and fills them
    assert first.status_code == 200, first.text
    assert (lane.sold, lane.handed_back) == (0, 0)  # unknown key here: the route authenticated
    second = buy(client, "LANE-2")
    assert second.status_code == 200, second.text
    assert lane.sold == 1
    a, b = first.json(), second.json()
    assert a.keys() == b.keys()
    assert b["response_code"] == "0000" and b["channel_reference"] == "LANE-2" and not b["replayed"]
    assert len(b["token"]) == 20 and b["token_display"].replace(" ", "") == b["token"]
    assert b["meter_number"] == BUDI_METER and b["idpel"] == BUDI_IDPEL
    assert second.headers["X-Request-ID"] and second.headers["X-Content-Type-Options"] == "nosniff"
    assert second.headers["content-type"] == "application/json"


def test_a_lane_sale_writes_every_row_of_a_sale_once(client: TestClient, app: Any, vending: VendingService) -> None:
    buy(client, "WARM")
    sold = buy(client, "ROWS-1").json()
    assert app.state.purchase_lane.sold == 1
    purchase = rows(vending, "SELECT id, tid, token FROM purchases WHERE channel_reference = 'ROWS-1'")
    assert [(r.tid, r.token) for r in purchase] == [(sold["tid"], sold["token"])] if "tid" in sold else purchase
    assert len(purchase) == 1
    guard = rows(vending, "SELECT purchase_id FROM purchase_refs WHERE channel_reference = 'ROWS-1'")
    assert [g.purchase_id for g in guard] == [purchase[0].id]
    audit = rows(vending, "SELECT detail FROM audit_log WHERE action = 'purchase' AND detail LIKE '%ROWS-1%'")
    assert len(audit) == 1
    usage = rows(vending, "SELECT sum(kwh) AS kwh FROM monthly_usage WHERE meter_number = :m", m=BUDI_METER)
    assert usage[0].kwh > 0


def test_a_retry_of_a_lane_sale_gets_the_same_sale(client: TestClient, app: Any) -> None:
    buy(client, "WARM")
    first = buy(client, "RETRY-1").json()
    again = buy(client, "RETRY-1")
    assert again.status_code == 200
    body = again.json()
    assert body["token"] == first["token"] and body["replayed"] is True
    assert body["reference_number"] == first["reference_number"]


def test_the_same_reference_for_another_sale_is_a_conflict(client: TestClient) -> None:
    buy(client, "WARM")
    assert buy(client, "CONFLICT-1").status_code == 200
    assert_error(buy(client, "CONFLICT-1", identifier=SITI_METER), 409, "0093")


def test_refusals_are_the_routes_typed_errors(client: TestClient, app: Any) -> None:
    buy(client, "WARM")
    blocked = assert_error(buy(client, "BLOCKED-1", identifier=JOKO_METER), 403, "0077")
    assert "blokir" in blocked["message"].lower() or blocked["message"]
    assert_error(buy(client, "LUHN-1", identifier=BUDI_METER[:-1] + str((int(BUDI_METER[-1]) + 1) % 10)), 404, "0014")
    assert_error(buy(client, "NOMINAL-1", nominal=12_345), 422, "0041")
    unknown = "45" + "0" * 8
    assert buy(client, "UNKNOWN-1", identifier=unknown).status_code in (404, 422)


def test_the_monthly_cap_is_kept_on_the_lane(client: TestClient, app: Any, vending: VendingService) -> None:
    buy(client, "WARM", identifier=AGUS_METER)  # 450 VA: 324 kWh a month
    answers = [buy(client, f"CAP-{i}", identifier=AGUS_METER, nominal=500_000) for i in range(4)]
    refused = [a for a in answers if a.status_code != 200]
    assert refused and refused[-1].json()["response_code"] == "0047"
    total = rows(vending, "SELECT kwh FROM monthly_usage WHERE meter_number = :m", m=AGUS_METER)
    assert sum(r.kwh for r in total) <= 32_400  # hundredths of a kWh


def test_an_idpel_sells_on_the_lane_and_a_bad_body_takes_the_route(client: TestClient, app: Any) -> None:
    buy(client, "WARM")
    lane = app.state.purchase_lane
    by_idpel = buy(client, "IDPEL-1", identifier=BUDI_IDPEL)
    assert by_idpel.status_code == 200 and by_idpel.json()["meter_number"] == BUDI_METER
    # an IDPEL whose old meter was replaced buys for the meter in service, on the lane too
    replaced = buy(client, "IDPEL-2", identifier="541000000012")
    assert replaced.status_code == 200 and replaced.json()["meter_number"] == demo_meter_number(10000012)
    assert lane.sold == 2
    assert_error(buy(client, "IDPEL-3", identifier="549999999999"), 404, "0015")  # unknown IDPEL
    bad = client.post(PATH, json={"channel_reference": "X", "identifier": BUDI_METER}, headers=KEY)
    assert_error(bad, 422, "0030")
    not_json = client.post(PATH, content=b"{nope", headers={**KEY, "content-type": "application/json"})
    assert_error(not_json, 400, "0030")
    wrong_key = client.post(
        PATH, json={"channel_reference": "K", "identifier": BUDI_METER, "nominal": 20_000}, headers={"X-Api-Key": "x"}
    )
    assert wrong_key.status_code == 401


def test_the_channel_rate_limit_counts_lane_sales(vending: VendingService, tmp_path: Path) -> None:
    vending.update_channel("admin", "BANKDEMO", "lane test", purchases_per_minute=3, server=True)
    app = _app(vending, tmp_path)
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        answers = [buy(client, f"RL-{i}") for i in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert answers[3].json()["response_code"] != "0000"


def test_the_lane_and_the_route_answer_alike(vending: VendingService, tmp_path: Path) -> None:
    with TestClient(_app(vending, tmp_path), base_url=BASE_URL) as lane_client:
        buy(lane_client, "WARM-A")
        lane = buy(lane_client, "ALIKE-1").json()
    with TestClient(_app(vending, tmp_path / "b", lane=False), base_url=BASE_URL) as route_client:
        route = buy(route_client, "ALIKE-2").json()
    assert lane.keys() == route.keys()
    for field in ("response_code", "meter_number", "idpel", "name", "tariff", "power_va", "channel", "price"):
        assert lane[field] == route[field], field
    assert [line["label"] for line in lane["receipt"]] == [line["label"] for line in route["receipt"]]


def test_concurrent_lane_sales_on_one_meter_keep_tids_strictly_increasing(app: Any, vending: VendingService) -> None:
    async def run() -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            warm = await client.post(
                PATH, json={"channel_reference": "C-WARM", "identifier": SHOP_METER, "nominal": 20_000}, headers=KEY
            )
            assert warm.status_code == 200, warm.text

            async def one(i: int) -> dict[str, Any]:
                r = await client.post(
                    PATH,
                    json={"channel_reference": f"C-{i}", "identifier": SHOP_METER, "nominal": 20_000},
                    headers=KEY,
                )
                assert r.status_code == 200, r.text
                return dict(r.json())

            try:
                return list(await asyncio.gather(*(one(i) for i in range(24))))
            finally:
                await app.state.purchase_lane.close()  # this loop's pool ends with the loop

    answers = asyncio.run(run())
    assert app.state.purchase_lane.sold >= 20
    sales = rows(
        vending,
        "SELECT id, tid, created_at FROM purchases WHERE meter_number = :m ORDER BY id",
        m=SHOP_METER,
    )
    tids = [s.tid for s in sales]
    assert len(tids) == len(set(tids)) == 25
    by_tid = sorted(sales, key=lambda s: s.tid)
    assert [s.created_at for s in by_tid] == sorted(s.created_at for s in sales)
    assert len({a["token"] for a in answers}) == 24


def test_concurrent_sales_on_many_meters_share_transactions_and_each_is_whole(
    app: Any, vending: VendingService
) -> None:
    """Sales that arrive together are written in one transaction each batch: every sale still
    has its guard, purchase, audit and usage rows, TIDs rise per meter, a blocked customer in
    the same batch is refused alone, a retry in the same burst gets the same sale."""
    meters = [demo_meter_number(n) for n in (10000005, 10000006, 10000007, 10000008)]
    lane = app.state.purchase_lane

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:

            async def one(reference: str, meter: str) -> httpx.Response:
                body = {"channel_reference": reference, "identifier": meter, "nominal": 20_000}
                return await client.post(PATH, json=body, headers=KEY)

            warm = await one("M-WARM", meters[0])
            assert warm.status_code == 200, warm.text
            calls = [one(f"M-{i}", meters[i % 4]) for i in range(40)]
            calls += [one("M-BLOCKED", JOKO_METER), one("M-3", meters[3])]  # a refusal and a retry
            try:
                return list(await asyncio.gather(*calls))
            finally:
                await app.state.purchase_lane.close()

    answers = asyncio.run(run())
    sold = [a.json() for a in answers[:40]]
    assert all(a.status_code == 200 for a in answers[:40]), [a.text for a in answers if a.status_code != 200]
    assert_error(answers[40], 403, "0077")
    assert answers[41].status_code == 200 and answers[41].json()["token"] == sold[3]["token"]
    assert lane.batches < lane.sold  # some sales really shared a transaction
    for meter in meters:
        sales = rows(vending, "SELECT tid, created_at, kwh FROM purchases WHERE meter_number = :m ORDER BY id", m=meter)
        expected = 11 if meter == meters[0] else 10
        assert len(sales) == expected
        assert [s.tid for s in sales] == sorted({s.tid for s in sales})  # strictly increasing in commit order
        usage = rows(vending, "SELECT sum(kwh) AS kwh FROM monthly_usage WHERE meter_number = :m", m=meter)
        assert usage[0].kwh == sum(s.kwh for s in sales)
    guards = rows(vending, "SELECT count(*) AS n FROM purchase_refs WHERE channel_reference LIKE 'M-%'")
    audits = rows(vending, "SELECT count(*) AS n FROM audit_log WHERE action = 'purchase' AND detail LIKE '%\"M-%'")
    assert guards[0].n == audits[0].n == 41
    assert not rows(vending, "SELECT 1 FROM purchases WHERE channel_reference = 'M-BLOCKED'")


def test_a_batch_that_finds_usage_changed_keeps_nothing_and_hands_every_sale_back(
    app: Any, vending: VendingService, client: TestClient
) -> None:
    """The write re-checks the month's usage against what the claim read; a mismatch rolls the
    whole batch back and each sale is sold again by the full path (nothing lost, nothing twice)."""
    buy(client, "STALE-WARM")
    lane = app.state.purchase_lane
    from prabayar.vending import fastpath_async

    original = fastpath_async._WRITE_MANY_PG
    # the same statement, told that the usage row is absent when it exists: the insert finds the
    # row, writes nothing, and the counts disagree
    patched = original.replace("WHERE NOT s.had_usage AND s.kwh <= s.cap", "WHERE s.kwh <= s.cap").replace(
        "WHERE s.had_usage AND mu.meter_number", "WHERE false AND mu.meter_number"
    )
    fastpath_async._WRITE_MANY_PG = patched
    lane._singles += 1  # as if another sale were running: this one waits for a batch
    try:
        answer = buy(client, "STALE-1")
    finally:
        fastpath_async._WRITE_MANY_PG = original
        lane._singles -= 1
    assert lane.batches >= 1
    assert answer.status_code == 200, answer.text
    assert lane.handed_back >= 1
    assert len(rows(vending, "SELECT 1 FROM purchases WHERE channel_reference = 'STALE-1'")) == 1
    assert len(rows(vending, "SELECT 1 FROM audit_log WHERE action = 'purchase' AND detail LIKE '%STALE-1%'")) == 1


def test_the_lanes_connections_close_with_the_server(vending: VendingService, tmp_path: Path) -> None:
    app = _app(vending, tmp_path)
    with TestClient(app, base_url=BASE_URL) as client:
        buy(client, "CLOSE-WARM")
        assert buy(client, "CLOSE-1").status_code == 200
        assert app.state.purchase_lane._pool is not None
    assert app.state.purchase_lane._pool is None  # lifespan shutdown closed the pool


def test_the_channel_rate_limit_is_one_budget_across_processes_on_redis(
    vending: VendingService, tmp_path: Path, redis_url: str
) -> None:
    """Two apps (two server processes) on one Redis: the lane's asyncio limiter and the route's
    blocking limiter count into the same per-channel budget."""
    url, prefix = split_redis(redis_url)
    vending.update_channel("admin", "BANKDEMO", "lane test", purchases_per_minute=4, server=True)
    apps = [
        create_app(
            Settings(data_dir=tmp_path / name, redis_url=url, redis_prefix=prefix), services=Services(vending)
        )
        for name in ("a", "b")
    ]
    with (
        TestClient(apps[0], base_url=BASE_URL, raise_server_exceptions=False) as first,
        TestClient(apps[1], base_url=BASE_URL, raise_server_exceptions=False) as second,
    ):
        answers = [buy(first, "RR-1"), buy(second, "RR-2"), buy(first, "RR-3"), buy(second, "RR-4")]
        assert [a.status_code for a in answers] == [200, 200, 200, 200]
        assert apps[0].state.purchase_lane.sold + apps[1].state.purchase_lane.sold >= 1  # the lane took part
        over = [buy(first, "RR-5"), buy(second, "RR-6")]
    assert [a.status_code for a in over] == [429, 429]
    assert not rows(vending, "SELECT 1 FROM purchases WHERE channel_reference IN ('RR-5', 'RR-6')")


def test_metrics_show_lane_sales_and_batch_sizes(client: TestClient) -> None:
    buy(client, "MET-WARM")
    buy(client, "MET-1")
    text_ = client.get("/metrics").text
    sold = [line for line in text_.splitlines() if line.startswith('prabayar_lane_sales_total{outcome="sold"}')]
    assert sold and float(sold[0].split()[-1]) >= 1
    assert "prabayar_lane_batch_size_bucket" in text_
