"""Browser tests of the customer flows of issue 14 (Playwright, Debian's chromium): the digits
typed on the virtual meter reach "Token gagal?", copy and PDF on the receipt, history filters,
adding a meter, the complaint with reply/confirm, and a password reset issued by an operator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from prabayar.web.devserver import running_server

from .conftest import BUDI_METER, JOKO_IDPEL, JOKO_METER
from .test_browser import CHROMIUM_ARGS, buy_token, chromium_path, key_in_by_keypad, log_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

expect: Any = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("browser-customer")) as url:
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
def context(browser: Any, base_url: str) -> Iterator[Any]:
    opened = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    opened.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    yield opened
    opened.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def grouped(digits: str) -> str:
    return " ".join(digits[i : i + 4] for i in range(0, 20, 4))


def test_refused_digits_prefill_token_gagal(page: Any, base_url: str) -> None:
    log_in(page, base_url, "budi")
    token = buy_token(page, base_url, "20000")
    page.goto(f"{base_url}/meter/{BUDI_METER}")
    wrong = token[:5] + str((int(token[5]) + 1) % 10) + token[6:]
    key_in_by_keypad(page, wrong)
    expect(page.get_by_test_id("lcd-main")).to_have_text("GAGAL")
    page.get_by_test_id("why-rejected").locator("a").click()
    page.wait_for_url(re.compile(r".*/token-gagal\?meter=.*"))
    assert wrong not in page.url
    assert page.input_value("input[name=token]") == wrong
    assert page.input_value("input[name=display]") == "GAGAL"
    page.click("form[action='/token-gagal'] button[type=submit]")
    expect(page.get_by_test_id("diagnosis")).to_be_visible()
    expect(page.get_by_test_id("diagnosis")).to_contain_text(grouped(token))


def test_receipt_copy_and_pdf(page: Any, base_url: str) -> None:
    from pypdf import PdfReader

    log_in(page, base_url, "budi")
    token = buy_token(page, base_url, "50000")
    expect(page.get_by_test_id("sold-at")).to_have_text(re.compile(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2} WIB"))
    expect(page.get_by_test_id("channel-name")).to_have_text("Aplikasi PLN Demo")
    page.get_by_test_id("copy-token").click()
    expect(page.get_by_test_id("copy-status")).to_have_text("Token disalin")
    assert page.evaluate("navigator.clipboard.readText()") == token
    with page.expect_download() as info:
        page.get_by_test_id("pdf").click()
    download = info.value
    assert download.suggested_filename.startswith("struk-") and download.suggested_filename.endswith(".pdf")
    text = "".join(p.extract_text() for p in PdfReader(str(download.path())).pages)
    assert grouped(token) in text and "RP BAYAR" in text


def test_history_search_and_pages(page: Any, base_url: str) -> None:
    log_in(page, base_url, "budi")
    token = buy_token(page, base_url, "20000")
    page.goto(f"{base_url}/riwayat")
    page.fill("input[name=q]", token[2:10])
    page.click("[data-testid=history-filters] button[type=submit]")
    expect(page.get_by_test_id("history-token")).to_have_count(1)
    expect(page.get_by_test_id("history-token")).to_have_text(grouped(token))
    expect(page.get_by_test_id("history-channel")).to_have_text("Aplikasi PLN Demo")
    page.fill("input[name=dari]", "2000-01-01")
    page.fill("input[name=sampai]", "2000-01-31")
    page.fill("input[name=q]", "")
    page.click("[data-testid=history-filters] button[type=submit]")
    expect(page.get_by_test_id("history-token")).to_have_count(0)


def test_add_a_meter_and_see_it_blocked(page: Any, base_url: str) -> None:
    log_in(page, base_url, "sri")
    page.wait_for_url(re.compile(r".*/akun$"))
    page.fill("#tambah input[name=meter_number]", JOKO_METER)
    page.fill("#tambah input[name=idpel]", JOKO_IDPEL)
    page.click("#tambah button[type=submit]")
    card = page.locator(f"[data-meter='{JOKO_METER}']")
    expect(card).to_be_visible()
    expect(card.get_by_test_id("blocked")).to_be_visible()
    expect(card.get_by_test_id("status")).to_have_text("diblokir")


def test_complaint_reply_then_confirm(page: Any, base_url: str) -> None:
    log_in(page, base_url, "siti")
    page.goto(f"{base_url}/pengaduan")
    page.fill("form[action='/pengaduan'] input[name=token]", "1234 5678 9012 3456 7890")
    page.fill("form[action='/pengaduan'] input[name=display]", "GAGAL")
    page.fill("form[action='/pengaduan'] textarea[name=description]", "Token saya ditolak terus oleh meter.")
    page.click("form[action='/pengaduan'] button[type=submit]")
    page.locator("a[href^='/pengaduan/tiket/']").first.click()
    expect(page.get_by_test_id("my-typed")).to_have_text("1234 5678 9012 3456 7890")
    page.fill("textarea[name=text]", "Sudah saya coba lagi pagi ini.")
    page.get_by_test_id("reply").click()
    expect(page.get_by_test_id("my-conversation")).to_contain_text("Sudah saya coba lagi pagi ini.")


def test_operator_issues_a_reset_code_the_customer_uses_it(browser: Any, base_url: str) -> None:
    staff = browser.new_context()
    desk = staff.new_page()
    log_in(desk, base_url, "operator")
    desk.wait_for_url(re.compile(r".*/konsol$"))
    desk.goto(f"{base_url}/konsol/reset-sandi")
    desk.fill("input[name=username]", "siti")
    desk.fill("input[name=reason]", "penelepon diverifikasi (IDPEL, alamat)")
    desk.click("form[action='/konsol/reset-sandi'] button[type=submit]")
    code = desk.get_by_test_id("reset-code").inner_text()
    assert re.fullmatch(r"\d{8}", code)
    staff.close()
    customer = browser.new_context()
    page = customer.new_page()
    page.goto(f"{base_url}/masuk")
    page.click("text=Lupa kata sandi?")
    page.fill("input[name=username]", "siti")
    page.fill("input[name=code]", code)
    page.fill("input[name=new]", "siti-baru-123")
    page.fill("input[name=repeat]", "siti-baru-123")
    page.click("form[action='/lupa-sandi'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/masuk$"))
    page.fill("input[name=username]", "siti")
    page.fill("input[name=password]", "siti-baru-123")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/akun$"))
    customer.close()
