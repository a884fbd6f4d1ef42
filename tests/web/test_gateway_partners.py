"""ISO 8583 partners from the operator API and the console page (admins change, staff read)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from .conftest import Api, signed_in

BODY = {
    "channel": "WEBH2H", "port": 19177, "framing": "len2", "switcher_id": "WEBH2H1", "pcid": "7700042",
    "bank_codes": ["0420001"], "sources": ["10.1.0.0/16"], "new_channel_admin_fee": 2500,
}  # fmt: skip


def test_admin_adds_lists_and_removes_a_partner(client: TestClient, api: Api) -> None:
    admin = api.user("admin")
    created = client.post("/api/v1/operator/gateway-partners", json=BODY, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["framing"] == "len2"
    listed = client.get("/api/v1/operator/gateway-partners", headers=api.user("operator")).json()["partners"]
    assert [(p["channel"], p["port"], p["sources"]) for p in listed] == [("WEBH2H", 19177, ["10.1.0.0/16"])]
    again = client.post("/api/v1/operator/gateway-partners", json=BODY, headers=admin)
    assert again.status_code == 422
    assert client.delete("/api/v1/operator/gateway-partners/WEBH2H", headers=admin).status_code == 204
    assert client.get("/api/v1/operator/gateway-partners", headers=admin).json()["partners"] == []
    assert client.delete("/api/v1/operator/gateway-partners/WEBH2H", headers=admin).status_code == 422
    actions = [e["action"] for e in client.get("/api/v1/operator/audit", headers=admin).json()["entries"]]
    assert "gateway.partner_add" in actions and "gateway.partner_remove" in actions


def test_operator_may_not_change_partners(client: TestClient, api: Api) -> None:
    operator = api.user("operator")
    assert client.post("/api/v1/operator/gateway-partners", json=BODY, headers=operator).status_code == 403
    assert client.delete("/api/v1/operator/gateway-partners/WEBH2H", headers=operator).status_code == 403


def test_bad_partner_values_are_refused(client: TestClient, api: Api) -> None:
    admin = api.user("admin")
    for change in ({"switcher_id": "SHORT"}, {"sources": ["not-a-network"]}, {"framing": "xml"}):
        response = client.post("/api/v1/operator/gateway-partners", json={**BODY, **change}, headers=admin)
        assert response.status_code == 422, change


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_console_page_add_and_remove(client: TestClient) -> None:
    signed_in(client, "admin")
    page = client.get("/konsol/h2h")
    assert page.status_code == 200
    form = {k: v for k, v in BODY.items() if isinstance(v, str | int)}
    form |= {"bank_codes": "0420001 0420002", "sources": "10.1.0.0/16", "csrf_token": _csrf(page.text)}
    done = client.post("/konsol/h2h", data=form, follow_redirects=True)
    assert 'data-partner="WEBH2H"' in done.text and "0420002" in done.text
    removed = client.post("/konsol/h2h/WEBH2H/hapus", data={"csrf_token": _csrf(done.text)}, follow_redirects=True)
    assert 'data-partner="WEBH2H"' not in removed.text


def test_console_page_for_operators_has_no_forms(client: TestClient) -> None:
    signed_in(client, "operator")
    page = client.get("/konsol/h2h")
    assert page.status_code == 200
    assert 'action="/konsol/h2h"' not in page.text
