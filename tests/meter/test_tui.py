"""The terminal meter, driven with Textual's pilot: typed and clicked key-ins, LCD, LED, alarm."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from prabayar.meter import AesGcmBox, CreditLed, RelayState, StateFile
from prabayar.meter.tui import MeterApp, group

from .conftest import MakeRig, Rig

# The apps below refresh hourly: the tests call refresh_status() themselves, so no timer
# tick can race the pilot.


def test_group() -> None:
    assert group("12345678901") == "1234 5678 901"
    assert group("") == ""


@pytest.mark.asyncio
async def test_typed_token_is_grouped_and_accepted(rig: Rig) -> None:
    digits = rig.credit("20")
    app = MeterApp(rig.meter, refresh_seconds=3600)
    async with app.run_test() as pilot:
        await pilot.press(*digits[:9])
        assert app.digits == digits[:9]
        assert str(app.query_one("#entry").render()).endswith(group(digits[:9]))
        await pilot.press(*digits[9:], "enter")
        assert app.lcd_id[0] == "BENAR" and app.lcd_en[0] == "ACCEPT"
        assert app.lcd_id[-1] == "Sisa 20.00 kWh"
        assert app.digits == ""
        assert app.last_status is not None
        assert app.last_status.led is CreditLed.GREEN
        assert app.last_status.relay is RelayState.CLOSED
    assert rig.meter.state.credit_kwh == Decimal(20)


@pytest.mark.asyncio
async def test_more_than_20_digits_are_ignored_and_backspace_deletes(rig: Rig) -> None:
    app = MeterApp(rig.meter, refresh_seconds=3600)
    async with app.run_test() as pilot:
        await pilot.press(*("1" * 25))
        assert len(app.digits) == 20
        await pilot.press("backspace", "backspace")
        assert len(app.digits) == 18
        await pilot.press("escape")
        assert app.digits == ""
        await pilot.press("enter")  # nothing typed: nothing happens
        assert app.lcd_id[0] == "0.00 kWh"


@pytest.mark.asyncio
async def test_clicked_service_code(rig: Rig) -> None:
    rig.enter(rig.credit("12.5"))
    app = MeterApp(rig.meter, refresh_seconds=3600)
    async with app.run_test() as pilot:
        await pilot.click("#k3")
        await pilot.click("#k7")
        await pilot.click("#enter")
        assert app.lcd_id == ("37", "Sisa 12.50 kWh")
        assert app.lcd_en == ("37", "Remaining 12.50 kWh")
        await pilot.click("#k9")
        await pilot.click("#back")
        assert app.digits == ""


@pytest.mark.asyncio
async def test_wrong_token_shows_gagal_and_unknown_code(rig: Rig) -> None:
    app = MeterApp(rig.meter, refresh_seconds=3600)
    async with app.run_test() as pilot:
        await pilot.press(*"12345678901234567890", "enter")
        assert app.lcd_id == ("GAGAL", "Token salah")
        await pilot.press(*"99", "enter")
        assert app.lcd_en[0] == "UNKNOWN CODE"
        await pilot.press("escape")  # back to the idle display
        assert app.lcd_id == ("0.00 kWh", "KREDIT HABIS")


@pytest.mark.asyncio
async def test_low_credit_alarm_and_led(rig: Rig) -> None:
    rig.enter(rig.credit("4"))
    app = MeterApp(rig.meter, refresh_seconds=3600)
    async with app.run_test() as pilot:
        assert app.last_status is not None and app.last_status.alarm == ("low_credit",)
        assert "ALARM" in str(app.query_one("#alarm").render())
        assert app.last_status.led is CreditLed.RED
        await pilot.press(*"123000", "enter")
        assert app.last_status.alarm == ()
        assert str(app.query_one("#alarm").render()) == ""


@pytest.mark.asyncio
async def test_load_buttons_drain_credit_over_time(rig: Rig) -> None:
    rig.enter(rig.credit("10"))
    app = MeterApp(rig.meter, refresh_seconds=3600)
    async with app.run_test() as pilot:
        await pilot.click("#load-up")
        await pilot.press("plus")
        assert rig.meter.state.load_watts == 1000
        await pilot.press("minus")
        assert rig.meter.state.load_watts == 500
        rig.clock.advance(timedelta(hours=2))
        app.refresh_status()
        assert app.last_status is not None and app.last_status.credit_kwh == Decimal(9)
        assert "500 W" in str(app.query_one("#relay").render())
        await pilot.click("#load-down")
        await pilot.click("#load-down")
        assert rig.meter.state.load_watts == 0


@pytest.mark.asyncio
async def test_state_file_problem_is_shown_not_raised(make_rig: MakeRig, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    rig = make_rig(store=StateFile(path, AesGcmBox(bytes(32))))
    app = MeterApp(rig.meter, refresh_seconds=3600)
    async with app.run_test() as pilot:
        path.write_text("{broken", encoding="utf-8")
        await pilot.press(*"37", "enter")
        assert app.lcd_id[0] == "KESALAHAN" and app.lcd_en[0] == "ERROR"
        assert "not valid JSON" in app.lcd_en[1]


@pytest.mark.asyncio
async def test_the_display_follows_the_clock_by_itself(rig: Rig) -> None:
    rig.enter(rig.credit("10"))
    rig.meter.set_load(1000)
    app = MeterApp(rig.meter, refresh_seconds=0.05)
    async with app.run_test() as pilot:
        rig.clock.advance(timedelta(hours=6))
        for _ in range(100):
            await pilot.pause(0.05)
            if app.last_status is not None and app.last_status.credit_kwh == Decimal(4):
                break
        assert app.last_status is not None and app.last_status.credit_kwh == Decimal(4)
        assert app.lcd_id[0] == "4.00 kWh" and app.last_status.alarm == ("low_credit",)
