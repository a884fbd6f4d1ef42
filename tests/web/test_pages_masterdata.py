"""Console pages for master data: forms with CSRF, notices and errors, roles."""

from __future__ import annotations

import re
import secrets

from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
from fastapi.testclient import TestClient

from prabayar.vending.demo import demo_meter_number

from .conftest import BUDI_IDPEL, signed_in

NEW_METER = demo_meter_number(50000003)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def act(client: TestClient, page: str, **fields: str) -> tuple[int, str]:
    token = csrf(client.get(page).text)
    response = client.post("/konsol/data/aksi", data={"csrf_token": token, **fields})
    return response.status_code, response.text


def test_operator_registers_installs_and_changes_a_customer(client: TestClient) -> None:
    signed_in(client, "operator")
    page = client.get("/konsol/data?q=budi")
    assert page.status_code == 200 and BUDI_IDPEL in page.text and "Data induk" in page.text
    status, html = act(
        client,
        "/konsol/data",
        action="register_customer",
        idpel="541999000001",
        name="Rina",
        address="Jl. Kenari 3",
        tariff="R1",
        power_va="1300",
        unit="",
        phone="",
        reason="pasang baru",
    )
    assert status == 200 and "Pelanggan terdaftar." in html and 'data-testid="customer"' in html
    status, html = act(
        client,
        "/konsol/data",
        action="register_meter",
        meter_number=NEW_METER,
        sgc="123456",
        tariff_index="01",
        krn="2",
        key_type="2",
        ea="07",
        dkga="04",
        base_date="2014",
        reason="delivery",
    )
    assert status == 200 and NEW_METER in html
    status, html = act(
        client,
        "/konsol/data",
        action="install_meter",
        meter_number=NEW_METER,
        idpel="541999000001",
        reason="pasang baru",
    )
    assert status == 200 and "Meter terpasang." in html
    status, html = act(
        client,
        "/konsol/data",
        action="change_power",
        idpel="541999000001",
        power_va="3500",
        tariff="",
        reason="naik daya",
    )
    assert status == 200 and "R2 (R2/3500 VA)" in html
    status, html = act(client, "/konsol/data", action="block", idpel="541999000001", reason="P2TL")
    assert status == 200 and "blocked" in html
    # errors come back on the page, in the reader's language, with their status
    status, html = act(
        client,
        "/konsol/data",
        action="register_customer",
        idpel="541999000001",
        name="Rina",
        address="X",
        tariff="R1",
        power_va="1300",
        reason="again",
    )
    assert status == 422 and "SUDAH TERDAFTAR" in html
    status, html = act(
        client, "/konsol/data", action="change_power", idpel="541999000001", power_va="abc", reason="bad"
    )
    assert status == 422 and "harus angka" in html
    # operators do not manage channels
    assert client.get("/konsol/data/loket").status_code == 403
    status, _ = act(client, "/konsol/data", action="add_channel", code="LOKETX", reason="not mine")
    assert status == 403


def test_admin_channels_key_shown_once(client: TestClient) -> None:
    signed_in(client, "admin")
    status, html = act(
        client,
        "/konsol/data/loket",
        action="add_channel",
        code="LOKETA",
        name="Loket A",
        kind="bank",
        admin_fee="2500",
        nominals="",
        purchases_per_minute="0",
        reason="baru",
    )
    assert status == 200 and 'data-testid="new-key"' in html
    key = re.search(r"<code>([^<]+)</code>", html)
    assert key and len(key.group(1)) >= 24
    listing = client.get("/konsol/data/loket").text
    assert "LOKETA" in listing and key.group(1) not in listing
    status, html = act(client, "/konsol/data/loket", action="rotate_key", code="LOKETA", reason="bocor")
    assert status == 200 and key.group(1) not in html and 'data-testid="new-key"' in html
    status, html = act(client, "/konsol/data/loket", action="disable_channel", code="LOKETA", reason="selesai")
    assert status == 200 and "Loket dinonaktifkan." in html
    status, html = act(client, "/konsol/data/loket", action="add_channel", code="x", reason="bad code")
    assert status == 422


def test_admin_requests_tariff_version_and_key_import(client: TestClient) -> None:
    signed_in(client, "admin")
    page = client.get("/konsol/data/referensi")
    assert page.status_code == 200 and "R1-1300" in page.text and 'data-testid="keys"' in page.text
    status, html = act(
        client,
        "/konsol/data/referensi",
        action="tariff_version",
        tariff="R1-1300",
        rp_per_kwh="1500.50",
        effective_from="2099-04-01T00:00",
        reason="Q2 2099",
    )
    assert status == 200 and 'data-testid="pending"' in html
    wrapped = aes_key_wrap_with_padding(secrets.token_bytes(32), secrets.token_bytes(20)).hex()
    status, html = act(
        client,
        "/konsol/data/referensi",
        action="key_import",
        sgc="345678",
        krn="1",
        wrapped_key_hex=wrapped,
        dkga="",
        reason="KMC",
    )
    assert status == 200 and 'data-testid="pending"' in html
    status, html = act(
        client,
        "/konsol/data/referensi",
        action="unit_rate",
        unit="54",
        tariff="R1-1300",
        pbjt_rate="0.03",
        reason="perda",
    )
    assert status == 200 and "R1-1300 3.00%" in html
    status, _ = act(
        client,
        "/konsol/data/referensi",
        action="tariff_version",
        tariff="R1-1300",
        rp_per_kwh="1",
        effective_from="not a date",
        reason="bad",
    )
    assert status == 422


def test_pages_need_staff_and_csrf(client: TestClient) -> None:
    assert client.get("/konsol/data", follow_redirects=False).status_code == 303
    signed_in(client, "budi")
    assert client.get("/konsol/data").status_code == 403
    signed_in(client, "operator")
    assert client.get("/konsol/data/referensi").status_code == 200
    response = client.post("/konsol/data/aksi", data={"action": "block", "idpel": BUDI_IDPEL, "reason": "no csrf"})
    assert response.status_code == 403
