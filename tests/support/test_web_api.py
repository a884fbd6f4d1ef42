"""Support's HTTP API: diagnosis and tickets, with customers confined to their own meters."""

from __future__ import annotations

from typing import Any

from .conftest import BUDI, SITI, bearer, channel_buy, mistype


def _err(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["message"] and body["message_en"]
    return body


def test_customer_diagnoses_a_typo_on_their_own_meter(web: Any) -> None:
    token = channel_buy(web, "sup-1", BUDI.meter_number)
    r = web.post(
        "/api/v1/support/diagnosis",
        json={"identifier": BUDI.meter_number, "token": mistype(token, 20), "display": "GAGAL"},
        headers=bearer(web, "budi"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cause"] == "typo" and body["confidence"] == "certain"
    assert body["next_steps"][0]["tokens"] == [token]
    assert body["candidates"][0]["positions"] == [20]


def test_customer_cannot_diagnose_someone_elses_meter(web: Any) -> None:
    r = web.post("/api/v1/support/diagnosis", json={"identifier": SITI.meter_number},
                 headers=bearer(web, "budi"))  # fmt: skip
    _err(r, 404)
    assert web.post("/api/v1/support/diagnosis", json={"identifier": BUDI.meter_number}).status_code == 401


def test_operator_diagnoses_any_meter_and_unknown_meters_are_404(web: Any) -> None:
    token = channel_buy(web, "sup-2", SITI.meter_number)
    r = web.post("/api/v1/support/diagnosis",
                 json={"identifier": BUDI.meter_number, "token": token},
                 headers=bearer(web, "operator"))  # fmt: skip
    assert r.status_code == 200 and r.json()["cause"] == "wrong_meter"
    _err(web.post("/api/v1/support/diagnosis", json={"identifier": "14999999990"},
                  headers=bearer(web, "operator")), 404)  # fmt: skip
    _err(web.post("/api/v1/support/diagnosis", json={"identifier": "12ab"},
                  headers=bearer(web, "operator")), 422)  # fmt: skip


def test_ticket_lifecycle_over_the_api(web: Any) -> None:
    cust, op = bearer(web, "budi"), bearer(web, "operator")
    r = web.post("/api/v1/support/tickets", json={"identifier": BUDI.meter_number,
                 "channel": "x", "description": "meter PERIKSA", "display": "PERIKSA"},
                 headers=cust)  # fmt: skip
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["channel"] == "app"  # customers always write through the app
    assert t["category"] == "tamper" and t["diagnosis"]["cause"] == "tamper"
    n = t["number"]
    assert [x["number"] for x in web.get("/api/v1/support/tickets", headers=cust).json()["tickets"]] == [n]
    assert web.get("/api/v1/support/tickets", headers=bearer(web, "siti")).json()["tickets"] == []
    _err(web.get(f"/api/v1/support/tickets/{n}", headers=bearer(web, "siti")), 404)
    _err(web.post(f"/api/v1/support/tickets/{n}/assign", json={"technician": "x"}, headers=cust), 403)
    assert web.post(f"/api/v1/support/tickets/{n}/assign", json={"technician": "tek-1"},
                    headers=op).json()["status"] == "assigned"  # fmt: skip
    visit = web.post(f"/api/v1/support/tickets/{n}/visit",
                     json={"at": "2030-01-02T09:00:00+07:00"}, headers=op)  # fmt: skip
    assert visit.json()["status"] == "visit_scheduled"
    _err(web.post(f"/api/v1/support/tickets/{n}/clear-tamper", headers=op), 409)
    web.post(f"/api/v1/support/tickets/{n}/inspection",
             json={"note": "cover closed, wiring fine", "installation_ok": True}, headers=op)  # fmt: skip
    issued = web.post(f"/api/v1/support/tickets/{n}/clear-tamper", headers=op)
    assert issued.status_code == 200, issued.text
    assert len(issued.json()["tokens"]) == 1 and len(issued.json()["tokens"][0]) == 20
    _err(web.post(f"/api/v1/support/tickets/{n}/close", headers=op), 409)  # not resolved yet
    web.post(f"/api/v1/support/tickets/{n}/resolve", json={"text": "cleared"}, headers=op)
    closed = web.post(f"/api/v1/support/tickets/{n}/close", headers=op).json()
    assert closed["status"] == "closed"
    assert [e["kind"] for e in closed["events"]] == [
        "opened", "assigned", "visit_scheduled", "inspected", "clear_tamper_issued", "resolved",
        "closed",
    ]  # fmt: skip
    mine = web.get(f"/api/v1/support/tickets/{n}", headers=cust).json()
    assert mine["issued_tokens"] == issued.json()["tokens"]
    _err(web.get("/api/v1/support/tickets/PGD-20000101-000001", headers=op), 404)


def test_operator_filters_and_key_change(web: Any) -> None:
    op = bearer(web, "operator")
    t = web.post("/api/v1/support/tickets", json={"identifier": "14100000133", "channel": "cc123"},
                 headers=op)  # fmt: skip
    assert t.status_code == 201, t.text
    n = t.json()["number"]
    assert t.json()["category"] == "key_change_needed"  # the legacy 1993-base meter
    listed = web.get("/api/v1/support/tickets?status=open", headers=op).json()["tickets"]
    assert n in [x["number"] for x in listed]
    refused = web.post(f"/api/v1/support/tickets/{n}/key-change", json={"rollover": True}, headers=op)
    assert refused.status_code == 403, refused.text  # key change is admin-only
    admin = bearer(web, "admin")
    kct = web.post(f"/api/v1/support/tickets/{n}/key-change", json={"rollover": True}, headers=admin)
    assert kct.status_code == 202, kct.text
    assert kct.json()["status"] == "pending" and kct.json()["tokens"] == []
    approval = kct.json()["id"]
    same = web.post(f"/api/v1/operator/approvals/{approval}/approve", json={}, headers=admin)
    assert same.status_code == 403 and same.json()["error"] == "four_eyes"  # the maker
    done = web.post(f"/api/v1/operator/approvals/{approval}/approve", json={}, headers=bearer(web, "supervisor"))
    assert done.status_code == 200, done.text
    assert len(done.json()["tokens"]) == 2
    ticket = web.get(f"/api/v1/support/tickets/{n}", headers=op).json()
    assert ticket["issued_tokens"] == done.json()["tokens"]
    _err(web.post(f"/api/v1/support/tickets/{n}/assign", json={"technician": ""}, headers=op), 422)
