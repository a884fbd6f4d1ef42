"""Log-in for API users, ``/me``, a customer's own data, and the operator API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from prabayar.config import Settings
from prabayar.web.deps import Limits
from prabayar.web.ratelimit import Limit, LoginPolicy
from prabayar.web.services import Services

from .conftest import (
    BUDI_IDPEL,
    BUDI_METER,
    JOKO_IDPEL,
    JOKO_METER,
    LEGACY_METER,
    REPLACED_METER,
    SITI_METER,
    Api,
    assert_error,
    make_client,
)


def test_token_login_and_me(client: TestClient, api: Api) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "budi", "password": "budi-prabayar"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["role"] == "customer"
    assert body["expires_in"] > 0
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"username": "budi", "role": "customer", "idpel": BUDI_IDPEL}
    operator = client.get("/api/v1/me", headers=api.user("operator")).json()
    assert operator == {"username": "operator", "role": "operator", "idpel": None}


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "budi", "password": "wrong"},
        {"username": "nobody", "password": "budi-prabayar"},
    ],
)
def test_wrong_credentials_are_401_without_saying_which(client: TestClient, credentials: dict[str, str]) -> None:
    response = client.post("/api/v1/auth/token", json=credentials)
    body = assert_error(response, 401, "0005", "invalid_credentials")
    assert "password" in body["message_en"]


def test_bad_or_forged_bearer_tokens(client: TestClient) -> None:
    for header in ("Bearer nonsense", "Bearer ", "Basic abc"):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["response_code"] == "0005"


def test_login_is_rate_limited_per_user(settings: Settings, services: Services) -> None:
    limits = Limits(login=LoginPolicy(free_per_user_client=2, base_delay=60))
    with make_client(settings, services, limits) as client:
        for _ in range(3):
            wrong = client.post("/api/v1/auth/token", json={"username": "siti", "password": "x"})
            assert wrong.status_code == 401
        blocked = client.post("/api/v1/auth/token", json={"username": "siti", "password": "siti-prabayar"})
        assert_error(blocked, 429, "0005", "rate_limited")
        # Another user is not affected.
        ok = client.post("/api/v1/auth/token", json={"username": "budi", "password": "budi-prabayar"})
        assert ok.status_code == 200


def test_a_customer_sees_only_their_own_meters_and_purchases(client: TestClient, api: Api) -> None:
    mine = api.buy("U-1", identifier=BUDI_METER)
    theirs = api.buy("U-2", identifier=SITI_METER)
    meters = client.get("/api/v1/me/meters", headers=api.user("budi")).json()["meters"]
    assert [m["meter_number"] for m in meters] == [BUDI_METER]
    assert meters[0]["status"] == "active"
    purchases = client.get("/api/v1/me/purchases", headers=api.user("budi")).json()["purchases"]
    tokens = [p["token"] for p in purchases]
    assert mine["token"] in tokens
    assert theirs["token"] not in tokens
    siti = client.get("/api/v1/me/purchases", headers=api.user("siti")).json()["purchases"]
    assert [p["token"] for p in siti] == [theirs["token"]]


def test_operator_finds_customers_by_idpel_or_meter(client: TestClient, api: Api) -> None:
    for identifier in (BUDI_IDPEL, BUDI_METER):
        response = client.get(f"/api/v1/operator/customers/{identifier}", headers=api.user("operator"))
        assert response.status_code == 200
        body = response.json()
        assert body["idpel"] == BUDI_IDPEL
        assert body["address"]
        assert [m["meter_number"] for m in body["meters"]] == [BUDI_METER]
    meter = client.get(f"/api/v1/operator/meters/{BUDI_METER}", headers=api.user("operator"))
    assert meter.json()["meter_number"] == BUDI_METER
    # A blocked customer is still found by IDPEL (the inquiry would refuse to sell).
    blocked = client.get(f"/api/v1/operator/customers/{JOKO_IDPEL}", headers=api.user("operator"))
    assert blocked.status_code == 200
    assert blocked.json()["meters"][0]["customer_status"] == "blocked"


def test_operator_finds_blocked_customers_and_replaced_meters_by_meter_number(client: TestClient, api: Api) -> None:
    # The inquiry refuses both (0077, 0014); an operator still has to see who it is.
    by_meter = client.get(f"/api/v1/operator/meters/{JOKO_METER}", headers=api.user("operator"))
    assert by_meter.status_code == 200
    assert by_meter.json()["meter_number"] == JOKO_METER
    assert by_meter.json()["customer_status"] == "blocked"
    customer = client.get(f"/api/v1/operator/customers/{JOKO_METER}", headers=api.user("operator"))
    assert customer.json()["idpel"] == JOKO_IDPEL
    replaced = client.get(f"/api/v1/operator/meters/{REPLACED_METER}", headers=api.user("operator"))
    assert replaced.status_code == 200
    assert replaced.json()["meter_number"] == REPLACED_METER
    assert replaced.json()["status"] == "replaced"
    # The channel still may not sell to either.
    refused = client.post("/api/v1/channel/inquiry", json={"identifier": JOKO_METER}, headers=api.channel())
    assert_error(refused, 403, "0077")


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/operator/customers/549999999999", 404, "0015"),
        ("/api/v1/operator/customers/14100000011", 404, "0014"),
        ("/api/v1/operator/meters/14100000011", 404, "0014"),
        ("/api/v1/operator/meters/123", 422, "0030"),
        ("/api/v1/operator/purchases?identifier=abc", 422, "0030"),
        ("/api/v1/operator/audit?limit=0", 422, "0030"),
    ],
)
def test_operator_lookup_errors(client: TestClient, api: Api, path: str, status: int, code: str) -> None:
    assert_error(client.get(path, headers=api.user("operator")), status, code)


def test_operator_purchases_and_audit_log(client: TestClient, api: Api) -> None:
    sold = api.buy("U-3")
    purchases = client.get(f"/api/v1/operator/purchases?identifier={BUDI_METER}", headers=api.user("operator")).json()[
        "purchases"
    ]
    assert purchases[0]["token"] == sold["token"]
    audit = client.get(f"/api/v1/operator/audit?meter_number={BUDI_METER}", headers=api.user("operator")).json()[
        "entries"
    ]
    assert audit and all(e["meter_number"] == BUDI_METER for e in audit)
    assert any(e["action"].startswith("purchase") or "sale" in e["action"] for e in audit)
    by_actor = client.get("/api/v1/operator/audit?actor=nobody", headers=api.user("admin"))
    assert by_actor.json()["entries"] == []


def test_management_tokens_need_a_reason_and_are_audited(client: TestClient, api: Api) -> None:
    response = client.post(
        "/api/v1/operator/management-tokens",
        json={"meter_number": BUDI_METER, "kind": "clear_tamper", "reason": "inspection OK, ticket 7"},
        headers=api.user("operator"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "clear_tamper" and body["operator"] == "operator"
    assert len(body["tokens"]) == 1 and len(body["tokens"][0]) == 20
    audit = client.get(f"/api/v1/operator/audit?meter_number={BUDI_METER}", headers=api.user("operator")).json()[
        "entries"
    ]
    assert audit[0]["actor"] == "operator"
    assert "inspection OK, ticket 7" in str(audit[0]["detail"])


def test_power_limit_and_clear_credit(client: TestClient, api: Api) -> None:
    limit = client.post(
        "/api/v1/operator/management-tokens",
        json={"meter_number": BUDI_METER, "kind": "set_power_limit", "reason": "daya 1300", "watts": 1300},
        headers=api.user("operator"),
    )
    assert limit.status_code == 200 and limit.json()["kind"]
    credit = client.post(
        "/api/v1/operator/management-tokens",
        json={"meter_number": BUDI_METER, "kind": "clear_credit", "reason": "meter moved"},
        headers=api.user("operator"),
    )
    assert credit.status_code == 202, credit.text  # four eyes: recorded, not issued
    assert credit.json()["status"] == "pending" and credit.json()["tokens"] == []
    approval = credit.json()["id"]
    by_operator = client.post(f"/api/v1/operator/approvals/{approval}/approve", headers=api.user("operator"))
    assert by_operator.status_code == 403
    done = client.post(f"/api/v1/operator/approvals/{approval}/approve", headers=api.user("admin"))
    assert done.status_code == 200 and done.json()["status"] == "approved" and len(done.json()["tokens"]) == 1


@pytest.mark.parametrize(
    ("body", "status", "code", "slug"),
    [
        ({"kind": "clear_tamper", "reason": "   "}, 422, "0005", "reason_required"),
        ({"kind": "clear_tamper", "reason": ""}, 422, "0005", "reason_required"),
        ({"kind": "clear_tamper", "reason": "ok"}, 422, "0005", "reason_required"),
        ({"kind": "clear_tamper"}, 422, "0005", "reason_required"),
        ({"kind": "clear_tamper", "reason": "x" * 501}, 422, "0030", "invalid_request"),
        ({"kind": "set_power_limit", "reason": "no watts"}, 422, "0030", "invalid_request"),
        ({"kind": "explode", "reason": "bad kind"}, 422, "0030", "invalid_request"),
        ({"kind": "key_change", "reason": "rollover"}, 403, "0005", "forbidden"),
    ],
)
def test_management_token_errors(
    client: TestClient, api: Api, body: dict[str, object], status: int, code: str, slug: str
) -> None:
    response = client.post(
        "/api/v1/operator/management-tokens",
        json={"meter_number": BUDI_METER, **body},
        headers=api.user("operator"),
    )
    assert_error(response, status, code, slug)


def test_unknown_meter_management_token(client: TestClient, api: Api) -> None:
    response = client.post(
        "/api/v1/operator/management-tokens",
        json={"meter_number": "14100000011", "kind": "clear_tamper", "reason": "test"},
        headers=api.user("operator"),
    )
    assert_error(response, 404, "0014")


def test_admin_issues_the_rollover_key_change(client: TestClient, api: Api) -> None:
    response = client.post(
        "/api/v1/operator/management-tokens",
        json={"meter_number": LEGACY_METER, "kind": "key_change", "reason": "TID rollover", "rollover": True},
        headers=api.user("admin"),
    )
    assert response.status_code == 202, response.text
    approval = response.json()["id"]
    same = client.post(f"/api/v1/operator/approvals/{approval}/approve", headers=api.user("admin"))
    assert same.status_code == 403 and same.json()["error"] == "four_eyes"
    response = client.post(f"/api/v1/operator/approvals/{approval}/approve", headers=api.user("supervisor"))
    assert response.status_code == 200, response.text
    tokens = response.json()["tokens"]
    assert len(tokens) in (2, 4)
    assert all(len(t) == 20 for t in tokens)


def test_management_tokens_are_rate_limited(settings: Settings, services: Services) -> None:
    with make_client(settings, services, Limits(operator_tokens=Limit(1, 60))) as client:
        api = Api(client)
        body = {"meter_number": BUDI_METER, "kind": "clear_tamper", "reason": "inspected"}
        first = client.post("/api/v1/operator/management-tokens", json=body, headers=api.user("operator"))
        assert first.status_code == 200
        second = client.post("/api/v1/operator/management-tokens", json=body, headers=api.user("operator"))
        assert_error(second, 429, "0005", "rate_limited")
