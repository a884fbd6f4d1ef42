"""The channel API for payment points: inquiry, purchase, confirm, advice, reprint, and every
PLN response code they can give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from prabayar.config import Settings
from prabayar.sts import meter_number
from prabayar.web.services import Services

from .conftest import (
    AGUS_METER,
    BUDI_IDPEL,
    BUDI_METER,
    JOKO_METER,
    LEGACY_METER,
    REPLACED_METER,
    SITI_METER,
    Api,
    assert_error,
    make_client,
)


def test_inquiry_by_meter_number_and_by_idpel(client: TestClient, api: Api) -> None:
    for identifier in (BUDI_METER, BUDI_IDPEL):
        response = client.post("/api/v1/channel/inquiry", json={"identifier": identifier}, headers=api.channel())
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["response_code"] == "0000"
        assert body["meter_number"] == BUDI_METER
        assert body["idpel"] == BUDI_IDPEL
        assert body["name"] == "BUDI SANTOSA WIJAYA"
        assert body["tariff"] == "R1" and body["power_va"] == 1300
        assert body["monthly_cap_kwh"] == "936.00"
        assert body["price"] is None
        assert body["unsold_tokens"] == []


def test_inquiry_with_nominal_prices_the_purchase(client: TestClient, api: Api) -> None:
    response = client.post(
        "/api/v1/channel/inquiry",
        json={"identifier": BUDI_METER, "nominal": 20_000},
        headers=api.channel(),
    )
    price = response.json()["price"]
    assert price["nominal"] == 20_000
    assert price["total_paid"] == price["nominal"] + price["admin_fee"]
    parts = price["meterai"] + price["ppn"] + price["pbjt"] + price["angsuran"] + price["stroom"]
    assert parts == price["nominal"]
    assert price["kwh"] == "13.60"  # Decimal as text with two places, never a float


@pytest.mark.parametrize(
    ("identifier", "status", "code", "slug"),
    [
        ("14100000011", 404, "0014", "unknown_meter"),  # Luhn check digit wrong
        ("1499999999" + meter_number.calc_check_digit("1499999999"), 404, "0014", "unknown_meter"),
        ("549999999999", 404, "0015", "unknown_idpel"),
        (JOKO_METER, 403, "0077", "customer_blocked"),
        (REPLACED_METER, 404, "0014", "unknown_meter"),
    ],
)
def test_inquiry_errors(client: TestClient, api: Api, identifier: str, status: int, code: str, slug: str) -> None:
    response = client.post("/api/v1/channel/inquiry", json={"identifier": identifier}, headers=api.channel())
    assert_error(response, status, code, slug)


def test_luhn_failure_is_told_apart_from_an_unknown_meter(client: TestClient, api: Api) -> None:
    response = client.post("/api/v1/channel/inquiry", json={"identifier": "14100000011"}, headers=api.channel())
    assert "Luhn" in response.json()["message_en"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"identifier": "123"},
        {"identifier": "1410000001X"},
        {"identifier": BUDI_METER, "nominal": -5},
        {"identifier": BUDI_METER, "extra": 1},
    ],
)
def test_malformed_requests_get_0030(client: TestClient, api: Api, body: dict[str, object]) -> None:
    response = client.post("/api/v1/channel/inquiry", json=body, headers=api.channel())
    document = assert_error(response, 422, "0030", "invalid_request")
    assert document["detail"]


def test_channel_authentication(client: TestClient) -> None:
    body = {"identifier": BUDI_METER}
    missing = client.post("/api/v1/channel/inquiry", json=body)
    assert_error(missing, 401, "0005", "not_authenticated")
    wrong = client.post("/api/v1/channel/inquiry", json=body, headers={"X-Api-Key": "pby_demo_nope_0000000000"})
    assert_error(wrong, 401, "0031", "unregistered_channel")


def test_purchase_gives_a_token_and_a_receipt(client: TestClient, api: Api) -> None:
    body = api.buy("T-1")
    assert body["response_code"] == "0000"
    assert len(body["token"]) == 20 and body["token"].isdigit()
    assert body["token_display"].replace(" ", "") == body["token"]
    assert len(body["reference_number"]) == 32
    assert body["replayed"] is False and body["delivered"] is False
    labels = [line["label"] for line in body["receipt"]]
    assert labels[:3] == ["NO METER", "IDPEL", "NAMA"]
    assert "STROOM/TOKEN" in labels
    assert body["created_at"].endswith("Z") or "+00:00" in body["created_at"]


def test_purchase_is_idempotent_by_channel_reference(client: TestClient, api: Api) -> None:
    first = api.buy("T-2")
    again = api.buy("T-2")
    assert again["token"] == first["token"]
    assert again["reference_number"] == first["reference_number"]
    assert again["replayed"] is True
    # The same reference from another channel is another purchase.
    other = api.buy("T-2", channel="MINIMART")
    assert other["token"] != first["token"]


def test_reference_reused_for_a_different_request_is_0093(client: TestClient, api: Api) -> None:
    api.buy("T-3", nominal=20_000)
    response = client.post(
        "/api/v1/channel/purchase",
        json={"channel_reference": "T-3", "identifier": BUDI_METER, "nominal": 50_000},
        headers=api.channel(),
    )
    assert_error(response, 409, "0093", "reference_conflict")


@pytest.mark.parametrize(
    ("channel", "identifier", "nominal", "status", "code", "slug"),
    [
        ("BANKDEMO", BUDI_METER, 30_000, 422, "0013", "denomination_not_allowed"),
        ("H2HDEMO", BUDI_METER, 10_000, 422, "0041", "below_minimum"),
        ("H2HDEMO", BUDI_METER, 60_000_000, 422, "0042", "above_maximum"),
        ("H2HDEMO", AGUS_METER, 1_000_000, 422, "0047", "monthly_kwh_cap"),
        ("BANKDEMO", JOKO_METER, 20_000, 403, "0077", "customer_blocked"),
        ("BANKDEMO", "14100000011", 20_000, 404, "0014", "unknown_meter"),
        ("BANKDEMO", "549999999999", 20_000, 404, "0015", "unknown_idpel"),
        ("BANKDEMO", LEGACY_METER, 20_000, 409, "0005", "key_change_required"),
    ],
)
def test_purchase_errors(
    client: TestClient,
    api: Api,
    channel: str,
    identifier: str,
    nominal: int,
    status: int,
    code: str,
    slug: str,
) -> None:
    response = client.post(
        "/api/v1/channel/purchase",
        json={"channel_reference": f"E-{code}", "identifier": identifier, "nominal": nominal},
        headers=api.channel(channel),
    )
    assert_error(response, status, code, slug)


def test_unsold_token_shows_in_inquiry_until_confirmed(client: TestClient, api: Api) -> None:
    sold = api.buy("T-4", identifier=SITI_METER)
    inquiry = client.post("/api/v1/channel/inquiry", json={"identifier": SITI_METER}, headers=api.channel()).json()
    assert [u["token"] for u in inquiry["unsold_tokens"]] == [sold["token"]]
    # Another channel does not see this channel's unsold token.
    other = client.post(
        "/api/v1/channel/inquiry", json={"identifier": SITI_METER}, headers=api.channel("MINIMART")
    ).json()
    assert other["unsold_tokens"] == []
    confirm = client.post("/api/v1/channel/confirm", json={"channel_reference": "T-4"}, headers=api.channel())
    assert confirm.status_code == 200
    assert confirm.json() == {"response_code": "0000", "channel_reference": "T-4", "delivered": True}
    after = client.post("/api/v1/channel/inquiry", json={"identifier": SITI_METER}, headers=api.channel()).json()
    assert after["unsold_tokens"] == []


def test_advice_returns_the_lost_answer(client: TestClient, api: Api) -> None:
    sold = api.buy("T-5")
    response = client.post("/api/v1/channel/advice", json={"channel_reference": "T-5"}, headers=api.channel())
    assert response.status_code == 200
    body = response.json()
    assert body["token"] == sold["token"]
    assert body["delivered"] is True


def test_advice_and_confirm_of_an_unknown_reference_are_0092(client: TestClient, api: Api) -> None:
    for path in ("/api/v1/channel/advice", "/api/v1/channel/confirm"):
        response = client.post(path, json={"channel_reference": "NEVER"}, headers=api.channel())
        assert_error(response, 404, "0092", "unknown_reference")


def test_reprint_lists_this_channels_sales_newest_first(client: TestClient, api: Api) -> None:
    first = api.buy("T-6")
    second = api.buy("T-7")
    foreign = api.buy("T-8", channel="MINIMART")
    response = client.post("/api/v1/channel/reprint", json={"identifier": BUDI_IDPEL}, headers=api.channel())
    assert response.status_code == 200
    tokens = [p["token"] for p in response.json()["purchases"]]
    assert tokens == [second["token"], first["token"]]
    assert foreign["token"] not in tokens
    unknown = client.post("/api/v1/channel/reprint", json={"identifier": "549999999999"}, headers=api.channel())
    assert_error(unknown, 404, "0015")


def test_no_key_material_in_any_channel_response(client: TestClient, api: Api) -> None:
    body = api.buy("T-9")
    text = str(body).lower()
    for word in ("decoder_key", "vending_key", "secret", "master"):
        assert word not in text


def test_purchases_are_rate_limited_per_channel(settings: Settings, services: Services) -> None:
    # The limit is the channel row's own purchases_per_minute (0 = unlimited).
    services.vending.update_channel("admin", "BANKDEMO", "rate limit test", purchases_per_minute=2)
    services.vending.update_channel("admin", "MINIMART", "rate limit test", purchases_per_minute=0)
    with make_client(settings, services) as client:
        api = Api(client)
        api.buy("R-1")
        api.buy("R-2")
        response = client.post(
            "/api/v1/channel/purchase",
            json={"channel_reference": "R-3", "identifier": BUDI_METER, "nominal": 20_000},
            headers=api.channel(),
        )
        assert_error(response, 429, "0005", "rate_limited")
        assert int(response.headers["Retry-After"]) >= 1
        # Another channel has its own budget (here: unlimited).
        for n in range(5):
            api.buy(f"R-M{n}", channel="MINIMART")


def test_cut_off_window_gives_0090(settings: Settings) -> None:
    wib_now = datetime.now(UTC) + timedelta(hours=7)
    start = (wib_now - timedelta(minutes=30)).strftime("%H:%M")
    end = (wib_now + timedelta(minutes=30)).strftime("%H:%M")
    cut = settings.model_copy(update={"cutoff_wib": f"{start}-{end}"})
    services = Services.from_settings(cut)
    try:
        with make_client(cut, services) as client:
            api = Api(client)
            response = client.post("/api/v1/channel/inquiry", json={"identifier": BUDI_METER}, headers=api.channel())
            body = assert_error(response, 503, "0090", "cut_off")
            assert "CUT OFF" in body["message"]
            assert response.headers["Retry-After"]
    finally:
        services.vending.engine.dispose()
