"""Screenshots of the customer pages of issue 14 into docs/screenshots/
(run: .venv/bin/python docs/screenshots/capture_customer.py; needs Debian's chromium).

My meters (credit, last token, a blocked meter added by IDPEL), the price as a sum, the
receipt (time, channel, copy/print/PDF), history with filters and pages, "Token gagal?"
prefilled from the virtual meter, the complaint form with the token fields, a ticket with
reply/confirm/reopen, the password reset page.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from prabayar.web.devserver import running_server

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture import ARGS, METER, log_in, shot

JOKO_METER, JOKO_IDPEL = "14100000117", "541000000011"


def buy(page: Page, url: str, nominal: str) -> str:
    page.goto(f"{url}/beli?meter={METER}")
    page.check(f"input[name=nominal][value='{nominal}']")
    page.click("form[action='/beli/rincian'] button[type=submit]")
    page.wait_for_load_state()
    return page.url


def main() -> int:
    chromium = os.environ.get("PRABAYAR_BROWSER", "/usr/bin/chromium")
    if not Path(chromium).exists():
        print(f"no chromium at {chromium}; install it with: make browser", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp)) as url, \
            sync_playwright() as pw:  # fmt: skip
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        log_in(page, url, "budi")
        buy(page, url, "100000")
        shot(page, "05-price-breakdown")
        page.click("form[action='/beli/bayar'] button[type=submit]")
        page.wait_for_url(re.compile(r".*/struk/.*"))
        token = page.get_by_test_id("token").inner_text().replace(" ", "")
        shot(page, "06-receipt")
        for nominal in ("20000", "50000"):
            buy(page, url, nominal)
            page.click("form[action='/beli/bayar'] button[type=submit]")
            page.wait_for_url(re.compile(r".*/struk/.*"))
        page.goto(f"{url}/meter/{METER}")
        page.fill("#keys", token)
        page.click(".keypad button.enter")
        page.wait_for_load_state()
        wrong = token[:7] + str((int(token[7]) + 1) % 10) + token[8:]
        page.fill("#keys", wrong)
        page.click(".keypad button.enter")
        page.wait_for_load_state()
        page.get_by_test_id("why-rejected").locator("a").click()
        page.wait_for_load_state()
        shot(page, "10-token-failed")
        page.click("form[action='/token-gagal'] button[type=submit]")
        page.wait_for_load_state()
        shot(page, "10b-token-failed-diagnosis")
        page.goto(f"{url}/akun")
        page.fill("#tambah input[name=meter_number]", JOKO_METER)
        page.fill("#tambah input[name=idpel]", JOKO_IDPEL)
        page.click("#tambah button[type=submit]")
        page.wait_for_load_state()
        shot(page, "03-my-meters")
        page.goto(f"{url}/riwayat?q={token[4:12]}")
        shot(page, "09-history")
        page.goto(f"{url}/pengaduan")
        page.fill("form[action='/pengaduan'] input[name=token]", wrong)
        page.fill("form[action='/pengaduan'] input[name=display]", "GAGAL")
        page.fill("form[action='/pengaduan'] textarea[name=description]", "Token ditolak meter (GAGAL) dua kali.")
        shot(page, "11-complaint")
        page.click("form[action='/pengaduan'] button[type=submit]")
        page.wait_for_load_state()
        page.locator("a[href^='/pengaduan/tiket/']").first.click()
        page.fill("textarea[name=text]", "Saya sudah mencoba lagi, tetap GAGAL.")
        page.get_by_test_id("reply").click()
        page.wait_for_load_state()
        shot(page, "16-my-ticket")
        page.goto(f"{url}/akun/kata-sandi")
        shot(page, "17-change-password")
        staff = browser.new_page(viewport={"width": 1280, "height": 800})
        log_in(staff, url, "operator")
        staff.goto(f"{url}/konsol/reset-sandi")
        staff.fill("input[name=username]", "siti")
        staff.fill("input[name=reason]", "penelepon CC 123 diverifikasi: IDPEL, alamat, token terakhir")
        staff.click("form[action='/konsol/reset-sandi'] button[type=submit]")
        staff.wait_for_load_state()
        shot(staff, "18-reset-code-issued")
        visitor = browser.new_page(viewport={"width": 1280, "height": 800})
        visitor.goto(f"{url}/lupa-sandi")
        shot(visitor, "19-forgot-password")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
