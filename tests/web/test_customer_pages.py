"""Issue 14, customers: the digits typed on the virtual meter reach "Token gagal?", the price
reads as the sum it is, the receipt (date, copy, print, PDF), history search/filter/pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from prabayar.web.services import Services

from .conftest import BUDI_METER, Api, signed_in
from .test_pages import buy, csrf


def _rp(text: str) -> int:
    return int(text.replace("Rp", "").replace(".", "").strip())


def test_typed_digits_are_carried_into_token_gagal_without_a_url(client: TestClient) -> None:
    signed_in(client, "budi")
    _, digits = buy(client, nominal=20_000)
    token = csrf(client.get(f"/meter/{BUDI_METER}").text)
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    refused = client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": wrong}).text
    link = re.search(r'data-testid="why-rejected">[^<]*<a href="([^"]+)"', refused)
    assert link is not None
    assert wrong not in link.group(1)  # never in a URL (access logs)
    form = client.get(link.group(1).replace("&amp;", "&")).text
    assert f'name="token" value="{wrong}"' in form
    # another meter's form is not prefilled with these digits
    assert f'value="{wrong}"' not in client.get("/token-gagal?meter=14100000000").text
    # an accepted entry forgets them
    client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": digits})
    assert f'value="{wrong}"' not in client.get(f"/token-gagal?meter={BUDI_METER}").text


def test_price_breakdown_adds_up(client: TestClient) -> None:
    signed_in(client, "budi")
    token = csrf(client.get("/beli").text)
    page = client.post("/beli/rincian", data={"csrf_token": token, "meter_number": BUDI_METER, "nominal": 100_000}).text
    part = {k: _rp(v) for k, v in re.findall(r'data-testid="p-([a-z]+)">([^<]+)<', page)}
    total = _rp(re.search(r'data-testid="total">([^<]+)<', page).group(1))  # type: ignore[union-attr]
    assert part["nominal"] == 100_000
    assert part["stroom"] + part["pbjt"] + part["ppn"] + part["meterai"] + part["angsuran"] == part["nominal"]
    assert part["nominal"] + part["admin"] == total
    # the rows read in the order of the sum
    order = re.findall(r'data-part="([a-z]+)"', page)
    assert order == ["stroom", "pbjt", "ppn", "meterai", "angsuran", "admin"]


def test_receipt_has_time_channel_name_copy_print_and_a_pdf(client: TestClient) -> None:
    import io

    from pypdf import PdfReader

    signed_in(client, "budi")
    page, digits = buy(client, nominal=50_000)
    assert re.search(r'data-testid="sold-at">\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2} WIB<', page)
    assert 'data-testid="channel-name">Aplikasi PLN Demo<' in page
    assert 'data-copy="token"' in page and "data-print" in page and '<script src="/static/customer.js"' in page
    reference = re.search(r'href="/struk/([^"/]+)/pdf"', page)
    assert reference is not None
    pdf = client.get(f"/struk/{reference.group(1)}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    grouped = " ".join(digits[i : i + 4] for i in range(0, 20, 4))
    assert grouped in text
    assert reference.group(1) in text and "Aplikasi PLN Demo" in text
    assert "RP BAYAR" in text and "RP STROOM/TOKEN" in text and "WIB" in text
    amounts = re.search(r'data-testid="receipt">(.*?)</pre>', page, re.S)
    assert amounts is not None
    for line in amounts.group(1).splitlines():
        if line.startswith(("RP BAYAR", "PPN", "PBJT-TL", "JML KWH")):
            assert line.split(":", 1)[1].strip() in text
    # another customer's receipt (and its PDF) is not found
    signed_in(client, "siti")
    assert client.get(f"/struk/{reference.group(1)}/pdf").status_code == 404


def test_history_search_dates_pages_and_channel_names(client: TestClient) -> None:
    signed_in(client, "budi")
    tokens = [buy(client, nominal=20_000)[1] for _ in range(3)]
    page = client.get("/riwayat").text
    channels = re.findall(r'data-testid="history-channel">([^<]+)<', page)
    assert channels and "PLNAPP" not in channels and "Aplikasi PLN Demo" in channels
    found = client.get(f"/riwayat?q={tokens[1][3:11]}").text
    assert re.findall(r'data-testid="history-token">([0-9 ]+)<', found) == [
        " ".join(tokens[1][i : i + 4] for i in range(0, 20, 4))
    ]
    assert 'name="q" value="' + tokens[1][3:11] + '"' in found
    assert "history.none" not in client.get("/riwayat?dari=2000-01-01&sampai=2000-01-02").text
    assert 'data-testid="history-token"' not in client.get("/riwayat?dari=2000-01-01&sampai=2000-01-02").text
    bad = client.get("/riwayat?dari=kemarin")
    assert bad.status_code == 200 and "TTTT-BB-HH" in bad.text
    # pages of 20
    for _ in range(20):
        buy(client, nominal=20_000)
    first = client.get("/riwayat").text
    assert len(re.findall(r'data-testid="history-token"', first)) == 20
    nxt = re.search(r'href="([^"]+)" data-testid="next"', first)
    assert nxt is not None
    second = client.get(nxt.group(1).replace("&amp;", "&")).text
    assert 'data-testid="prev"' in second and len(re.findall(r'data-testid="history-token"', second)) >= 3


def test_my_meters_credit_last_token_blocked_and_adding_a_meter(client: TestClient) -> None:
    from .conftest import JOKO_IDPEL, JOKO_METER

    signed_in(client, "budi")
    page = client.get("/akun").text
    assert "meters.credit_unknown" not in page
    _, digits = buy(client, nominal=20_000)
    token = csrf(client.get(f"/meter/{BUDI_METER}").text)
    client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": digits})
    page = client.get("/akun").text
    card = page.split(f'data-meter="{BUDI_METER}"')[1].split("</article>")[0]
    assert re.search(r'data-testid="credit">[0-9.]+,[0-9]+ kWh<', card)
    assert " ".join(digits[i : i + 4] for i in range(0, 20, 4)) in card
    # add joko's (blocked) meter: the wrong IDPEL is refused, the right one links it
    form = {"csrf_token": token, "meter_number": JOKO_METER, "idpel": "541000000001"}
    client.post("/akun/tambah-meter", data=form)
    assert f'data-meter="{JOKO_METER}"' not in client.get("/akun").text
    client.post("/akun/tambah-meter", data={**form, "idpel": JOKO_IDPEL})
    page = client.get("/akun").text
    joko = page.split(f'data-meter="{JOKO_METER}"')[1].split("</article>")[0]
    assert 'data-testid="blocked"' in joko and "diblokir" in joko
    assert "/beli?meter=" not in joko  # no buy button for a blocked meter


def test_adding_meters_is_throttled(client: TestClient) -> None:
    signed_in(client, "budi")
    token = csrf(client.get("/akun").text)
    form = {"csrf_token": token, "meter_number": BUDI_METER, "idpel": "000000000000"}
    for _ in range(5):
        first = client.post("/akun/tambah-meter", data=form).text
        assert "KEPEMILIKAN METER TIDAK TERBUKTI" in first
    assert "Terlalu banyak percobaan" in client.post("/akun/tambah-meter", data=form).text


def test_change_password_and_operator_issued_reset(client: TestClient) -> None:
    from .test_pages import login

    signed_in(client, "budi")
    token = csrf(client.get("/akun/kata-sandi").text)
    wrong = client.post("/akun/kata-sandi", data={"csrf_token": token, "current": "nope-nope", "new": "budi-baru-1",
                                                  "repeat": "budi-baru-1"})  # fmt: skip
    assert wrong.status_code == 422 and "salah" in wrong.text
    ok = client.post("/akun/kata-sandi", data={"csrf_token": token, "current": "budi-prabayar", "new": "budi-baru-1",
                                               "repeat": "budi-baru-1"}, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    assert client.get("/akun", follow_redirects=False).status_code == 200  # this browser stays in
    client.cookies.clear()
    assert login(client, "budi", "budi-baru-1") == "/akun"
    # forgotten: the operator issues a code, the customer uses it once
    client.cookies.clear()
    signed_in(client, "operator")
    token = csrf(client.get("/konsol/reset-sandi").text)
    issue = {"csrf_token": token, "username": "budi", "reason": "CC123 verified"}
    issued = client.post("/konsol/reset-sandi", data=issue)
    code = re.search(r'data-testid="reset-code">(\d{8})<', issued.text)
    assert code is not None
    client.cookies.clear()
    page = client.get("/masuk").text
    assert 'href="/lupa-sandi"' in page
    token = csrf(client.get("/lupa-sandi").text)
    form = {"csrf_token": token, "username": "budi", "code": code.group(1)}
    form |= {"new": "budi-reset-1", "repeat": "budi-reset-1"}
    assert client.post("/lupa-sandi", data=form, follow_redirects=False).status_code == 303
    again = client.post("/lupa-sandi", data=form)
    assert again.status_code == 422 and "Contact Center 123" in again.text
    assert login(client, "budi", "budi-reset-1") == "/akun"


def test_complaint_with_token_and_display_then_reply_reopen_confirm(client: TestClient, services: Services) -> None:
    from prabayar.support.ticket_service import TicketService

    signed_in(client, "budi")
    _, digits = buy(client, nominal=20_000)
    wrong = digits[:7] + str((int(digits[7]) + 1) % 10) + digits[8:]
    token = csrf(client.get("/pengaduan").text)
    form = {"csrf_token": token, "meter_number": BUDI_METER, "category": "typo", "token": wrong, "display": "GAGAL",
            "description": "Token saya ditolak meter, GAGAL terus."}  # fmt: skip
    sent = client.post("/pengaduan", data=form, follow_redirects=False)
    assert sent.status_code == 303
    mine = client.get("/pengaduan").text
    number = re.search(r'href="/pengaduan/tiket/([^"]+)"', mine)
    assert number is not None
    ticket_url = f"/pengaduan/tiket/{number.group(1)}"
    page = client.get(ticket_url).text
    assert f'data-testid="my-typed">{wrong}<' in page  # the check is attached, with the digits typed
    assert 'data-testid="confirm-fix"' not in page  # not resolved yet: only a reply
    client.post(f"{ticket_url}/balas", data={"csrf_token": token, "text": "Saya sudah coba dua kali."})
    page = client.get(ticket_url).text
    assert "Saya sudah coba dua kali." in page
    # confirming an unresolved ticket is refused
    assert client.post(f"{ticket_url}/konfirmasi", data={"csrf_token": token}).status_code == 409
    tickets = TicketService(services.vending)
    tickets.resolve(number.group(1), "Token yang benar dikirim ulang.", "operator")
    page = client.get(ticket_url).text
    assert 'data-testid="confirm-fix"' in page and 'data-testid="reopen"' in page
    assert "Token yang benar dikirim ulang." in page
    client.post(f"{ticket_url}/buka-kembali", data={"csrf_token": token, "reason": "Masih GAGAL di meter."})
    page = client.get(ticket_url).text
    assert 'data-status="assigned"' in page and "Masih GAGAL di meter." in page
    tickets.resolve(number.group(1), "Sudah dicek ulang.", "operator")
    client.post(f"{ticket_url}/konfirmasi", data={"csrf_token": token})
    page = client.get(ticket_url).text
    assert 'data-status="closed"' in page and 'data-testid="my-ticket-actions"' not in page
    history = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)
    assert [(who, step) for who, step, _ in history] == [
        ("budi", "dibuat"), ("budi", "catatan"), ("operator", "diselesaikan"), ("budi", "dibuka kembali"),
        ("operator", "diselesaikan"), ("budi", "ditutup"),
    ]  # fmt: skip
    assert [status for *_, status in history][-1] == "ditutup"
    # another customer cannot act on it
    signed_in(client, "siti")
    assert client.post(f"{ticket_url}/balas", data={"csrf_token": csrf(client.get("/pengaduan").text),
                                                    "text": "bukan tiket saya"}).status_code == 404  # fmt: skip


def test_a_ticket_on_an_added_meter_is_the_customer_s_in_the_api_too(client: TestClient, api: Api) -> None:
    from .conftest import JOKO_IDPEL, JOKO_METER

    signed_in(client, "budi")
    token = csrf(client.get("/akun").text)
    client.post("/akun/tambah-meter", data={"csrf_token": token, "meter_number": JOKO_METER, "idpel": JOKO_IDPEL})
    form = {"csrf_token": token, "meter_number": JOKO_METER, "category": "other", "token": "", "display": "",
            "description": "Meter di rumah ibu saya tidak menyala."}  # fmt: skip
    assert client.post("/pengaduan", data=form, follow_redirects=False).status_code == 303
    found = re.search(r"Nomor tiket: ([A-Za-z0-9-]+)", client.get("/pengaduan").text)
    assert found is not None
    number = found.group(1)
    mine = client.get(f"/api/v1/support/tickets/{number}", headers=api.user("budi"))
    assert mine.status_code == 200, mine.text
    assert client.get(f"/api/v1/support/tickets/{number}", headers=api.user("siti")).status_code == 404
