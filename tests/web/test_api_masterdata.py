"""The master-data API: status codes, documents, refusals and the maker-checker answers."""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
from fastapi.testclient import TestClient

from prabayar.vending.demo import demo_meter_number

from .conftest import BUDI_IDPEL, BUDI_METER, Api, assert_error

NEW_METER = demo_meter_number(50000002)


def test_customer_and_meter_life_cycle(client: TestClient, api: Api) -> None:
    op = api.user("operator")
    created = client.post(
        "/api/v1/admin/customers",
        json={"idpel": "541999000001", "name": "Rina", "address": "Jl. Kenari 3", "tariff": "R1",
              "power_va": 1300, "phone": "081234567890", "reason": "pasang baru"},
        headers=op,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["tariff_class"] == "R1-1300" and body["monthly_cap_kwh"] == "936" and body["meters"] == []
    meter = client.post(
        "/api/v1/admin/meters",
        json={"meter_number": NEW_METER, "sgc": "123456", "krn": 2, "ea": "07", "dkga": "04",
              "base_date": "2014", "reason": "delivery"},
        headers=op,
    )  # fmt: skip
    assert meter.status_code == 201 and meter.json()["status"] == "in_stock" and meter.json()["base_date"] == "2014"
    assert [m["meter_number"] for m in client.get("/api/v1/admin/meters", headers=op).json()["meters"]] == [NEW_METER]
    installed = client.post(
        f"/api/v1/admin/meters/{NEW_METER}/install", json={"idpel": "541999000001", "reason": "pasang baru"}, headers=op
    )
    assert installed.status_code == 200 and installed.json()["meters"][0]["status"] == "active"
    assert api.buy("MD-1", identifier=NEW_METER)["idpel"] == "541999000001"
    found = client.get("/api/v1/admin/customers", params={"q": "kenari"}, headers=op).json()["customers"]
    assert [c["idpel"] for c in found] == ["541999000001"]
    power = client.post(
        "/api/v1/admin/customers/541999000001/power", json={"power_va": 3500, "reason": "naik daya"}, headers=op
    )
    assert power.json()["tariff_class"] == "R2"
    blocked = client.post("/api/v1/admin/customers/541999000001/block", json={"reason": "P2TL"}, headers=op)
    assert blocked.json()["status"] == "blocked" and blocked.json()["status_reason"] == "P2TL"
    refused = client.post(
        "/api/v1/channel/purchase",
        json={"channel_reference": "MD-2", "identifier": NEW_METER, "nominal": 20_000},
        headers=api.channel(),
    )
    assert_error(refused, 403, "0077", "customer_blocked")
    client.post("/api/v1/admin/customers/541999000001/unblock", json={"reason": "lunas"}, headers=op)
    removed = client.post(f"/api/v1/admin/meters/{NEW_METER}/remove", json={"reason": "bongkar"}, headers=op)
    assert removed.json()["status"] == "removed"
    refused = client.post(
        "/api/v1/channel/purchase",
        json={"channel_reference": "MD-3", "identifier": NEW_METER, "nominal": 20_000},
        headers=api.channel(),
    )
    assert_error(refused, 404, "0014")
    record = client.get(f"/api/v1/admin/customers/{NEW_METER}", headers=op).json()
    assert record["idpel"] == "541999000001" and record["meters"][0]["status"] == "removed"
    audit = client.get("/api/v1/operator/audit", params={"action": "meter.install"}, headers=op).json()
    assert audit["entries"][0]["actor"] == "operator"


def test_refusals_have_their_statuses(client: TestClient, api: Api) -> None:
    op = api.user("operator")
    dup = client.post(
        "/api/v1/admin/customers",
        json={"idpel": BUDI_IDPEL, "name": "X", "address": "Y", "tariff": "R1", "power_va": 900, "reason": "dup"},
        headers=op,
    )
    assert_error(dup, 422, "0005", "invalid_request")
    bad_va = client.post(
        "/api/v1/admin/customers",
        json={"idpel": "541999000002", "name": "X", "address": "Y", "tariff": "R1", "power_va": 4000,
              "reason": "wrong band"},
        headers=op,
    )  # fmt: skip
    assert_error(bad_va, 422, "0005")
    luhn = client.post(
        "/api/v1/admin/meters",
        json={"meter_number": "01234567890", "sgc": "123456", "krn": 1, "reason": "x x"},
        headers=op,
    )
    assert_error(luhn, 422, "0005")
    misty_dkga02 = client.post(
        "/api/v1/admin/meters",
        json={"meter_number": NEW_METER, "sgc": "123456", "krn": 1, "ea": "11", "dkga": "02", "reason": "x x"},
        headers=op,
    )
    assert_error(misty_dkga02, 422, "0005")
    assert_error(client.get("/api/v1/admin/customers/541999999999", headers=op), 404, "0015")
    assert_error(client.get(f"/api/v1/admin/meters/{NEW_METER}", headers=op), 404, "0014")
    no_reason = client.post(f"/api/v1/admin/customers/{BUDI_IDPEL}/block", json={"reason": ""}, headers=op)
    assert no_reason.status_code == 422
    assert client.post("/api/v1/admin/channels", json={"code": "X1", "reason": "op"}, headers=op).status_code == 403


def test_channels_key_shown_once_rotate_disable(client: TestClient, api: Api) -> None:
    admin = api.user("admin")
    made = client.post(
        "/api/v1/admin/channels",
        json={"code": "LOKETA", "name": "Loket A", "admin_fee": 2500, "purchases_per_minute": 0, "reason": "baru"},
        headers=admin,
    )
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    key = made.json()["api_key"]
    channel = made.json()["channel"]
    assert channel["allowed_nominals"] == [20000, 50000, 100000, 200000, 250000, 500000, 1000000]
    assert channel["purchases_per_minute"] == 0 and channel["key_version"] == 1
    listed = client.get("/api/v1/admin/channels", headers=admin)
    assert key not in listed.text and "LOKETA" in listed.text
    inquiry = client.post("/api/v1/channel/inquiry", json={"identifier": BUDI_METER}, headers={"X-Api-Key": key})
    assert inquiry.status_code == 200
    rotated = client.post("/api/v1/admin/channels/LOKETA/rotate-key", json={"reason": "bocor"}, headers=admin)
    assert rotated.status_code == 200 and rotated.json()["key_version"] == 2
    old = client.post("/api/v1/channel/inquiry", json={"identifier": BUDI_METER}, headers={"X-Api-Key": key})
    assert old.status_code == 401
    new_key = rotated.json()["api_key"]
    changed = client.patch(
        "/api/v1/admin/channels/LOKETA", json={"allowed_nominals": "free", "reason": "H2H"}, headers=admin
    )
    assert changed.json()["allowed_nominals"] is None
    disabled = client.post("/api/v1/admin/channels/LOKETA/disable", json={"reason": "selesai"}, headers=admin)
    assert disabled.json()["active"] is False
    gone = client.post("/api/v1/channel/inquiry", json={"identifier": BUDI_METER}, headers={"X-Api-Key": new_key})
    assert gone.status_code == 401
    assert_error(client.post("/api/v1/admin/channels/NOPE/disable", json={"reason": "x x"}, headers=admin), 401, "0031")
    bad = client.post("/api/v1/admin/channels", json={"code": "LOKETB", "purchases_per_minute": -1, "reason": "x x"},
                      headers=admin)  # fmt: skip
    assert bad.status_code == 422


def test_units_and_tariff_versions_through_approval(client: TestClient, api: Api) -> None:
    admin, supervisor = api.user("admin"), api.user("supervisor")
    unit = client.post(
        "/api/v1/admin/units",
        json={"code": "33", "uid_name": "UID Jawa Tengah", "up3_name": "UP3 Semarang", "default_rate": "0.1",
              "pbjt_rates": {"S1-900": "0"}, "reason": "region"},
        headers=admin,
    )  # fmt: skip
    assert unit.status_code == 201 and unit.json()["pbjt_rates"]["R1-1300"] == "0.100000"
    rate = client.put("/api/v1/admin/units/33/rates/R1-1300", json={"pbjt_rate": "0.08", "reason": "perda"},
                      headers=admin)  # fmt: skip
    assert rate.json()["pbjt_rates"]["R1-1300"] == "0.080000"
    assert client.post("/api/v1/admin/units/33/default", json={"reason": "region"}, headers=admin).status_code == 204
    assert [u["code"] for u in client.get("/api/v1/admin/units", headers=admin).json()["units"] if u["is_default"]] == [
        "33"
    ]
    asked = client.post(
        "/api/v1/admin/tariffs/R1-1300/versions",
        json={"rp_per_kwh": "1500.50", "effective_from": "2099-04-01T00:00:00+07:00", "reason": "Q2 2099"},
        headers=admin,
    )
    assert asked.status_code == 202 and asked.json()["status"] == "pending"
    history = client.get("/api/v1/admin/tariffs/R1-1300/versions", headers=admin).json()["versions"]
    assert len(history) == 1
    approved = client.post(f"/api/v1/operator/approvals/{asked.json()['id']}/approve", json={"reason": "ok"},
                           headers=supervisor)  # fmt: skip
    assert approved.status_code == 200, approved.text
    tariffs = client.get("/api/v1/admin/tariffs", headers=admin).json()["tariffs"]
    r1 = next(t for t in tariffs if t["code"] == "R1-1300")
    assert r1["rp_per_kwh"] == "1444.70" and r1["next_version"]["rp_per_kwh"] == "1500.50"
    past = client.post(
        "/api/v1/admin/tariffs/R1-1300/versions",
        json={"rp_per_kwh": "1500", "effective_from": "2001-01-01T00:00:00+07:00", "reason": "past"},
        headers=admin,
    )
    assert_error(past, 422, "0005")


def test_key_import_request_is_wrapped_and_approved(client: TestClient, api: Api) -> None:
    admin = api.user("admin")
    wrapped = aes_key_wrap_with_padding(secrets.token_bytes(32), secrets.token_bytes(8)).hex()
    asked = client.post(
        "/api/v1/admin/vending-keys",
        json={"sgc": "345678", "krn": 1, "wrapped_key_hex": wrapped, "reason": "KMC"},
        headers=admin,
    )
    assert asked.status_code == 202 and asked.json()["kind"] == "key.import"
    held = client.post(
        "/api/v1/admin/vending-keys",
        json={"sgc": "123456", "krn": 2, "wrapped_key_hex": wrapped, "reason": "KMC"},
        headers=admin,
    )
    assert_error(held, 422, "0005")
    keys = client.get("/api/v1/admin/vending-keys", headers=admin).json()["keys"]
    assert {"sgc": "123456", "krn": 2} in [{"sgc": k["sgc"], "krn": k["krn"]} for k in keys]
    assert all(len(k["fingerprint"]) == 12 and k["state"] in ("current", "staged", "retired") for k in keys)
    assert client.get("/api/v1/admin/vending-keys", headers=api.user("operator")).status_code == 403
