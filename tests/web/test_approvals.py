"""Four eyes on the web: the ticket desk's key change is admin-only (and hidden from operators),
replacements and key changes wait on the approvals page, and only another admin decides."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from .conftest import BUDI_METER, LEGACY_METER, Api, signed_in
from .test_pages import csrf

TOKEN = re.compile(r"(?:[0-9]{4} ){4}[0-9]{4}")


def _ticket(client: TestClient, api: Api, identifier: str) -> str:
    opened = client.post("/api/v1/support/tickets", json={"identifier": identifier, "channel": "cc123"},
                         headers=api.user("operator"))  # fmt: skip
    assert opened.status_code == 201, opened.text
    number: str = opened.json()["number"]
    assigned = client.post(f"/api/v1/support/tickets/{number}/assign", json={"technician": "tek"},
                           headers=api.user("operator"))  # fmt: skip
    assert assigned.status_code == 200, assigned.text
    return number


def _pending(client: TestClient, api: Api) -> list[dict[str, Any]]:
    listed = client.get("/api/v1/operator/approvals", headers=api.user("operator"))
    assert listed.status_code == 200, listed.text
    approvals: list[dict[str, Any]] = listed.json()["approvals"]
    return approvals


def test_the_desk_refuses_an_operators_key_change_and_hides_the_button(client: TestClient, api: Api) -> None:
    number = _ticket(client, api, LEGACY_METER)
    signed_in(client, "operator")
    desk = client.get(f"/konsol/tiket/{number}").text
    assert 'data-testid="key-change-form"' not in desk and "/key_change" not in desk
    posted = client.post(f"/konsol/tiket/{number}/key_change", data={"csrf_token": csrf(desk), "rollover": "yes"})
    assert posted.status_code == 200
    assert "TIDAK BERWENANG (HANYA ADMIN)" in posted.text and 'class="notice error"' in posted.text
    assert _pending(client, api) == []  # nothing was recorded

    signed_in(client, "admin")
    desk = client.get(f"/konsol/tiket/{number}").text
    assert 'data-testid="key-change-form"' in desk
    posted = client.post(f"/konsol/tiket/{number}/key_change", data={"csrf_token": csrf(desk), "rollover": "yes"})
    assert "menunggu persetujuan admin lain, id 1" in posted.text
    [request] = _pending(client, api)
    assert request["kind"] == "key_change" and request["maker"] == "admin" and request["payload"]["ticket"] == number


def test_the_approvals_page_lets_only_another_admin_decide(client: TestClient, api: Api) -> None:
    number = _ticket(client, api, LEGACY_METER)
    asked = client.post(f"/api/v1/support/tickets/{number}/key-change", json={"rollover": True},
                        headers=api.user("admin"))  # fmt: skip
    assert asked.status_code == 202, asked.text
    approval = asked.json()["id"]

    signed_in(client, "operator")
    page = client.get("/konsol/persetujuan").text
    assert f'data-approval="{approval}"' in page and "/setujui" not in page  # listed, no buttons
    refused = client.post(f"/konsol/persetujuan/{approval}/setujui", data={"csrf_token": csrf(page)})
    assert 'class="notice error"' in refused.text
    signed_in(client, "admin")
    page = client.get("/konsol/persetujuan").text
    assert "/setujui" not in page  # the maker gets no buttons either
    refused = client.post(f"/konsol/persetujuan/{approval}/setujui", data={"csrf_token": csrf(page)})
    assert "EMPAT MATA" in refused.text or "four eyes" in refused.text
    assert [r["status"] for r in _pending(client, api)] == ["pending"]

    signed_in(client, "supervisor")
    page = client.get("/konsol/persetujuan").text
    assert f'action="/konsol/persetujuan/{approval}/setujui"' in page
    assert client.post(f"/konsol/persetujuan/{approval}/setujui", data={}).status_code == 403  # CSRF
    done = client.post(f"/konsol/persetujuan/{approval}/setujui", data={"csrf_token": csrf(page)}).text
    assert "disetujui" in done and len(TOKEN.findall(done)) == 2
    assert _pending(client, api) == []
    ticket = client.get(f"/api/v1/support/tickets/{number}", headers=api.user("operator")).json()
    assert len(ticket["issued_tokens"]) == 2
    assert [e["kind"] for e in ticket["events"]][-2:] == ["key_change_requested", "key_change_issued"]
    audit = client.get("/api/v1/operator/audit?action=approval.", headers=api.user("admin")).json()["entries"]
    approved = next(e for e in audit if e["action"] == "approval.approved")
    assert approved["actor"] == "supervisor" and approved["detail"]["maker"] == "admin"


def test_replacement_from_the_desk_waits_and_the_inspector_cannot_approve(client: TestClient, api: Api) -> None:
    number = _ticket(client, api, BUDI_METER)
    inspected = client.post(f"/api/v1/support/tickets/{number}/inspection",
                            json={"note": "LCD dead", "installation_ok": True}, headers=api.user("admin"))  # fmt: skip
    assert inspected.status_code == 200, inspected.text
    signed_in(client, "operator")
    desk = client.get(f"/konsol/tiket/{number}").text
    form = {"csrf_token": csrf(desk), "new_meter_number": "14100000992"}
    too_much = client.post(f"/konsol/tiket/{number}/replace_meter", data={**form, "carried_kwh": "99999"}).text
    assert "720 JAM NYALA" in too_much  # refused above the monthly cap, never cut down silently
    asked = client.post(f"/konsol/tiket/{number}/replace_meter", data={**form, "carried_kwh": "12.39"}).text
    assert "menunggu persetujuan admin lain, id 1" in asked
    [request] = _pending(client, api)
    assert request["payload"]["carried_kwh"] == "12.3"  # rounded down, never up
    assert request["payload"]["not_approvable_by"] == ["admin"]  # admin recorded the inspection
    inspector = client.post("/api/v1/operator/approvals/1/approve", headers=api.user("admin"))
    assert inspector.status_code == 403 and inspector.json()["error"] == "four_eyes"
    rejected = client.post("/api/v1/operator/approvals/1/reject", json={"reason": ""}, headers=api.user("supervisor"))
    assert rejected.status_code == 422
    done = client.post("/api/v1/operator/approvals/1/approve", headers=api.user("supervisor"))
    assert done.status_code == 200 and done.json()["result"]["carried_kwh"] == "12.3"
    again = client.post("/api/v1/operator/approvals/1/reject", json={"reason": "late"}, headers=api.user("admin"))
    assert again.status_code == 409 and again.json()["error"] == "approval_not_pending"
    ticket = client.get(f"/api/v1/support/tickets/{number}", headers=api.user("operator")).json()
    assert ticket["replacement_meter"] == "14100000992" and len(ticket["issued_tokens"]) == 1
