"""Browser tests of the live chat and the agent console (issue 14), two browser contexts at once:
a customer talks to the assistant, hands over, and an agent in another context answers in real
time (server-sent events, no page reload on either side); the console's confirm step and the
audit log in words.

Uses the fixtures of ``test_browser`` (Debian's chromium against a real uvicorn server).
``PRABAYAR_SCREENSHOTS=docs/screenshots`` also writes screenshots there (``18-*`` .. ``21-*``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import BUDI_METER
from .test_browser import base_url, browser, buy_token, expect, log_in, page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _shot(page: Any, name: str) -> None:  # noqa: F811
    target = os.environ.get("PRABAYAR_SCREENSHOTS")
    if target:
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)


def _say(page: Any, text: str) -> None:  # noqa: F811
    before = page.locator("#chat-log li").count()
    page.fill("form[action$='/kirim'] input[name=text]", text)
    page.click("form[action$='/kirim'] button[type=submit]")
    expect(page.locator("#chat-log li")).not_to_have_count(before)


def test_chat_hand_over_between_a_customer_and_an_agent(browser: Any, base_url: str) -> None:  # noqa: F811
    customer_context = browser.new_context(viewport={"width": 1000, "height": 900})
    agent_context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        customer = customer_context.new_page()
        log_in(customer, base_url, "budi")
        customer.wait_for_url(re.compile(r".*/akun$"))
        digits = buy_token(customer, base_url)
        wrong = digits[:9] + str((int(digits[9]) + 1) % 10) + digits[10:]
        customer.click("nav >> text=Obrolan")
        customer.wait_for_url(re.compile(r".*/obrolan$"))
        expect(customer.get_by_test_id("chat-log")).to_contain_text("asisten token")
        _say(customer, BUDI_METER)
        _say(customer, wrong)
        _say(customer, "GAGAL")
        grouped = " ".join(digits[i : i + 4] for i in range(0, 20, 4))
        expect(customer.locator("#chat-log li.bot").last.locator("xpath=preceding-sibling::li[1]")).to_contain_text(
            grouped
        )
        _shot(customer, "18-live-chat-assistant")
        customer.click("[data-testid=chat-handover]")
        expect(customer.get_by_test_id("chat-log")).to_contain_text("Menghubungkan Anda dengan petugas")
        expect(customer.get_by_test_id("chat")).to_have_attribute("data-status", "waiting")

        agent = agent_context.new_page()
        log_in(agent, base_url, "operator")
        agent.wait_for_url(re.compile(r".*/konsol$"))
        agent.click("nav >> text=Obrolan")
        agent.wait_for_url(re.compile(r".*/konsol/obrolan$"))
        _shot(agent, "19-chat-queue")
        agent.click("[data-testid=chat-queue] a >> nth=0")
        agent.wait_for_url(re.compile(r".*/konsol/obrolan/\d+$"))
        expect(agent.get_by_test_id("chat-diagnosis")).to_contain_text(wrong)
        agent.click("[data-testid=chat-take]")
        agent.wait_for_url(re.compile(r".*/konsol/obrolan/\d+$"))
        # the customer sees the agent join without reloading (server-sent events)
        expect(customer.get_by_test_id("chat-log")).to_contain_text("Petugas operator bergabung")
        expect(customer.get_by_test_id("chat")).to_have_attribute("data-status", "agent")
        _say(agent, "Halo Pak Budi, saya bantu cek.")
        expect(customer.locator("#chat-log li.agent")).to_contain_text("Halo Pak Budi, saya bantu cek.")
        _say(customer, "Baik, terima kasih")
        expect(agent.locator("#chat-log li.customer").last).to_contain_text("Baik, terima kasih")
        _shot(agent, "20-chat-agent")
        agent.click("[data-testid=chat-open-ticket]")
        agent.wait_for_url(re.compile(r".*/konsol/tiket/PGD-.*"))
        expect(agent.get_by_test_id("ticket")).to_contain_text("Transkrip obrolan")
        expect(agent.get_by_test_id("typed-digits")).to_have_text(wrong)
        expect(customer.get_by_test_id("chat-log")).to_contain_text("Tiket pengaduan PGD-")
    finally:
        customer_context.close()
        agent_context.close()


def test_console_confirm_step_then_the_audit_log_in_words(page: Any, base_url: str) -> None:  # noqa: F811
    log_in(page, base_url, "operator")
    page.wait_for_url(re.compile(r".*/konsol$"))
    page.fill("input[name=q]", "budi santosa")
    page.click("form[role=search] button[type=submit]")
    expect(page.get_by_test_id("customer-status")).to_have_text("aktif")
    page.select_option("select[name=kind]", "clear_tamper")
    page.fill("textarea[name=reason]", "segel diperiksa petugas")
    page.click("form[action='/konsol/token-manajemen'] button[type=submit]")
    expect(page.get_by_test_id("confirm")).to_contain_text("segel diperiksa petugas")
    expect(page.get_by_test_id("issued")).to_have_count(0)
    page.click("[data-testid=confirm-issue]")
    expect(page.get_by_test_id("issued")).to_be_visible()
    expect(page.get_by_test_id("past-tokens")).to_contain_text("segel diperiksa petugas")
    page.goto(f"{base_url}/konsol/audit")
    page.select_option("select[name=action]", "management.")
    page.click("[data-testid=audit-filters] button[type=submit]")
    expect(page.get_by_test_id("audit")).to_contain_text("Token clear tamper diterbitkan")
    _shot(page, "21-audit-log-in-words")
