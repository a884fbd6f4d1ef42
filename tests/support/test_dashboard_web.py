"""The dashboard through the web face: the page's charts and totals, CSV export, the API."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from .conftest import BUDI, SITI, bearer, channel_buy, mistype
from .test_web_pages import _login


def _api(web: Any, path: str, **params: str) -> Any:
    r = web.get(f"/api/v1/operator/dashboard/{path}", params=params, headers=bearer(web, "operator"))
    assert r.status_code == 200, r.text
    return r.json()


def _total(html: str, test_id: str) -> int:
    match = re.search(rf'data-testid="{test_id}">([0-9.]+)<', html)
    assert match, test_id
    return int(match.group(1).replace(".", ""))


def test_dashboard_counts_what_was_sold_and_diagnosed(web: Any) -> None:
    before = _api(web, "sales")
    sold_before = sum(p["sales"] for p in before["points"])
    amount_before = sum(p["amount"] for p in before["points"])
    tokens = [channel_buy(web, "dash-1", BUDI.meter_number, 50_000), channel_buy(web, "dash-2", SITI.meter_number)]
    for token in tokens[:1]:
        r = web.post(
            "/api/v1/support/diagnosis",
            json={"identifier": BUDI.meter_number, "token": mistype(token, 7)},
            headers=bearer(web, "operator"),
        )
        assert r.status_code == 200 and r.json()["cause"] == "typo", r.text

    after = _api(web, "sales")
    assert sum(p["sales"] for p in after["points"]) == sold_before + 2
    assert sum(p["amount"] for p in after["points"]) == amount_before + 100_000
    assert len(after["points"]) == 7 and after["bucket"] == "day"
    hourly = _api(web, "sales", bucket="hour", **{"from": after["last"], "to": after["last"]})
    assert len(hourly["points"]) == 24
    assert sum(p["sales"] for p in hourly["points"]) >= 2
    causes = _api(web, "causes")
    assert [(p["key"], p["count"]) for p in causes["points"]] == [("typo", 1)]
    by_unit = _api(web, "causes", by="unit")
    assert by_unit["points"] == [{"bucket": BUDI.unit, "key": "typo", "count": 1}]
    assert _api(web, "tickets")["points"][-1]["opened"] == 0
    assert _api(web, "campaigns")["campaigns"] == []
    weekly = _api(web, "weekly", unit=BUDI.unit)
    assert weekly["total_failures"] == 1 and weekly["causes"][0]["key"] == "typo"

    _login(web, "operator")
    page = web.get("/konsol/dasbor")
    assert page.status_code == 200
    html = page.text
    for chart in ("sales-day", "sales-hour", "causes-day", "causes-unit", "tickets"):
        assert f'data-testid="chart-{chart}"' in html
    assert _total(html, "total-sales") == sold_before + 2
    assert _total(html, "total-failures") == 1
    assert "<script" not in html.split("<main", 1)[1]  # the charts are plain SVG, no script
    assert "Salah ketik" in html  # the cause in words, in the page's language

    exported = web.get("/konsol/dasbor/csv/sales-day")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["bucket"] for r in rows] == [p["bucket"] for p in after["points"]]
    assert sum(int(r["sales"]) for r in rows) == sold_before + 2
    rows = list(csv.DictReader(io.StringIO(web.get("/konsol/dasbor/csv/causes-unit").text)))
    assert rows == [{"bucket": BUDI.unit, "key": "typo", "count": "1"}]
    for series in ("sales-hour", "causes-day", "tickets", "campaigns"):
        assert web.get(f"/konsol/dasbor/csv/{series}").status_code == 200

    week = web.get(f"/konsol/dasbor/mingguan?unit={BUDI.unit}")
    assert week.status_code == 200 and 'data-testid="weekly-summary"' in week.text
    assert _total(week.text, "week-failures") == 1
    pdf = web.get(f"/konsol/dasbor/mingguan.pdf?unit={BUDI.unit}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == 1
    words = reader.pages[0].extract_text()
    assert f"Ringkasan mingguan - {BUDI.unit}" in words and "Salah ketik" in words
    assert "Token gagal didiagnosis: 1" in words

    english = web.get("/bahasa/en?next=/konsol/dasbor", follow_redirects=True)
    assert "Sales per day" in english.text and "Typing error" in english.text


def test_dashboard_refuses_bad_ranges_and_unknown_units(web: Any) -> None:
    h = bearer(web, "operator")
    r = web.get("/api/v1/operator/dashboard/sales", params={"from": "2026-11-10", "to": "2026-11-01"}, headers=h)
    assert r.status_code == 422
    r = web.get("/api/v1/operator/dashboard/sales",
                params={"from": "2026-01-01", "to": "2026-11-01", "bucket": "hour"}, headers=h)  # fmt: skip
    assert r.status_code == 422
    r = web.get("/api/v1/operator/dashboard/sales", params={"from": "2026-01-01", "to": "2026-11-01"}, headers=h)
    assert r.status_code == 422  # more than 92 days
    assert web.get("/api/v1/operator/dashboard/weekly", params={"unit": "99"}, headers=h).status_code == 404
    assert web.get("/api/v1/operator/dashboard/sales", headers=bearer(web, "budi")).status_code == 403
    _login(web, "operator")
    assert web.get("/konsol/dasbor/csv/nope").status_code == 422
    assert web.get("/konsol/dasbor/mingguan?unit=99").status_code == 404
    page = web.get("/konsol/dasbor?dari=2026-11-10&sampai=2026-11-01")
    assert page.status_code == 200 and "tanggal awal" in page.text  # falls back to the last 7 days, says why
