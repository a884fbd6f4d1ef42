"""Agents and operators (issue 14): console search by name/phone/ticket, the customer's status,
past management tokens, the confirm step, the audit log in words with filters/paging/CSV, and
the ticket page (contact, notes, typed digits, only valid steps, my tickets, notifications)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from prabayar.config import Settings
from prabayar.support import TicketService
from prabayar.support.errors import InspectionRequired
from prabayar.web.services import Services

from .conftest import BUDI_IDPEL, BUDI_METER, JOKO_IDPEL, JOKO_METER, signed_in
from .test_pages import csrf


def _issue(client: TestClient, reason: str, *, confirm: bool = True) -> str:
    page = client.get(f"/konsol?q={BUDI_METER}").text
    data = {"csrf_token": csrf(page), "meter_number": BUDI_METER, "kind": "clear_tamper", "reason": reason}
    if confirm:
        data["confirm"] = "yes"
    answer = client.post("/konsol/token-manajemen", data=data)
    assert answer.status_code == 200, answer.text[:400]
    return answer.text


def test_issuing_asks_to_confirm_first_then_lists_the_token_as_past(client: TestClient) -> None:
    signed_in(client, "operator")
    asked = _issue(client, "periksa segel", confirm=False)
    assert 'data-testid="confirm"' in asked and 'data-testid="issued"' not in asked
    assert 'name="confirm" value="yes"' in asked and "periksa segel" in asked
    assert "Belum pernah diterbitkan." in asked  # nothing issued by the first step
    issued = _issue(client, "periksa segel")
    assert 'data-testid="issued"' in issued
    past = issued.split('data-testid="past-tokens"')[1].split("</section>")[0]
    assert "periksa segel" in past and "operator" in past and re.search(r"<code>(\d{4} ){4}\d{4}</code>", past)


def test_search_by_name_address_phone_and_ticket_number(client: TestClient, services: Services) -> None:
    signed_in(client, "operator")
    by_name = client.get("/konsol?q=budi santosa").text
    assert "Pelanggan: BUDI SANTOSA WIJAYA" in by_name
    several = client.get("/konsol?q=surabaya").text  # an address part: several customers
    assert 'data-testid="hits"' in several and "WAHYU HIDAYAT" in several and "SRI WAHYUNI" in several
    with services.vending.engine.begin() as conn:
        conn.execute(text("UPDATE customers SET phone = '081234567890' WHERE idpel = :i"), {"i": BUDI_IDPEL})
    by_phone = client.get("/konsol?q=0812-3456-78").text
    assert "Pelanggan: BUDI SANTOSA WIJAYA" in by_phone and "081234567890" in by_phone
    ticket = TicketService(services.vending).open(channel="cc123", identifier=BUDI_METER, actor="operator")
    jump = client.get(f"/konsol?q={ticket.number.lower()}", follow_redirects=False)
    assert jump.status_code == 303 and jump.headers["location"] == f"/konsol/tiket/{ticket.number}"
    none = client.get("/konsol?q=zzzzqqq").text
    assert "Tidak ada pelanggan yang cocok" in none and "Masukkan 11 digit" in none


def test_a_blocked_customer_reads_blocked_not_active(client: TestClient) -> None:
    signed_in(client, "operator")
    page = client.get(f"/konsol?q={JOKO_IDPEL}").text
    status = re.search(r'data-testid="customer-status">([^<]+)<', page)
    assert status is not None and status.group(1) == "diblokir"
    meters = re.findall(r'data-testid="meter-status">([^<]+)<', page)
    assert meters and "aktif" not in meters
    assert JOKO_METER in page


def test_audit_log_in_words_with_filters_paging_and_csv(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    signed_in(client, "operator")
    _issue(client, "kata-kata")
    page = client.get("/konsol/audit?action=management.").text
    assert "Token clear tamper diterbitkan" in page and "alasan: kata-kata" in page
    assert "management.clear_tamper</" not in page  # the code is only a title attribute
    assert "Tidak ada yang cocok." in client.get("/konsol/audit?actor=nobody-at-all").text
    assert "Tidak ada yang cocok." in client.get("/konsol/audit?since=2001-01-01&until=2001-01-02").text
    assert "Token clear tamper" in client.get("/konsol/audit?actor=operator&since=2000-01-01").text
    from prabayar.web.pages import operator as console_page

    monkeypatch.setattr(console_page, "AUDIT_PAGE", 3)
    first = client.get("/konsol/audit").text
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/konsol/audit?page=2").text
    assert 'rel="prev"' in second and "Halaman 2" in second
    exported = client.get("/konsol/audit.csv?action=management.")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["time_wib", "actor", "action", "action_words", "meter_number", "detail"]
    assert rows[1][2] == "management.clear_tamper" and rows[1][3] == "Token clear tamper diterbitkan"
    assert '"reason": "kata-kata"' in rows[1][5]
    client.get("/bahasa/en")
    english = client.get("/konsol/audit?action=management.").text
    client.get("/bahasa/id")
    assert "Clear tamper token issued" in english


def test_ticket_page_shows_contact_notes_digits_and_only_valid_steps(
    client: TestClient, services: Services, settings: Settings
) -> None:
    from prabayar.support import DiagnosisRequest
    from prabayar.support.setup import diagnosis_engine

    engine = diagnosis_engine(services.vending, settings)
    diagnosis = engine.diagnose(DiagnosisRequest(BUDI_METER, "1234 5678 9012 3456 7890", "GAGAL"))
    tickets = TicketService(services.vending)
    ticket = tickets.open(channel="cc123", identifier=BUDI_METER, actor="operator", diagnosis=diagnosis,
                          contact="0812-1111-2222", typed="1234 5678 9012 3456 7890", display="GAGAL")  # fmt: skip
    signed_in(client, "operator")
    page = client.get(f"/konsol/tiket/{ticket.number}").text
    assert 'data-testid="typed-digits">1234 5678 9012 3456 7890<' in page
    assert f'href="/konsol?q={BUDI_IDPEL}"' in page and "0812-1111-2222" in page
    assert 'data-testid="customer-phone"' in page
    assert "/assign" in page and "/close" not in page and "/reopen" not in page
    assert "/clear_tamper" not in page and 'data-testid="needs-inspection"' in page
    token = csrf(page)
    refused = client.post(f"/konsol/tiket/{ticket.number}/close", data={"csrf_token": token}, follow_redirects=True)
    assert "Langkah ini tidak tersedia" in refused.text
    client.post(f"/konsol/tiket/{ticket.number}/comment", data={"csrf_token": token, "text": "pelanggan ditelepon"})
    tickets.assign(ticket.number, "teknisi-1", "operator")
    tickets.resolve(ticket.number, "token benar dimasukkan", "supervisor")
    tickets.reopen(ticket.number, "masih GAGAL", "supervisor")
    page = client.get(f"/konsol/tiket/{ticket.number}").text
    notes = page.split('data-testid="ticket-notes"')[1].split("</section>")[0]
    for words in ("pelanggan ditelepon", "teknisi-1", "token benar dimasukkan", "masih GAGAL"):
        assert words in notes
    mine = client.get("/konsol/tiket?mine=1").text
    assert ticket.number in mine and 'data-testid="sla"' in mine
    assert 'data-testid="notifications"' in mine and "supervisor" in mine  # others' changes on my ticket
    again = client.get("/konsol/tiket?mine=1").text
    assert 'data-testid="notifications"' not in again  # seen
    lookup = client.get(f"/konsol/tiket?q={ticket.number}", follow_redirects=False)
    assert lookup.status_code == 303


def test_replace_meter_refusal_names_the_inspection_not_clear_tamper(services: Services) -> None:
    tickets = TicketService(services.vending)
    ticket = tickets.open(channel="cc123", identifier=BUDI_METER, actor="operator")
    try:
        tickets.replace_meter(ticket.number, "operator", "45000009999", __import__("decimal").Decimal("1"))
    except InspectionRequired as exc:
        assert "clear tamper" not in exc.message.id.lower() and "Penggantian meter" in exc.message.id
        assert "meter replacement" in exc.message.en
    else:  # pragma: no cover
        raise AssertionError("replace_meter without an inspection must be refused")
