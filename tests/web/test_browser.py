"""Browser tests: Playwright drives Debian's chromium against a real uvicorn server.

Log in, buy a token, key it into the virtual meter and see BENAR and the credit rise; key in a
token with one wrong digit and see GAGAL. Skipped (with the reason) only when no chromium is
installed; CI installs it (``.ci/run``, ``make browser``).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from prabayar.web.devserver import running_server

from .conftest import BUDI_METER, DEMO_PASSWORDS

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

expect: Any = pytest.importorskip("playwright.sync_api").expect

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("PRABAYAR_BROWSER"), "/usr/bin/chromium",
                      shutil.which("chromium")):  # fmt: skip
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("browser-data")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium found (install Debian's chromium: make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def credit_of(page: Any) -> Decimal:
    text = page.get_by_test_id("credit").inner_text()  # "33.80 kWh", as the meter's LCD shows it
    number = re.fullmatch(r"(\d+\.\d\d) kWh", text.strip())
    assert number is not None, text
    return Decimal(number.group(1))


def log_in(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/masuk")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORDS[username])
    page.click("button[type=submit]")


def buy_token(page: Any, base_url: str, nominal: str = "50000") -> str:
    page.goto(f"{base_url}/beli?meter={BUDI_METER}")
    page.check(f"input[name=nominal][value='{nominal}']")
    page.click("form[action='/beli/rincian'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/beli/rincian$"))
    page.click("form[action='/beli/bayar'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/struk/.*"))
    return str(page.get_by_test_id("token").inner_text()).replace(" ", "")


def key_in_by_keypad(page: Any, digits: str) -> None:
    page.click(".keypad button[data-key=clear]")
    for digit in digits:
        page.click(f".keypad button[data-key='{digit}']")
    page.click(".keypad button.enter")


def test_buy_then_enter_on_the_virtual_meter(page: Any, base_url: str) -> None:
    log_in(page, base_url, "budi")
    page.wait_for_url(re.compile(r".*/akun$"))
    expect(page.locator(".meter-card h2")).to_have_text(BUDI_METER)
    token = buy_token(page, base_url)
    assert len(token) == 20
    page.click("text=Masukkan di meter virtual")
    page.wait_for_url(re.compile(rf".*/meter/{BUDI_METER}$"))
    before = credit_of(page)

    key_in_by_keypad(page, token)
    expect(page.get_by_test_id("lcd-main")).to_have_text("BENAR")
    after = credit_of(page)
    assert after > before

    wrong = token[:-1] + str((int(token[-1]) + 1) % 10)
    page.fill("#keys", wrong)
    page.click(".keypad button.enter")
    expect(page.get_by_test_id("lcd-main")).to_have_text("GAGAL")
    assert credit_of(page) == after


def test_keypad_groups_digits_as_typed(page: Any, base_url: str) -> None:
    log_in(page, base_url, "budi")
    page.goto(f"{base_url}/meter/{BUDI_METER}")
    for digit in "123456789":
        page.click(f".keypad button[data-key='{digit}']")
    assert page.input_value("#keys") == "1234 5678 9"


def test_operator_console_in_english(page: Any, base_url: str) -> None:
    log_in(page, base_url, "operator")
    page.wait_for_url(re.compile(r".*/konsol$"))
    page.click("text=English")
    expect(page.get_by_role("button", name="Search")).to_be_visible()
    page.fill("input[name=q]", BUDI_METER)
    page.click("button:has-text('Search')")
    expect(page.locator("h2", has_text="Customer: BUDI SANTOSA WIJAYA")).to_be_visible()
    # exact: the console also lists "Past management tokens" (agent console, issue 14)
    expect(page.get_by_role("heading", name="Management tokens", exact=True)).to_be_visible()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    opened = context.new_page()
    yield opened
    context.close()


def test_history_on_a_phone_shows_the_whole_token(phone: Any, base_url: str) -> None:
    """The token is what a customer came for: on a narrow screen each purchase is a small card
    and the token lies inside the screen, not in a table column scrolled out of sight."""
    log_in(phone, base_url, "budi")
    phone.wait_for_url(re.compile(r".*/akun$"))
    token = buy_token(phone, base_url, "20000")
    phone.goto(f"{base_url}/riwayat")
    first = phone.get_by_test_id("history-token").first
    expect(first).to_have_text(" ".join(token[i : i + 4] for i in range(0, 20, 4)))
    box = first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # Every menu entry is on the screen (wrapped), none scrolled away out of sight.
    for link in phone.locator("nav.nav a").all():
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, link.inner_text()


def test_ticket_steps_keep_each_field_beside_its_button(page: Any, base_url: str) -> None:
    log_in(page, base_url, "admin")  # the key change step is offered to admins only
    page.wait_for_url(re.compile(r".*/konsol$"))
    page.click("nav >> text=Tiket pengaduan")
    page.wait_for_url(re.compile(r".*/konsol/tiket$"))
    page.fill("form[method=post][action='/konsol/tiket'] input[name=meter_number]", BUDI_METER)
    page.fill("form[method=post][action='/konsol/tiket'] textarea[name=description]", "Layout check")
    page.click("form[method=post][action='/konsol/tiket'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/konsol/tiket/PGD-.*"))
    field = page.locator("form[action$='/assign'] input[name=technician]").bounding_box()
    button = page.locator("form[action$='/assign'] button").bounding_box()
    assert field is not None and button is not None
    assert abs(field["y"] - button["y"]) < 10 and button["x"] > field["x"] + field["width"] - 1
    box = page.locator("form[action$='/key_change'] input[name=rollover]").bounding_box()
    label = page.locator("form[action$='/key_change'] label").bounding_box()
    assert box is not None and label is not None and box["height"] < label["height"] + 1
    assert abs((box["y"] + box["height"] / 2) - (label["y"] + label["height"] / 2)) < 6


def test_a_printed_receipt_is_the_struk_without_the_menu(page: Any, base_url: str) -> None:
    log_in(page, base_url, "budi")
    page.wait_for_url(re.compile(r".*/akun$"))
    buy_token(page, base_url, "20000")
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.locator("p.actions")).to_be_hidden()
    expect(page.get_by_test_id("receipt")).to_be_visible()
    expect(page.get_by_test_id("token")).to_be_visible()
    page.emulate_media(media="screen")
    expect(page.locator("header.topbar")).to_be_visible()
