"""Campaigns through the API and the console: two admins, generation, the purchase answer with
the KCTs and the instruction, status per unit, the page with its SVG chart, the CSV export."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from prabayar.vending.campaigns import CampaignCounts
from prabayar.web.pages.campaigns import chart_svg

from .conftest import LEGACY_METER, Api, assert_error, signed_in

BASE = "/api/v1/operator/campaigns"


def test_two_admins_then_the_next_purchase_carries_the_kcts(client: TestClient, api: Api) -> None:
    body = {"name": "Rollover 1993", "reason": "TID rollover 2024", "base_date": "1993", "new_krn": 2,
            "rollover": True}  # fmt: skip
    assert client.post(BASE, json=body, headers=api.user("operator")).status_code == 403
    made = client.post(BASE, json=body, headers=api.user("admin"))
    assert made.status_code == 202, made.text
    campaign = made.json()
    assert campaign["status"] == "pending_approval" and campaign["approval_id"]
    cid = campaign["id"]
    assert_error(client.post(f"{BASE}/{cid}/run", headers=api.user("admin")), 409, "0005", "campaign_not_approved")
    assert_error(client.post(f"{BASE}/{cid}/approve", json={}, headers=api.user("admin")), 403, "0005", "four_eyes")
    approved = client.post(f"{BASE}/{cid}/approve", json={"reason": "ok"}, headers=api.user("supervisor"))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    ran = client.post(f"{BASE}/{cid}/run", headers=api.user("admin"))
    assert ran.status_code == 200, ran.text
    assert ran.json()["status"] == "done" and ran.json()["counts"]["generated"] == 1

    sale = api.buy("CAMP-1", identifier=LEGACY_METER)
    assert len(sale["key_change_tokens"]) == 2
    assert sale["key_change_instruction"].startswith("Masukkan 2 token ganti kunci (KCT) berurutan")
    labels = [line["label"] for line in sale["receipt"]]
    assert labels.index("TOKEN KCT 1/2") < labels.index("STROOM/TOKEN")
    status = client.get(f"{BASE}/{cid}", headers=api.user("operator")).json()
    assert status["counts"]["delivered"] == 1
    assert [u["unit_code"] for u in status["units"]] == ["51"]
    assert client.get(f"{BASE}/999999", headers=api.user("operator")).status_code == 404

    exported = client.get(f"{BASE}/{cid}/export", params={"unit": "51"}, headers=api.user("operator"))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["meter_number"] == LEGACY_METER and rows[0]["state"] == "delivered"

    signed_in(client, "operator")
    page = client.get("/konsol/kampanye")
    assert page.status_code == 200 and "<svg" in page.text and "Rollover 1993" in page.text
    detail = client.get(f"/konsol/kampanye/{cid}")
    assert detail.status_code == 200 and 'data-unit="51"' in detail.text and "<svg" in detail.text
    csv_page = client.get(f"/konsol/kampanye/{cid}/ekspor", params={"unit": "51"})
    assert csv_page.status_code == 200 and LEGACY_METER in csv_page.text


def test_the_chart_is_plain_escaped_svg() -> None:
    svg = str(chart_svg([("<b>", CampaignCounts(selected=10, generated=10, delivered=4, confirmed=1))]))
    assert svg.startswith("<svg") and "&lt;b&gt;" in svg and "<b>" not in svg
    assert "40%" in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
