"""The virtual meter beyond the happy path: the TID-rollover key change, unusable state files."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from prabayar.config import Settings
from prabayar.sts import BaseDate, tid_from_datetime
from prabayar.web.virtual_meters import factory_time_for

from .conftest import BUDI_METER, LEGACY_METER, Api, signed_in


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _lcd_main(html: str) -> str:
    found = re.search(r'data-testid="lcd-main">([^<]*)<', html)
    assert found is not None
    return found.group(1).strip()


def test_factory_time_of_a_meter_on_an_exhausted_base_date() -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    assert factory_time_for(BaseDate.Y2014, now) < now
    made = factory_time_for(BaseDate.Y1993, now)
    assert made < datetime(2024, 11, 24, tzinfo=UTC)
    tid_from_datetime(made, BaseDate.Y1993)  # still representable: no error


def test_rollover_key_change_then_a_purchase_is_accepted(client: TestClient, api: Api) -> None:
    signed_in(client, "admin")
    page = client.get(f"/meter/{LEGACY_METER}")
    assert page.status_code == 200
    token = _csrf(page.text)
    # The legacy meter cannot be vended until it has its key change tokens.
    refused = client.post(
        "/api/v1/channel/purchase",
        json={"channel_reference": "L-0", "identifier": LEGACY_METER, "nominal": 20_000},
        headers=api.channel(),
    )
    assert refused.json()["error"] == "key_change_required"
    asked = client.post(
        "/api/v1/operator/management-tokens",
        json={"meter_number": LEGACY_METER, "kind": "key_change", "reason": "TID rollover", "rollover": True},
        headers=api.user("admin"),
    )
    assert asked.status_code == 202, asked.text
    kct = client.post(
        f"/api/v1/operator/approvals/{asked.json()['id']}/approve", headers=api.user("supervisor")
    ).json()["tokens"]
    results = []
    for digits in kct:
        entered = client.post(f"/meter/{LEGACY_METER}/tombol", data={"csrf_token": token, "keys": digits})
        results.append(_lcd_main(entered.text))
    assert results[-1] == "BENAR", results
    sold = api.buy("L-1", identifier=LEGACY_METER)
    entered = client.post(f"/meter/{LEGACY_METER}/tombol", data={"csrf_token": token, "keys": sold["token"]})
    assert _lcd_main(entered.text) == "BENAR"


def test_a_damaged_state_file_is_reported_and_never_overwritten(client: TestClient, settings: Settings) -> None:
    path = settings.data_dir / "meters" / f"{BUDI_METER}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    signed_in(client, "budi")
    response = client.get(f"/meter/{BUDI_METER}")
    assert response.status_code == 409
    assert "berkas status meter rusak" in response.text
    assert "meter_unavailable" in response.text
    assert path.read_text() == "{not json"
