"""The authorisation matrix: every role against every API endpoint and every page."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import (
    BUDI_IDPEL,
    BUDI_METER,
    DEMO_PASSWORDS,
    LEGACY_METER,
    SITI_METER,
    Api,
    signed_in,
)

ROLES = ("anonymous", "channel", "customer", "operator", "admin")
USERS = {"customer": "budi", "operator": "operator", "admin": "admin"}
NO_TICKET = "PGD-20260101-999999"  # allowed roles get 404; the others 401/403 before any lookup
EVERYONE = set(ROLES)
USERS_ONLY = {"customer", "operator", "admin"}
STAFF = {"operator", "admin"}
#: Signed webhooks (social media): no role opens them; every caller without the signature is 401.
SIGNED_ONLY: set[str] = set()

# (method, OpenAPI path, concrete path, JSON body, roles allowed)
ENDPOINTS: list[tuple[str, str, str, dict[str, Any] | None, set[str]]] = [
    ("POST", "/api/v1/social/{channel}/messages", "/api/v1/social/x/messages",
     {"message_id": "m-1", "sender": "@budi", "text": "token gagal"}, SIGNED_ONLY),
    ("GET", "/api/v1/health", "/api/v1/health", None, EVERYONE),
    ("GET", "/api/v1/ready", "/api/v1/ready", None, EVERYONE),
    ("POST", "/api/v1/auth/token", "/api/v1/auth/token",
     {"username": "siti", "password": DEMO_PASSWORDS["siti"]}, EVERYONE),
    ("GET", "/api/v1/me", "/api/v1/me", None, USERS_ONLY),
    ("POST", "/api/v1/channel/inquiry", "/api/v1/channel/inquiry",
     {"identifier": BUDI_METER}, {"channel"}),
    ("POST", "/api/v1/channel/purchase", "/api/v1/channel/purchase",
     {"channel_reference": "M-1", "identifier": BUDI_METER, "nominal": 20_000}, {"channel"}),
    ("POST", "/api/v1/channel/confirm", "/api/v1/channel/confirm",
     {"channel_reference": "M-1"}, {"channel"}),
    ("POST", "/api/v1/channel/advice", "/api/v1/channel/advice",
     {"channel_reference": "M-1"}, {"channel"}),
    ("POST", "/api/v1/channel/reprint", "/api/v1/channel/reprint",
     {"identifier": BUDI_METER}, {"channel"}),
    ("GET", "/api/v1/me/meters", "/api/v1/me/meters", None, {"customer"}),
    ("GET", "/api/v1/me/purchases", "/api/v1/me/purchases", None, {"customer"}),
    ("GET", "/api/v1/operator/customers/{identifier}",
     f"/api/v1/operator/customers/{BUDI_IDPEL}", None, STAFF),
    ("GET", "/api/v1/operator/meters/{identifier}",
     f"/api/v1/operator/meters/{BUDI_METER}", None, STAFF),
    ("GET", "/api/v1/operator/purchases",
     f"/api/v1/operator/purchases?identifier={BUDI_METER}", None, STAFF),
    ("GET", "/api/v1/operator/audit", "/api/v1/operator/audit", None, STAFF),
    ("POST", "/api/v1/operator/management-tokens", "/api/v1/operator/management-tokens",
     {"meter_number": BUDI_METER, "kind": "clear_tamper", "reason": "matrix test"}, STAFF),
    ("POST", "/api/v1/operator/management-tokens", "/api/v1/operator/management-tokens",
     {"meter_number": LEGACY_METER, "kind": "key_change", "reason": "matrix test",
      "rollover": True}, {"admin"}),
    # four eyes (prabayar.vending.approvals): staff see requests, admins decide
    ("GET", "/api/v1/operator/approvals", "/api/v1/operator/approvals", None, STAFF),
    ("GET", "/api/v1/operator/approvals/{approval_id}", "/api/v1/operator/approvals/999999", None, STAFF),
    ("POST", "/api/v1/operator/approvals/{approval_id}/approve",
     "/api/v1/operator/approvals/999999/approve", {"reason": "matrix"}, {"admin"}),
    ("POST", "/api/v1/operator/approvals/{approval_id}/reject",
     "/api/v1/operator/approvals/999999/reject", {"reason": "matrix"}, {"admin"}),
    # key-change campaigns: staff read and export, admins create, approve, run
    ("GET", "/api/v1/operator/campaigns", "/api/v1/operator/campaigns", None, STAFF),
    ("POST", "/api/v1/operator/campaigns", "/api/v1/operator/campaigns",
     {"name": "matrix", "reason": "matrix", "meters": [BUDI_METER], "new_krn": 3}, {"admin"}),
    ("GET", "/api/v1/operator/campaigns/{campaign_id}", "/api/v1/operator/campaigns/999999", None, STAFF),
    ("POST", "/api/v1/operator/campaigns/{campaign_id}/approve",
     "/api/v1/operator/campaigns/999999/approve", {"reason": "matrix"}, {"admin"}),
    ("POST", "/api/v1/operator/campaigns/{campaign_id}/run", "/api/v1/operator/campaigns/999999/run", None,
     {"admin"}),
    ("GET", "/api/v1/operator/campaigns/{campaign_id}/export", "/api/v1/operator/campaigns/999999/export?unit=54",
     None, STAFF),
    # complaint tickets (prabayar.support): customers their own, staff the steps, admins KCTs
    ("POST", "/api/v1/support/diagnosis", "/api/v1/support/diagnosis",
     {"identifier": BUDI_METER}, USERS_ONLY),
    ("GET", "/api/v1/support/tickets", "/api/v1/support/tickets", None, USERS_ONLY),
    ("POST", "/api/v1/support/tickets", "/api/v1/support/tickets",
     {"identifier": BUDI_METER, "channel": "cc123"}, USERS_ONLY),
    ("GET", "/api/v1/support/tickets/{number}", f"/api/v1/support/tickets/{NO_TICKET}", None, USERS_ONLY),
    *[("POST", f"/api/v1/support/tickets/{{number}}/{step}", f"/api/v1/support/tickets/{NO_TICKET}/{step}",
       body, STAFF) for step, body in (
        ("assign", {"technician": "t"}), ("visit", {"at": "2030-01-02T09:00+07:00"}),
        ("inspection", {"note": "n", "installation_ok": True}), ("comment", {"text": "t"}),
        ("resolve", {"text": "t"}), ("reopen", {"text": "t"}), ("close", None), ("clear-tamper", None),
        ("replace-meter", {"new_meter_number": "14100000992", "carried_kwh": "1"}),
    )],
    ("POST", "/api/v1/support/tickets/{number}/key-change", f"/api/v1/support/tickets/{NO_TICKET}/key-change",
     {"rollover": False}, {"admin"}),
    ("POST", "/api/v1/operator/users/{username}/revoke-sessions", "/api/v1/operator/users/siti/revoke-sessions",
     {"reason": "matrix test"}, STAFF),
    # master data (prabayar.vending onboarding): staff run customers and meters, admins the rest
    ("GET", "/api/v1/admin/customers", "/api/v1/admin/customers?q=budi", None, STAFF),
    ("POST", "/api/v1/admin/customers", "/api/v1/admin/customers",
     {"idpel": "541999000001", "name": "Rina", "address": "Jl. Kenari 3", "tariff": "R1", "power_va": 1300,
      "reason": "matrix test"}, STAFF),
    ("GET", "/api/v1/admin/customers/{identifier}", f"/api/v1/admin/customers/{BUDI_IDPEL}", None, STAFF),
    ("PATCH", "/api/v1/admin/customers/{idpel}", f"/api/v1/admin/customers/{BUDI_IDPEL}",
     {"phone": "081234567890", "reason": "matrix test"}, STAFF),
    ("POST", "/api/v1/admin/customers/{idpel}/power", f"/api/v1/admin/customers/{BUDI_IDPEL}/power",
     {"power_va": 2200, "reason": "matrix test"}, STAFF),
    *[("POST", f"/api/v1/admin/customers/{{idpel}}/{verb}", f"/api/v1/admin/customers/{BUDI_IDPEL}/{verb}",
       {"reason": "matrix test"}, STAFF) for verb in ("block", "unblock", "close")],
    ("POST", "/api/v1/admin/meters", "/api/v1/admin/meters",
     {"meter_number": "14500000014", "sgc": "123456", "krn": 2, "reason": "matrix test"}, STAFF),
    ("GET", "/api/v1/admin/meters", "/api/v1/admin/meters", None, STAFF),
    ("GET", "/api/v1/admin/meters/{meter_number}", f"/api/v1/admin/meters/{SITI_METER}", None, STAFF),
    ("POST", "/api/v1/admin/meters/{meter_number}/install", "/api/v1/admin/meters/14500000014/install",
     {"idpel": "541999000001", "reason": "matrix test"}, STAFF),
    *[("POST", f"/api/v1/admin/meters/{{meter_number}}/{verb}", f"/api/v1/admin/meters/{SITI_METER}/{verb}",
       {"reason": "matrix test"}, STAFF) for verb in ("remove", "broken")],
    ("GET", "/api/v1/admin/units", "/api/v1/admin/units", None, STAFF),
    ("POST", "/api/v1/admin/units", "/api/v1/admin/units",
     {"code": "33", "uid_name": "UID JATENG", "up3_name": "UP3 SEMARANG", "reason": "matrix test"}, {"admin"}),
    ("PUT", "/api/v1/admin/units/{code}/rates/{tariff}", "/api/v1/admin/units/54/rates/R1-1300",
     {"pbjt_rate": "0.03", "reason": "matrix test"}, {"admin"}),
    ("POST", "/api/v1/admin/units/{code}/default", "/api/v1/admin/units/51/default",
     {"reason": "matrix test"}, {"admin"}),
    ("GET", "/api/v1/admin/channels", "/api/v1/admin/channels", None, {"admin"}),
    ("POST", "/api/v1/admin/channels", "/api/v1/admin/channels", {"code": "LOKETX", "reason": "matrix test"},
     {"admin"}),
    ("PATCH", "/api/v1/admin/channels/{code}", "/api/v1/admin/channels/MINIMART",
     {"purchases_per_minute": 0, "reason": "matrix test"}, {"admin"}),
    ("POST", "/api/v1/admin/channels/{code}/rotate-key", "/api/v1/admin/channels/MINIMART/rotate-key",
     {"reason": "matrix test"}, {"admin"}),
    ("POST", "/api/v1/admin/channels/{code}/disable", "/api/v1/admin/channels/MINIMART/disable",
     {"reason": "matrix test"}, {"admin"}),
    ("GET", "/api/v1/admin/tariffs", "/api/v1/admin/tariffs", None, STAFF),
    ("GET", "/api/v1/admin/tariffs/{code}/versions", "/api/v1/admin/tariffs/R1-1300/versions", None, STAFF),
    ("POST", "/api/v1/admin/tariffs/{code}/versions", "/api/v1/admin/tariffs/R1-1300/versions",
     {"rp_per_kwh": "1500", "effective_from": "2099-01-01T00:00:00+07:00", "reason": "matrix test"}, {"admin"}),
    ("GET", "/api/v1/admin/vending-keys", "/api/v1/admin/vending-keys", None, {"admin"}),
    ("POST", "/api/v1/admin/vending-keys", "/api/v1/admin/vending-keys",
     {"sgc": "345678", "krn": 1, "wrapped_key_hex": "00" * 16, "reason": "matrix test"}, {"admin"}),
    ("GET", "/api/v1/operator/gateway-partners", "/api/v1/operator/gateway-partners", None, STAFF),
    ("POST", "/api/v1/operator/gateway-partners", "/api/v1/operator/gateway-partners",
     {"channel": "MATRIXH2H", "port": 19178, "switcher_id": "MATRIX1", "pcid": "7700077",
      "bank_codes": ["0770001"], "sources": ["127.0.0.1/32"]}, {"admin"}),
    ("DELETE", "/api/v1/operator/gateway-partners/{channel}", "/api/v1/operator/gateway-partners/NOSUCH",
     None, {"admin"}),
    *[("GET", f"/api/v1/operator/dashboard/{name}", f"/api/v1/operator/dashboard/{name}", None, STAFF)
      for name in ("sales", "causes", "tickets", "campaigns")],
    ("GET", "/api/v1/operator/dashboard/weekly", "/api/v1/operator/dashboard/weekly?unit=54", None, STAFF),
    # KEEP LAST: log-out revokes the (process-wide cached) bearer token it is called with.
    ("POST", "/api/v1/auth/logout", "/api/v1/auth/logout", None, USERS_ONLY),
]  # fmt: skip


def headers_for(api: Api, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if role == "channel":
        return api.channel()
    return api.user(USERS[role])


def test_matrix_covers_every_endpoint_of_the_openapi_document(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert documented == {(m, p) for m, p, _, _, _ in ENDPOINTS}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_against_each_endpoint(client: TestClient, api: Api, role: str) -> None:
    headers = headers_for(api, role)
    for method, _template, path, body, allowed in ENDPOINTS:
        response = client.request(method, path, json=body, headers=headers)
        where = f"{role} {method} {path} {body}"
        if role in allowed:
            assert response.status_code not in (401, 403), f"{where}: {response.text}"
            assert response.status_code < 500, where
        elif role == "anonymous" or allowed is SIGNED_ONLY:
            assert response.status_code == 401, where
        else:
            assert response.status_code == 403, where


PAGES: list[tuple[str, set[str]]] = [
    ("/", {"anonymous"}),  # signed-in users are sent to their home page
    ("/masuk", EVERYONE - {"channel"}),
    ("/akun", {"customer"}),
    ("/akun/kata-sandi", {"customer"}),
    ("/lupa-sandi", EVERYONE - {"channel"}),
    ("/konsol/reset-sandi", STAFF),
    ("/beli", {"customer"}),
    ("/riwayat", {"customer"}),
    ("/token-gagal", {"customer"}),
    ("/pengaduan", {"customer"}),
    (f"/meter/{BUDI_METER}", USERS_ONLY),
    (f"/meter/{SITI_METER}", STAFF),  # budi may not open siti's meter
    ("/konsol", STAFF),
    ("/konsol/audit", STAFF),
    ("/konsol/data?q=budi", STAFF),
    ("/konsol/data/referensi", STAFF),
    ("/konsol/data/loket", {"admin"}),
    ("/konsol/h2h", STAFF),
    ("/konsol/persetujuan", STAFF),
    ("/konsol/kampanye", STAFF),
    ("/konsol/tiket", STAFF),
    ("/konsol/tiket?mine=1", STAFF),
    ("/konsol/audit.csv", STAFF),
    ("/konsol/obrolan", STAFF),
    ("/obrolan", {"customer"}),
    ("/konsol/dasbor", STAFF),
    ("/konsol/dasbor/mingguan", STAFF),
    ("/konsol/dasbor/mingguan.pdf", STAFF),
    ("/konsol/dasbor/csv/causes-day", STAFF),
]


@pytest.mark.parametrize("role", ["anonymous", "customer", "operator", "admin"])
def test_each_role_against_each_page(client: TestClient, role: str) -> None:
    if role != "anonymous":
        signed_in(client, USERS[role])
    for path, allowed in PAGES:
        response = client.get(path, follow_redirects=False)
        if role in allowed:
            assert response.status_code == 200, f"{role} {path}: {response.status_code}"
        elif role == "anonymous":
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/masuk?next=")
        elif path == "/":
            assert response.status_code == 303
        else:
            assert response.status_code in (403, 404), f"{role} {path}: {response.status_code}"
