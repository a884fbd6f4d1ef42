"""Browser test of the utility's dashboard: a sale and a diagnosis show up in the charts.

Uses the fixtures of ``test_browser`` (Debian's chromium against a real uvicorn server).
``PRABAYAR_SCREENSHOTS=docs/screenshots`` also writes the dashboard's screenshots there
(``16-dashboard.png``, ``17-weekly-summary.png``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import BUDI_METER, DEMO_PASSWORDS
from .test_browser import base_url, browser, buy_token, expect, log_in, page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _shot(view: Any, name: str) -> None:
    target = os.environ.get("PRABAYAR_SCREENSHOTS")
    if target:
        view.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)


def _number(view: Any, test_id: str) -> int:
    return int(str(view.get_by_test_id(test_id).inner_text()).replace(".", ""))


def test_dashboard_draws_a_sale_and_a_diagnosis(page: Any, base_url: str) -> None:  # noqa: F811
    log_in(page, base_url, "operator")
    page.wait_for_url(re.compile(r".*/konsol$"))
    page.click("nav >> text=Dasbor")
    page.wait_for_url(re.compile(r".*/konsol/dasbor$"))
    sales_before = _number(page, "total-sales")
    failures_before = _number(page, "total-failures")

    page.context.clear_cookies()
    log_in(page, base_url, "budi")
    page.wait_for_url(re.compile(r".*/akun$"))
    token = buy_token(page, base_url)
    api = page.request
    bearer = api.post(f"{base_url}/api/v1/auth/token",
                      data={"username": "budi", "password": DEMO_PASSWORDS["budi"]}).json()["access_token"]  # fmt: skip
    wrong = token[:5] + str((int(token[5]) + 1) % 10) + token[6:]
    answer = api.post(
        f"{base_url}/api/v1/support/diagnosis",
        data={"identifier": BUDI_METER, "token": wrong},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert answer.ok and answer.json()["cause"] == "typo", answer.text()

    page.context.clear_cookies()
    log_in(page, base_url, "operator")
    page.goto(f"{base_url}/konsol/dasbor")
    for chart in ("sales-day", "sales-hour", "causes-day", "causes-unit", "tickets"):
        expect(page.get_by_test_id(f"chart-{chart}")).to_be_visible()
    assert _number(page, "total-sales") == sales_before + 1
    assert _number(page, "total-failures") == failures_before + 1
    assert page.locator("[data-testid=chart-sales-day] rect.bar").count() >= 1
    expect(page.locator("[data-testid=chart-causes-day] rect.bar").first).to_be_attached()
    _shot(page, "16-dashboard")

    page.click("text=Ringkasan mingguan")
    page.wait_for_url(re.compile(r".*/konsol/dasbor/mingguan.*"))
    expect(page.get_by_test_id("weekly-summary")).to_be_visible()
    page.goto(f"{base_url}/konsol/dasbor/mingguan?unit=54")  # Budi's unit
    assert _number(page, "week-failures") >= 1
    expect(page.get_by_test_id("chart-week-sales")).to_be_visible()
    _shot(page, "17-weekly-summary")
