"""What a person reads on the pages: one number format, words instead of machine values, the
page's own language throughout, and a way onward from every page (QA findings, each fixed)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from prabayar.web.i18n import labeller
from prabayar.web.pages.rendering import kwh, lcd_kwh
from prabayar.web.virtual_meters import event_words

from .conftest import BUDI_METER, JOKO_METER, LEGACY_METER, REPLACED_METER, Api, signed_in
from .test_pages import buy, csrf


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("13.6"), "13,6"),
        (Decimal("13.60"), "13,6"),  # the ledger's two places read like the quote's one
        (Decimal("1281.9"), "1.281,9"),
        (Decimal("12.34"), "12,34"),
        (Decimal("12.349999"), "12,34"),  # a register: cut to two places, rounded down
        (Decimal("0"), "0,0"),
        (Decimal("100"), "100,0"),
        (None, "-"),
    ],
)
def test_kwh_reads_the_same_however_many_places(value: Decimal | None, text: str) -> None:
    assert kwh(value) == text


def test_the_lcd_shows_the_register_like_the_meter_does() -> None:
    assert lcd_kwh(Decimal("13.6")) == "13.60"
    assert lcd_kwh(Decimal("0")) == "0.00"
    assert lcd_kwh(Decimal("13.599")) == "13.59"
    assert lcd_kwh(None) == "-"


def test_labels_name_machine_values_in_words_or_show_them_unchanged() -> None:
    assert labeller("id")("cause", "typo") == "Salah ketik"
    assert labeller("en")("cause", "typo") == "Typing error"
    assert labeller("id")("ticket", "visit_scheduled") == "kunjungan dijadwalkan"
    assert labeller("en")("kind", "power_limit") == "Set power limit"
    assert labeller("id")("cause", "something_new") == "something_new"
    # A complaint category reads as the customer's form named it; other codes as the cause.
    assert labeller("id")("category", "typo") == "Token ditolak (GAGAL)"
    assert labeller("en")("category", "foreign_token") == "Unknown token"


def test_meter_log_words_carry_the_numbers_in_the_readers_language() -> None:
    detail = "credit +13.6 kWh, total 13.60 kWh (TID 6786739)"
    assert event_words("token_accepted", detail, "id") == "+13,6 kWh, sisa 13,6 kWh"
    assert event_words("token_accepted", detail, "en") == "+13,6 kWh, total 13,6 kWh"
    assert event_words("unknown_code", "code '1234'", "id") == "1234"
    assert event_words("token_rejected", "TransferElectricityCredit: TID 5 already used", "id") == "(sudah dipakai)"
    assert event_words("token_rejected", "crc: the token fails its check", "en").startswith("(wrong token")
    assert event_words("relay_closed", "relay closed: supply on", "id") == ""
    assert event_words("token_accepted", "something else entirely", "id") == ""


def test_history_shows_kwh_without_a_trailing_zero(client: TestClient) -> None:
    signed_in(client, "budi")
    buy(client, nominal=20_000)
    page = client.get("/riwayat").text
    assert '<td class="num" data-label="kWh">13,6</td>' in page
    assert "13,60" not in page


def test_virtual_meter_lcd_is_device_format_and_the_log_speaks_the_page_language(client: TestClient) -> None:
    signed_in(client, "budi")
    _, digits = buy(client, nominal=20_000)
    token = csrf(client.get(f"/meter/{BUDI_METER}").text)
    page = client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": digits}).text
    credit = re.search(r'data-testid="credit">([^<]*)<', page)
    assert credit is not None and re.fullmatch(r"\d+\.\d\d kWh", credit.group(1))
    assert "13,6 kWh" in page  # the facts beside the device: Indonesian comma
    assert "Token diterima" in page and "+13,6 kWh, sisa" in page
    assert "Listrik menyala" in page
    for english in ("relay closed", "credit +", "TID memory at"):
        assert english not in page
    english_page = client.get("/bahasa/en?next=/meter/" + BUDI_METER).text
    assert "Token accepted" in english_page and "Power on" in english_page
    client.get("/bahasa/id")


def test_header_names_the_role_in_the_page_language(client: TestClient) -> None:
    signed_in(client, "budi")
    assert "budi · pelanggan" in client.get("/akun").text
    assert "budi · customer" in client.get("/bahasa/en?next=/akun").text
    client.get("/bahasa/id")


def test_login_page_says_where_the_demo_accounts_are(client: TestClient) -> None:
    page = client.get("/masuk").text
    assert 'data-testid="demo-hint"' in page and "make run" in page


def test_diagnosis_names_the_cause_and_confidence_in_words(client: TestClient) -> None:
    signed_in(client, "budi")
    _, digits = buy(client, nominal=20_000)
    wrong = digits[:7] + str((int(digits[7]) + 1) % 10) + digits[8:]
    token = csrf(client.get("/token-gagal").text)
    page = client.post(
        "/token-gagal", data={"csrf_token": token, "meter_number": BUDI_METER, "token": wrong, "display": "GAGAL"}
    ).text
    assert 'data-cause="typo"' in page
    assert "Hasil: Salah ketik" in page
    assert '<span class="badge" title="typo">pasti</span>' in page
    assert ">typo<" not in page and ">certain<" not in page
    candidates = page[page.index("<tbody>", page.index('data-testid="diagnosis"')) : page.index("</tbody>")]
    assert "TransferElectricityCredit" not in candidates and " sold " not in candidates  # support's English


def test_ticket_pages_use_words_and_lead_back(client: TestClient) -> None:
    signed_in(client, "budi")
    token = csrf(client.get("/pengaduan").text)
    client.post(
        "/pengaduan",
        data={"csrf_token": token, "meter_number": BUDI_METER, "category": "broken_meter",
              "description": "Layar meter mati sejak pagi."},
    )  # fmt: skip
    listed = client.get("/pengaduan").text
    number = re.search(r'href="/pengaduan/tiket/(PGD-\d{8}-\d{6})"', listed)
    assert number is not None
    mine = client.get(f"/pengaduan/tiket/{number.group(1)}").text
    assert "Meter rusak / mati" in mine and ">terbuka<" in mine and ">dibuat<" in mine
    assert 'href="/pengaduan"' in mine and "Kembali ke pengaduan saya" in mine
    assert '<a href="/pengaduan" aria-current="page">' in mine
    assert ">open<" not in mine and ">opened<" not in mine and ">broken_meter<" not in mine


def test_a_closed_ticket_offers_no_more_steps(client: TestClient) -> None:
    signed_in(client, "operator")
    desk = client.get("/konsol/tiket").text
    token = csrf(desk)
    opened = client.post(
        "/konsol/tiket",
        data={"csrf_token": token, "meter_number": BUDI_METER, "channel": "cc123", "description": "Tanya saldo"},
        follow_redirects=False,
    )
    target = opened.headers["location"]
    open_page = client.get(target).text
    # The desk keeps a ticket number and its due time on one line each.
    desk_after = client.get("/konsol/tiket").text
    assert f'<td class="nowrap"><a href="{target}">' in desk_after
    assert 'data-testid="ticket-actions"' in open_page
    client.post(f"{target}/resolve", data={"csrf_token": token, "text": "dijelaskan lewat telepon"})
    client.post(f"{target}/close", data={"csrf_token": token})
    closed = client.get(target).text
    assert 'data-testid="ticket-status">ditutup<' in closed
    assert 'data-testid="ticket-actions"' not in closed and 'data-testid="ticket-closed"' in closed
    assert ">ditutup</td>" in closed  # the history's status column too


def test_operator_nav_links_the_ticket_desk(client: TestClient) -> None:
    signed_in(client, "operator")
    page = client.get("/konsol").text
    assert '<a href="/konsol/tiket" >Tiket pengaduan</a>' in page
    desk = client.get("/konsol/tiket").text
    assert 'href="/konsol/tiket" aria-current="page"' in desk
    assert 'href="/konsol" aria-current="page"' not in desk


def test_console_names_the_issued_kind_and_hides_identifiers(client: TestClient) -> None:
    signed_in(client, "operator")
    start = client.get("/konsol").text
    assert 'data-testid="tip"' in start and "`" not in start and BUDI_METER in start
    page = client.get(f"/konsol?q={BUDI_METER}").text
    assert "set_power_limit" not in re.sub(r'value="set_power_limit"', "", page)
    issued = client.post(
        "/konsol/token-manajemen",
        data={"csrf_token": csrf(page), "meter_number": BUDI_METER, "kind": "set_power_limit",
              "watts": "1300", "reason": "batas daya 1300 VA", "confirm": "yes"},
    ).text  # fmt: skip
    assert "Token manajemen diterbitkan: Atur batas daya" in issued
    assert "kind.power_limit" not in issued


@pytest.mark.parametrize(("identifier", "name"), [(JOKO_METER, "JOKO SUSILO"), (REPLACED_METER, "ANDI WIBOWO")])
def test_console_finds_blocked_customers_and_replaced_meters_by_meter_number(
    client: TestClient, identifier: str, name: str
) -> None:
    signed_in(client, "operator")
    page = client.get(f"/konsol?q={identifier}").text
    assert f"Pelanggan: {name}" in page
    assert 'role="alert"' not in page


def test_audit_page_filters_by_meter(client: TestClient) -> None:
    signed_in(client, "operator")
    page = client.get(f"/konsol?q={BUDI_METER}").text
    client.post(
        "/konsol/token-manajemen",
        data={
            "csrf_token": csrf(page),
            "meter_number": BUDI_METER,
            "kind": "clear_tamper",
            "reason": "audit filter",
            "confirm": "yes",
        },
    )
    audit = client.get(f"/konsol/audit?meter={BUDI_METER}").text
    assert f'name="meter" value="{BUDI_METER}"' in audit and 'href="/konsol/audit"' in audit
    rows = re.findall(r"<tr><td class=\"nowrap\">.*?</tr>", audit)
    assert rows and all(f"<td>{BUDI_METER}</td>" in row for row in rows)
    assert any("audit filter" in row for row in rows)
    assert 'name="meter" value=""' in client.get("/konsol/audit").text


def test_a_refused_token_on_the_virtual_meter_leads_to_the_check(client: TestClient) -> None:
    signed_in(client, "budi")
    _, digits = buy(client, nominal=20_000)
    token = csrf(client.get(f"/meter/{BUDI_METER}").text)
    accepted = client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": digits}).text
    assert 'data-testid="why-rejected"' not in accepted
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    refused = client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": wrong}).text
    link = re.search(r'data-testid="why-rejected">[^<]*<a href="([^"]+)"', refused)
    assert link is not None
    target = link.group(1).replace("&amp;", "&")
    assert target == f"/token-gagal?meter={BUDI_METER}&tampilan=GAGAL"
    form = client.get(target).text
    assert f'<option value="{BUDI_METER}" selected>' in form
    assert 'name="display" value="GAGAL"' in form
    code = client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": "37"}).text
    assert 'data-testid="why-rejected"' not in code  # a service code is no refusal


def test_admin_moves_a_1993_meter_to_the_next_base_date_from_the_console(client: TestClient, api: Api) -> None:
    """The demo's legacy meter needs the TID-rollover key change; a plain one leaves it unsellable."""
    signed_in(client, "operator")
    assert 'name="rollover"' not in client.get(f"/konsol?q={LEGACY_METER}").text  # admins only
    signed_in(client, "admin")
    page = client.get(f"/konsol?q={LEGACY_METER}").text
    assert 'name="rollover"' in page and "1993" in page
    sale = {"identifier": LEGACY_METER, "nominal": 20_000}
    refused = client.post("/api/v1/channel/purchase", headers=api.channel(), json={"channel_reference": "L-1", **sale})
    assert refused.json()["error"] == "key_change_required"
    issued = client.post(
        "/konsol/token-manajemen",
        data={"csrf_token": csrf(page), "meter_number": LEGACY_METER, "kind": "key_change",
              "rollover": "yes", "reason": "TID rollover 2024", "confirm": "yes"},
    ).text  # fmt: skip
    assert 'data-testid="pending"' in issued and "id 1" in issued  # four eyes: nothing issued yet
    assert '<span class="token">' not in issued
    signed_in(client, "supervisor")  # the second admin approves on the approvals page
    listing = client.get("/konsol/persetujuan").text
    assert 'action="/konsol/persetujuan/1/setujui"' in listing and "TID rollover 2024" in listing
    approved = client.post("/konsol/persetujuan/1/setujui", data={"csrf_token": csrf(listing)}).text
    assert "disetujui" in approved and len(re.findall(r"(?:[0-9]{4} ){4}[0-9]{4}", approved)) == 2
    sold = client.post("/api/v1/channel/purchase", headers=api.channel(), json={"channel_reference": "L-2", **sale})
    assert sold.status_code == 200, sold.text


def test_switching_language_keeps_the_search(client: TestClient) -> None:
    signed_in(client, "operator")
    page = client.get(f"/konsol?q={BUDI_METER}").text
    link = re.search(r'<a class="lang" href="([^"]+)"', page)
    assert link is not None
    target = link.group(1).replace("&amp;", "&")
    assert target == f"/bahasa/en?next=/konsol%3Fq%3D{BUDI_METER}"
    switched = client.get(target, follow_redirects=False)
    assert switched.headers["location"] == f"/konsol?q={BUDI_METER}"
    assert "Customer: BUDI SANTOSA WIJAYA" in client.get(switched.headers["location"]).text
    client.get("/bahasa/id")


@pytest.mark.parametrize("watts", ["-5", "1.5", "abc"])
def test_a_power_limit_that_is_no_number_is_called_so(client: TestClient, watts: str) -> None:
    signed_in(client, "operator")
    page = client.get(f"/konsol?q={BUDI_METER}").text
    answer = client.post(
        "/konsol/token-manajemen",
        data={"csrf_token": csrf(page), "meter_number": BUDI_METER, "kind": "set_power_limit",
              "watts": watts, "reason": "batas daya"},
    )  # fmt: skip
    assert answer.status_code == 422 and "(0030)" in answer.text
    assert "Batas daya harus berupa angka watt" in answer.text and "wajib diisi" not in answer.text
    assert f'name="watts" inputmode="numeric" maxlength="9" value="{watts}"' in answer.text
