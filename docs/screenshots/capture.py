"""Take a screenshot of each main page into docs/screenshots/ (run: .venv/bin/python docs/screenshots/capture.py).

Starts the real app on a throw-away data dir with the demo data, drives Debian's chromium with
Playwright through a customer's and an operator's main pages, and writes one PNG per page.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

from prabayar.vending.demo import DEMO_USERS
from prabayar.web.devserver import running_server

OUT = Path(__file__).resolve().parent
PASSWORDS = {user: password for user, password, _role, _idpel in DEMO_USERS}
METER = "14100000018"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print("wrote", OUT / f"{name}.png")


def log_in(page: Page, url: str, user: str) -> None:
    page.goto(f"{url}/masuk")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_load_state()


def operator_shots(browser: Any, url: str) -> None:
    """The operator's pages (13-15): the console after a confirmed clear tamper, the audit log,
    the ticket desk and a ticket, the console in English. Also run alone by capture_agent.py."""
    operator = browser.new_page(viewport={"width": 1280, "height": 800})
    log_in(operator, url, "operator")
    operator.goto(f"{url}/konsol?q={METER}")
    operator.select_option("select[name=kind]", "clear_tamper")
    operator.fill("textarea[name=reason]", "Inspeksi ULP selesai, instalasi baik (tiket PGD-1)")
    operator.click("form[action='/konsol/token-manajemen'] button[type=submit]")
    operator.wait_for_load_state()
    operator.click("[data-testid=confirm-issue]")  # the confirm step
    operator.wait_for_load_state()
    shot(operator, "13-operator-console")
    operator.goto(f"{url}/konsol/audit")
    shot(operator, "14-audit-log")
    operator.goto(f"{url}/konsol/tiket")
    if operator.locator("a[href^='/konsol/tiket/PGD']").count() == 0:  # run alone: open one
        operator.fill("form[method=post][action='/konsol/tiket'] input[name=meter_number]", METER)
        operator.fill("form[method=post][action='/konsol/tiket'] input[name=token]", "7096 3482 4083 5940 1220")
        operator.fill("form[method=post][action='/konsol/tiket'] input[name=display]", "GAGAL")
        operator.fill("form[method=post][action='/konsol/tiket'] textarea[name=description]", "Token GAGAL")
        operator.fill("form[method=post][action='/konsol/tiket'] input[name=contact]", "0812-3456-7890")
        operator.click("form[method=post][action='/konsol/tiket'] button[type=submit]")
        operator.wait_for_load_state()
        operator.goto(f"{url}/konsol/tiket")
    shot(operator, "14b-complaint-desk")
    operator.locator("a[href^='/konsol/tiket/PGD']").first.click()
    operator.wait_for_load_state()
    shot(operator, "14c-complaint-ticket")
    operator.goto(f"{url}/bahasa/en?next=/konsol?q={METER}")
    shot(operator, "15-operator-console-english")


def main() -> int:
    chromium = os.environ.get("PRABAYAR_BROWSER", "/usr/bin/chromium")
    if not Path(chromium).exists():
        print(f"no chromium at {chromium}; install it with: make browser", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp)) as url, \
            sync_playwright() as pw:  # fmt: skip
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url)
        shot(page, "01-landing")
        page.goto(f"{url}/masuk")
        shot(page, "02-login")
        log_in(page, url, "budi")
        shot(page, "03-my-meters")
        page.goto(f"{url}/beli?meter={METER}")
        page.check("input[name=nominal][value='100000']")
        shot(page, "04-buy")
        page.click("form[action='/beli/rincian'] button[type=submit]")
        page.wait_for_load_state()
        shot(page, "05-price-breakdown")
        page.click("form[action='/beli/bayar'] button[type=submit]")
        page.wait_for_url(re.compile(r".*/struk/.*"))
        token = page.get_by_test_id("token").inner_text().replace(" ", "")
        shot(page, "06-receipt")
        page.goto(f"{url}/meter/{METER}")
        page.fill("#keys", " ".join(token[i : i + 4] for i in range(0, 20, 4)))
        page.click(".keypad button.enter")
        page.wait_for_load_state()
        shot(page, "07-virtual-meter-benar")
        wrong = token[:-1] + str((int(token[-1]) + 1) % 10)
        page.fill("#keys", wrong)
        page.click(".keypad button.enter")
        page.wait_for_load_state()
        shot(page, "08-virtual-meter-gagal")
        page.goto(f"{url}/riwayat")
        shot(page, "09-history")
        page.goto(f"{url}/token-gagal")
        shot(page, "10-token-failed")
        page.fill("input[name=token]", wrong)
        page.fill("input[name=display]", "GAGAL")
        page.click("form[action='/token-gagal'] button[type=submit]")
        page.wait_for_load_state()
        shot(page, "10b-token-failed-diagnosis")
        page.goto(f"{url}/pengaduan")
        page.fill("textarea[name=description]", "Token saya ditolak GAGAL dua kali, mohon dibantu.")
        page.click("form[action='/pengaduan'] button[type=submit]")
        page.wait_for_load_state()
        shot(page, "11-complaint")
        mobile = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        log_in(mobile, url, "budi")
        mobile.goto(f"{url}/meter/{METER}")
        shot(mobile, "12-virtual-meter-mobile")
        mobile.goto(f"{url}/riwayat")
        shot(mobile, "12b-history-mobile")
        operator_shots(browser, url)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
