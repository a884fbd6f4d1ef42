"""Keypad service codes: the documented table, each code's answer, unknown codes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from prabayar import sts
from prabayar.meter import SERVICE_CODES, ResultKind, TamperCause

from .conftest import Rig


def code(rig: Rig, keys: str) -> tuple[str, ...]:
    result = rig.meter.key_in(keys)
    assert result.kind is ResultKind.CODE, result
    return result.lines_en


def test_table_has_the_codes_of_the_issue() -> None:
    codes = {c.code for c in SERVICE_CODES}
    assert {"37", "54", "59", "41", "44", "47", "75", "79", "456xx", "123000", "123030", "812", "00", "08"} <= codes
    assert all(c.meaning_id and c.meaning_en for c in SERVICE_CODES)


def test_remaining_and_cumulative_kwh(rig: Rig) -> None:
    rig.enter(rig.credit("20"))
    assert code(rig, "37") == ("37", "Remaining 20.00 kWh")
    rig.meter.set_load(1000)
    rig.clock.advance(timedelta(minutes=90))
    assert code(rig, "37") == ("37", "Remaining 18.50 kWh")
    assert rig.meter.key_in("37").lines_id == ("37", "Sisa 18.50 kWh")
    assert code(rig, "03") == ("03", "Used 1.50 kWh")


def test_voltage_current_power(rig: Rig) -> None:
    assert code(rig, "41") == ("41", "220.0 V")
    rig.meter.set_load(1100)
    assert code(rig, "47") == ("47", "0 W")  # relay open: no credit yet
    rig.enter(rig.credit("20"))
    assert code(rig, "47") == ("47", "1100 W")
    assert code(rig, "44") == ("44", "5.00 A")


def test_last_token_and_its_kwh(rig: Rig) -> None:
    assert code(rig, "54") == ("54", "No token yet")
    assert code(rig, "59") == ("59", "No credit token yet")
    digits = rig.credit("33.3")
    rig.enter(digits)
    rig.enter(rig.encode(sts.SetMaximumPowerLimit(tid=rig.next_tid(), watts=2200)))
    shown = code(rig, "54")
    assert shown[1] == sts.token_number.format(rig.meter.state.last_tokens[-1].digits)
    assert shown[2].endswith("WIB")
    assert code(rig, "59") == ("59", "33.3 kWh")


def test_meter_number(rig: Rig) -> None:
    assert code(rig, "75") == ("75", "0123 4567 897")


def test_alarm_threshold_show_set_silence_restore_mute(rig: Rig) -> None:
    assert code(rig, "79") == ("79", "Alarm < 5.00 kWh")
    rig.enter(rig.credit("4.9"))
    assert rig.meter.status().alarm == ("low_credit",)
    assert code(rig, "45601") == ("45601", "Alarm < 1.00 kWh")
    assert code(rig, "79") == ("79", "Alarm < 1.00 kWh")
    assert rig.meter.status().alarm == ()
    code(rig, "45610")
    assert rig.meter.status().alarm == ("low_credit",)
    assert code(rig, "123000") == ("123000", "Alarm off")
    assert rig.meter.status().alarm == ()
    assert code(rig, "123030") == ("123030", "Alarm on")
    assert rig.meter.status().alarm == ("low_credit",)
    assert code(rig, "812") == ("812", "Alarm muted 10 min")
    assert rig.meter.status().alarm == ()
    rig.clock.advance(timedelta(minutes=11))
    assert rig.meter.status().alarm == ("low_credit",)


def test_mute_also_hushes_tamper_but_silence_does_not(rig: Rig) -> None:
    rig.enter(rig.credit("50"))
    rig.meter.tamper(TamperCause.COVER_OPEN_POWER_ON)
    code(rig, "123000")
    assert rig.meter.status().alarm == ("tamper",)
    code(rig, "812")
    assert rig.meter.status().alarm == ()


def test_tamper_status_with_cause(rig: Rig) -> None:
    assert code(rig, "08") == ("08", "Tamper 0 none")
    rig.meter.tamper(TamperCause.REVERSE_AND_BYPASS)
    assert code(rig, "08") == ("08", "Tamper 5 reverse current and bypass")
    assert rig.meter.key_in("08").lines_id == ("08", "Tamper 5 arus terbalik dan bypass")


def test_restart_forgets_volatile_things_only(rig: Rig) -> None:
    rig.enter(rig.credit("10"))
    rig.meter.tamper(TamperCause.MAGNET)
    code(rig, "812")
    assert code(rig, "00") == ("00", "Restarted")
    state = rig.meter.state
    assert state.muted_until is None
    assert state.tamper is TamperCause.MAGNET and state.credit_kwh == Decimal(10)


@pytest.mark.parametrize("keys", ["99", "4560", "456100", "123456", "1", "09"])
def test_unknown_codes_get_a_clear_message(rig: Rig, keys: str) -> None:
    result = rig.meter.key_in(keys)
    assert result.kind is ResultKind.UNKNOWN_CODE
    assert result.lines_id[0] == "KODE SALAH" and keys in result.lines_en[1]
    assert rig.meter.state.wrong_entries == 0


def test_enter_code_with_empty_input(rig: Rig) -> None:
    result = rig.meter.enter_code("")
    assert result.kind is ResultKind.UNKNOWN_CODE and "Code -" in result.lines_en[1]
