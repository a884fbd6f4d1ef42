"""The server-rendered pages: log-in, the customer's buy flow, the virtual meter, complaints,
the operator console, language switching and CSRF."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from prabayar.config import Settings
from prabayar.web.app import SESSION_COOKIE
from prabayar.web.deps import Limits
from prabayar.web.ratelimit import LoginPolicy
from prabayar.web.services import Services

from .conftest import (
    BUDI_METER,
    DEMO_PASSWORDS,
    JOKO_IDPEL,
    SITI_METER,
    Api,
    make_client,
    signed_in,
)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def login(client: TestClient, username: str, password: str | None = None, next: str = "") -> str:
    token = csrf(client.get("/masuk").text)
    response = client.post(
        "/masuk",
        data={
            "csrf_token": token,
            "username": username,
            "password": password or DEMO_PASSWORDS[username],
            "next": next,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def buy(client: TestClient, meter: str = BUDI_METER, nominal: int = 50_000) -> tuple[str, str]:
    """The whole buy flow; returns (receipt page HTML, the 20 token digits)."""
    token = csrf(client.get("/beli").text)
    breakdown = client.post("/beli/rincian", data={"csrf_token": token, "meter_number": meter, "nominal": nominal})
    assert breakdown.status_code == 200, breakdown.text
    reference = re.search(r'name="reference" value="([^"]+)"', breakdown.text)
    assert reference is not None
    paid = client.post(
        "/beli/bayar",
        data={"csrf_token": token, "meter_number": meter, "nominal": nominal, "reference": reference.group(1)},
        follow_redirects=False,
    )
    assert paid.status_code == 303 and paid.headers["location"].startswith("/struk/")
    receipt = client.get(paid.headers["location"])
    digits = re.search(r'data-testid="token">([0-9 ]+)<', receipt.text)
    assert digits is not None
    return receipt.text, digits.group(1).replace(" ", "")


def lcd(html: str) -> tuple[str, str, str]:
    def grab(testid: str) -> str:
        found = re.search(rf'data-testid="{testid}">([^<]*)<', html)
        assert found is not None
        return found.group(1).strip()

    return grab("lcd-main"), grab("lcd-sub"), grab("credit")


def test_login_redirects_each_role_home(client: TestClient) -> None:
    assert login(client, "budi") == "/akun"
    client.cookies.clear()
    assert login(client, "operator") == "/konsol"


def test_login_follows_only_local_next(client: TestClient) -> None:
    assert login(client, "budi", next="/riwayat") == "/riwayat"
    client.cookies.clear()
    assert login(client, "budi", next="//evil.example/x") == "/akun"
    client.cookies.clear()
    assert login(client, "budi", next="https://evil.example/") == "/akun"


def test_session_cookie_is_secure_httponly_and_lax(client: TestClient) -> None:
    client.get("/masuk")
    response = client.post(
        "/masuk",
        data={"csrf_token": csrf(client.get("/masuk").text), "username": "budi", "password": DEMO_PASSWORDS["budi"]},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_wrong_password_shows_the_form_again(client: TestClient) -> None:
    token = csrf(client.get("/masuk").text)
    response = client.post("/masuk", data={"csrf_token": token, "username": "budi", "password": "nope"})
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in response.text
    assert client.get("/akun", follow_redirects=False).status_code == 303


def test_forms_without_the_csrf_token_are_refused(client: TestClient) -> None:
    response = client.post("/masuk", data={"username": "budi", "password": DEMO_PASSWORDS["budi"]})
    assert response.status_code == 403
    assert "kedaluwarsa" in response.text
    signed_in(client, "budi")
    forged = client.post("/beli/rincian", data={"csrf_token": "forged", "meter_number": BUDI_METER, "nominal": 50_000})
    assert forged.status_code == 403


def test_page_login_is_rate_limited(settings: Settings, services: Services) -> None:
    with make_client(settings, services, Limits(login=LoginPolicy(free_per_user_client=1, base_delay=60))) as client:
        for _ in range(2):
            token = csrf(client.get("/masuk").text)
            client.post("/masuk", data={"csrf_token": token, "username": "siti", "password": "x"})
        token = csrf(client.get("/masuk").text)
        response = client.post(
            "/masuk",
            data={"csrf_token": token, "username": "siti", "password": DEMO_PASSWORDS["siti"]},
        )
        assert response.status_code == 429
        assert "Terlalu banyak percobaan" in response.text


def test_logout_ends_the_session_even_for_a_copied_cookie(client: TestClient) -> None:
    # a fresh log-in of its own: signed_in() shares one cached session per user across tests
    token = csrf(client.get("/masuk").text)
    response = client.post(
        "/masuk",
        data={"csrf_token": token, "username": "budi", "password": DEMO_PASSWORDS["budi"]},
        follow_redirects=False,
    )
    assert response.status_code == 303
    copied = next(c for c in client.cookies.jar if c.name == SESSION_COOKIE)
    assert client.get("/akun", follow_redirects=False).status_code == 200
    token = csrf(client.get("/akun").text)
    assert client.post("/keluar", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/akun", follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.jar.set_cookie(copied)  # the cookie as it was before "Keluar"
    assert client.get("/akun", follow_redirects=False).status_code == 303


def test_my_meters_lists_only_mine(client: TestClient) -> None:
    signed_in(client, "budi")
    page = client.get("/akun").text
    assert BUDI_METER in page and SITI_METER not in page


def test_buy_flow_breakdown_then_receipt(client: TestClient) -> None:
    signed_in(client, "budi")
    token = csrf(client.get("/beli").text)
    breakdown = client.post(
        "/beli/rincian", data={"csrf_token": token, "meter_number": BUDI_METER, "nominal": 50_000}
    ).text
    assert "Rincian harga" in breakdown and "PBJT-TL" in breakdown
    assert re.search(r'data-testid="total">Rp [0-9.]+<', breakdown)
    receipt, digits = buy(client)
    assert "STRUK" in receipt or "NO METER" in receipt
    assert len(digits) == 20
    history = client.get("/riwayat").text
    assert " ".join(digits[i : i + 4] for i in range(0, 20, 4)) in history


def test_paying_twice_from_one_confirmation_buys_once(client: TestClient) -> None:
    signed_in(client, "budi")
    token = csrf(client.get("/beli").text)
    breakdown = client.post(
        "/beli/rincian", data={"csrf_token": token, "meter_number": BUDI_METER, "nominal": 20_000}
    ).text
    reference = re.search(r'name="reference" value="([^"]+)"', breakdown)
    assert reference is not None
    form = {"csrf_token": token, "meter_number": BUDI_METER, "nominal": 20_000, "reference": reference.group(1)}
    first = client.post("/beli/bayar", data=form, follow_redirects=False)
    second = client.post("/beli/bayar", data=form, follow_redirects=False)
    assert first.headers["location"] == second.headers["location"]


def test_buy_errors_are_shown_on_the_form(client: TestClient) -> None:
    signed_in(client, "budi")
    token = csrf(client.get("/beli").text)
    response = client.post("/beli/rincian", data={"csrf_token": token, "meter_number": BUDI_METER, "nominal": 30_000})
    assert response.status_code == 422
    assert "NOMINAL PEMBELIAN TIDAK TERDAFTAR" in response.text and "0013" in response.text


def test_a_customer_cannot_buy_for_or_see_someone_elses_meter(client: TestClient, api: Api) -> None:
    sold = api.buy("P-1", identifier=SITI_METER)
    signed_in(client, "budi")
    token = csrf(client.get("/beli").text)
    response = client.post("/beli/rincian", data={"csrf_token": token, "meter_number": SITI_METER, "nominal": 50_000})
    assert response.status_code == 404
    assert client.get(f"/struk/{sold['reference_number']}").status_code == 404
    assert client.get(f"/meter/{SITI_METER}").status_code == 404


def test_virtual_meter_accepts_the_token_and_rejects_a_wrong_digit(client: TestClient) -> None:
    signed_in(client, "budi")
    _, digits = buy(client)
    before = lcd(client.get(f"/meter/{BUDI_METER}").text)
    assert before[2] == "0 kWh" or before[2].startswith("0")
    page = client.get(f"/meter/{BUDI_METER}").text
    token = csrf(page)
    grouped = " ".join(digits[i : i + 4] for i in range(0, 20, 4))
    accepted = client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": grouped})
    main, _sub, credit = lcd(accepted.text)
    assert main == "BENAR"
    assert credit != before[2] and not credit.startswith("0 ")
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    rejected = client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": wrong})
    assert lcd(rejected.text)[0] == "GAGAL"
    assert lcd(rejected.text)[2] == credit
    replay = client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": digits})
    assert lcd(replay.text)[0] != "BENAR"
    assert lcd(replay.text)[2] == credit


def test_virtual_meter_state_is_kept_server_side(client: TestClient, settings: Settings, services: Services) -> None:
    signed_in(client, "budi")
    _, digits = buy(client)
    token = csrf(client.get(f"/meter/{BUDI_METER}").text)
    client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": digits})
    path = settings.data_dir / "meters" / f"{BUDI_METER}.json"
    document = json.loads(path.read_text())
    assert document["meter_number"] == BUDI_METER
    assert set(document["decoder_key"]) == {"algorithm", "scheme", "sealed"}
    key = services.vending.meter_key(BUDI_METER, actor="test", purpose="test").decoder_key
    assert key.reveal().hex() not in path.read_text().lower()
    # A restarted app (new process state) still has the credit and refuses the replay.
    with make_client(settings, services) as fresh:
        signed_in(fresh, "budi")
        page = fresh.get(f"/meter/{BUDI_METER}").text
        assert lcd(page)[2] == lcd(client.get(f"/meter/{BUDI_METER}").text)[2]
        replay = fresh.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": csrf(page), "keys": digits})
        assert lcd(replay.text)[0] != "BENAR"


def test_virtual_meter_service_code_and_english(client: TestClient) -> None:
    signed_in(client, "budi")
    client.get("/bahasa/en")
    token = csrf(client.get(f"/meter/{BUDI_METER}").text)
    response = client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": "75"})
    main, sub, _ = lcd(response.text)
    assert BUDI_METER in (main + sub).replace(" ", "")
    assert "Virtual meter" in response.text


def test_token_failed_page_explains_the_causes(client: TestClient) -> None:
    signed_in(client, "budi")
    page = client.get("/token-gagal").text
    assert "20 digit" in page and "PERIKSA" in page and "USED" in page


def test_complaint_is_filed_and_listed(client: TestClient) -> None:
    signed_in(client, "budi")
    token = csrf(client.get("/pengaduan").text)
    invalid = client.post(
        "/pengaduan",
        data={"csrf_token": token, "meter_number": BUDI_METER, "category": "typo", "description": "short"},
    )
    assert invalid.status_code == 422
    filed = client.post(
        "/pengaduan",
        data={
            "csrf_token": token,
            "meter_number": BUDI_METER,
            "category": "typo",
            "description": "Token saya ditolak dengan GAGAL dua kali.",
            "contact": "0812",
        },
    )
    assert filed.status_code == 200
    assert "Nomor tiket: PGD-" in filed.text
    assert re.search(r"<td[^>]*><a href=\"/pengaduan/tiket/PGD-\d{8}-\d{6}\">PGD-\d{8}-\d{6}</a></td>", filed.text)
    # The category and the status in words, in the page's language (not "typo" / "open").
    assert ">Token ditolak (GAGAL)</td>" in filed.text and ">terbuka</span>" in filed.text
    other = client.post(
        "/pengaduan",
        data={
            "csrf_token": token,
            "meter_number": SITI_METER,
            "category": "typo",
            "description": "Not my meter but trying anyway.",
        },
    )
    assert other.status_code == 404


def test_operator_console_search_and_errors(client: TestClient, api: Api) -> None:
    sold = api.buy("P-2")
    signed_in(client, "operator")
    page = client.get(f"/konsol?q={BUDI_METER}").text
    assert "BUDI SANTOSA WIJAYA" in page and sold["reference_number"] in page
    assert "BUDI SANTOSA" in client.get("/konsol?q=5410 0000 0001").text
    assert "Masukkan 11 digit" in client.get("/konsol?q=abc").text
    assert "TIDAK DITEMUKAN" in client.get("/konsol?q=549999999999").text
    assert "JOKO SUSILO" in client.get(f"/konsol?q={JOKO_IDPEL}").text


def test_operator_issues_a_management_token_with_a_reason(client: TestClient) -> None:
    signed_in(client, "operator")
    token = csrf(client.get(f"/konsol?q={BUDI_METER}").text)
    issued = client.post(
        "/konsol/token-manajemen",
        data={
            "csrf_token": token,
            "meter_number": BUDI_METER,
            "kind": "clear_tamper",
            "reason": "inspeksi selesai",
            "confirm": "yes",
        },
    )
    assert issued.status_code == 200
    assert 'data-testid="issued"' in issued.text
    missing = client.post(
        "/konsol/token-manajemen",
        data={"csrf_token": token, "meter_number": BUDI_METER, "kind": "clear_tamper", "reason": " "},
    )
    assert missing.status_code == 422 and "ALASAN WAJIB DIISI" in missing.text
    kct = client.post(
        "/konsol/token-manajemen",
        data={"csrf_token": token, "meter_number": BUDI_METER, "kind": "key_change", "reason": "rollover"},
    )
    assert kct.status_code == 403
    audit = client.get(f"/konsol/audit?meter={BUDI_METER}").text
    assert "inspeksi selesai" in audit


@pytest.mark.parametrize(("lang", "text"), [("en", "Buy a token"), ("id", "Beli token")])
def test_language_switch(client: TestClient, lang: str, text: str) -> None:
    signed_in(client, "budi")
    response = client.get(f"/bahasa/{lang}?next=/akun")
    assert response.status_code == 200
    assert text in response.text
    assert f'<html lang="{lang}">' in response.text


def test_unknown_language_is_ignored(client: TestClient) -> None:
    response = client.get("/bahasa/fr", follow_redirects=False)
    assert response.status_code == 303 and "set-cookie" not in response.headers


def test_a_form_posted_after_the_session_ended_goes_to_the_login(client: TestClient) -> None:
    # Without any session there is no CSRF token to match: refused.
    assert client.post("/beli/bayar", data={}, follow_redirects=False).status_code == 403
    # An anonymous session (valid CSRF token) posting a customer form is sent to log in.
    token = csrf(client.get("/masuk").text)
    response = client.post(
        "/beli/rincian",
        data={"csrf_token": token, "meter_number": BUDI_METER, "nominal": 50_000},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/masuk"


def test_anonymous_get_keeps_the_query_in_next(client: TestClient) -> None:
    response = client.get(f"/beli?meter={BUDI_METER}", follow_redirects=False)
    assert response.headers["location"] == f"/masuk?next=/beli%3Fmeter%3D{BUDI_METER}"
