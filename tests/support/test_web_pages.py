"""The "token gagal?" page, a customer's ticket page and the operator's ticket desk."""

from __future__ import annotations

import re
from typing import Any

from .conftest import BUDI, PASSWORDS, SITI, channel_buy, mistype


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def _login(client: Any, user: str) -> str:
    page = client.get("/masuk")
    token = _csrf(page.text)
    r = client.post("/masuk", data={"csrf_token": token, "username": user,
                                    "password": PASSWORDS[user]})  # fmt: skip
    assert r.status_code in (200, 303), r.text[:300]
    return _csrf(client.get("/konsol/tiket" if user == "operator" else "/token-gagal").text)


def test_token_failed_page_diagnoses_and_still_explains_every_cause(web: Any) -> None:
    token = channel_buy(web, "pg-1", BUDI.meter_number)
    csrf = _login(web, "budi")
    page = web.get("/token-gagal")
    assert page.status_code == 200
    assert "20 digit" in page.text and "PERIKSA" in page.text  # the web's causes list stays
    assert 'data-testid="diagnosis-form"' in page.text
    typed = mistype(token, 8)
    r = web.post("/token-gagal", data={"csrf_token": csrf, "meter_number": BUDI.meter_number,
                                       "token": typed, "display": "GAGAL"})  # fmt: skip
    assert r.status_code == 200
    assert 'data-cause="typo"' in r.text
    assert " ".join(token[i : i + 4] for i in range(0, 20, 4)) in r.text
    english = web.get("/bahasa/en?next=/token-gagal")
    assert english.status_code in (200, 303)
    r = web.post("/token-gagal", data={"csrf_token": csrf, "meter_number": BUDI.meter_number,
                                       "token": token[:16]})  # fmt: skip
    assert 'data-cause="sixteen_digits"' in r.text and "20 digits" in r.text


def test_customer_cannot_check_another_meter_and_errors_show_on_the_form(web: Any) -> None:
    csrf = _login(web, "budi")
    r = web.post("/token-gagal", data={"csrf_token": csrf, "meter_number": SITI.meter_number})
    assert r.status_code == 404 and 'data-testid="diagnosis-form"' in r.text
    r = web.post("/token-gagal", data={"csrf_token": csrf, "meter_number": ""})
    assert r.status_code == 422
    assert web.post("/token-gagal", data={"meter_number": BUDI.meter_number}).status_code == 403


def test_complaint_from_a_diagnosis_and_the_customer_ticket_page(web: Any) -> None:
    csrf = _login(web, "budi")
    r = web.post("/token-gagal/pengaduan", data={"csrf_token": csrf,
                 "meter_number": BUDI.meter_number, "display": "PERIKSA"},
                 follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    url = r.headers["location"]
    assert url.startswith("/pengaduan/tiket/PGD-")
    page = web.get(url)
    assert page.status_code == 200 and 'data-status="open"' in page.text
    assert "PERIKSA" in page.text and 'data-testid="ticket-actions"' not in page.text
    number = url.rsplit("/", 1)[1]
    assert number in web.get("/pengaduan").text  # the web's own complaint list shows it
    web.post("/keluar", data={"csrf_token": csrf})
    _login(web, "siti")
    assert web.get(url).status_code == 404


def test_operator_desk_runs_a_ticket_to_closure(web: Any) -> None:
    csrf = _login(web, "operator")
    r = web.post("/konsol/tiket", data={"csrf_token": csrf, "meter_number": BUDI.meter_number,
                 "channel": "instagram", "display": "PERIKSA", "description": "DM @pln_id"},
                 follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    url = r.headers["location"]
    number = url.rsplit("/", 1)[1]
    desk = web.get("/konsol/tiket")
    assert number in desk.text and "Instagram" in desk.text
    steps = [
        ("assign", {"technician": "tek-9"}),
        ("visit", {"visit_at": "2030-01-02T09:00"}),
        ("clear_tamper", {}),  # refused: no inspection yet (flash error)
        ("inspect", {"text": "kabel diperbaiki", "installation_ok": "yes"}),
        ("clear_tamper", {}),
        ("resolve", {"text": "clear tamper entered"}),
        ("close", {}),
        ("bogus", {}),
    ]
    for action, data in steps:
        resp = web.post(f"{url}/{action}", data={"csrf_token": csrf, **data}, follow_redirects=False)
        assert resp.status_code == 303, (action, resp.text[:300])
    page = web.get(url).text
    assert 'data-status="closed"' in page
    from prabayar.web.i18n import translate

    steps_shown = re.findall(r"<td>([^<]+)</td><td>[^<]+</td></tr>", page)
    expected = ["opened", "assigned", "visit_scheduled", "inspected", "clear_tamper_issued",
                "resolved", "closed"]  # fmt: skip
    assert len(steps_shown) == len(expected)
    for shown, kind in zip(steps_shown, expected, strict=True):  # raw kinds or their labels
        assert shown in (kind, translate(f"step.{kind}", "id"), translate(f"step.{kind}", "en")), (shown, kind)
    overdue = web.get("/konsol/tiket?overdue=1&status=closed").text
    assert number not in overdue


def test_operator_diagnoses_on_the_desk_without_a_ticket(web: Any) -> None:
    token = channel_buy(web, "pg-9", SITI.meter_number)
    csrf = _login(web, "operator")
    r = web.post("/konsol/tiket/cek", data={"csrf_token": csrf, "meter_number": BUDI.meter_number,
                                            "token": token})  # fmt: skip
    assert r.status_code == 200 and 'data-cause="wrong_meter"' in r.text
    assert SITI.meter_number not in r.text.split('data-testid="diagnosis"')[1].split("</section>")[0]
    bad = web.post("/konsol/tiket/cek", data={"csrf_token": csrf, "meter_number": "14999999990"})
    assert bad.status_code == 404 and "notice error" in bad.text
    assert "No tickets" in bad.text or "Tidak ada tiket" in bad.text
