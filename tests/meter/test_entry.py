"""Scenario tests: every display result of token entry, with tokens made by prabayar.sts."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from prabayar import sts
from prabayar.meter import MeterSettings, MeterState, RelayState, ResultKind, TamperCause

from .conftest import CTS_MISTY1_KEY, MakeRig, Rig, params_for

VOLATILE = {"events", "wrong_entries", "locked_until", "meter_time", "last_entry"}


def core(state: MeterState) -> dict[str, Any]:
    """Everything but what a rejection may touch (the counter, the lockout, the log, the last result)."""
    return {k: copy.deepcopy(v) for k, v in vars(state).items() if k not in VOLATILE}


def test_credit_token_is_accepted_with_amount_and_new_total(rig: Rig) -> None:
    first = rig.enter(rig.credit("20"))
    assert first.kind is ResultKind.ACCEPT and first.accepted
    assert first.lines_id == ("BENAR", "+20.0 kWh", "Sisa 20.00 kWh")
    assert first.lines_en == ("ACCEPT", "+20.0 kWh", "Total 20.00 kWh")
    assert first.kwh_added == Decimal("20.0") and first.credit_kwh == Decimal("20.0")
    second = rig.enter(rig.credit("12.5"))
    assert second.lines_id[-1] == "Sisa 32.50 kWh"
    assert rig.meter.state.relay is RelayState.CLOSED
    assert rig.meter.state.last_tokens[-1].kwh == Decimal("12.5")
    assert "BENAR" in second.text and "ACCEPT" in second.text


def test_identity(rig: Rig) -> None:
    assert rig.meter.state.meter_number == "01234567897"
    assert rig.meter.state.pan == "600727012345678977"  # IIN 600727 + DRN + Luhn
    assert sts.meter_pan.validate(rig.meter.state.pan) == rig.meter.state.pan


def test_grouped_token_with_spaces_or_dashes_is_accepted(rig: Rig) -> None:
    digits = rig.credit("5")
    grouped = "-".join(digits[i : i + 4] for i in range(0, 20, 4))
    assert rig.meter.key_in(grouped).kind is ResultKind.ACCEPT


def test_misty1_meter_accepts_its_tokens(make_rig: MakeRig) -> None:
    rig = make_rig(key_hex=CTS_MISTY1_KEY)
    result = rig.enter(rig.credit("7.3"))
    assert result.kind is ResultKind.ACCEPT and result.credit_kwh == Decimal("7.3")


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("1234 5678 9012 3456", "length"),  # the "16 digits" misinformation (PLN.md 1.3)
        ("1234567890123456789O", "format"),
        ("99999999999999999999", "format"),  # above 2**66
    ],
)
def test_malformed_entries_are_rejected(rig: Rig, typed: str, reason: str) -> None:
    result = rig.enter(typed)
    assert result.kind is ResultKind.REJECT and result.reason == reason
    assert result.lines_id[0] == "GAGAL" and result.lines_en[0] == "REJECT"
    assert rig.meter.state.wrong_entries == 1


@pytest.mark.parametrize("typed", ["", "   ", " - "])
def test_enter_on_an_empty_display_is_not_a_wrong_entry(rig: Rig, typed: str) -> None:
    for _ in range(5):
        result = rig.meter.key_in(typed)
        assert (result.kind, result.reason) == (ResultKind.REJECT, "empty")
    assert rig.meter.state.wrong_entries == 0 and rig.meter.status().lockout_remaining is None


def test_token_for_another_meter_fails_crc(rig: Rig) -> None:
    other = sts.DecoderKey.from_hex("0123456789abcdef")
    digits = sts.encode(sts.ElectricityCredit(tid=rig.next_tid(), amount=Decimal(10)), other)
    result = rig.enter(digits)
    assert (result.kind, result.reason) == (ResultKind.REJECT, "crc")


def test_one_mistyped_digit_fails_crc(rig: Rig) -> None:
    digits = rig.credit("10")
    typo = digits[:7] + str((int(digits[7]) + 1) % 10) + digits[8:]
    result = rig.enter(typo)
    assert result.kind is ResultKind.REJECT and result.reason in {"crc", "format"}
    assert rig.meter.state.credit_kwh == 0


def test_class_3_is_rejected(rig: Rig) -> None:
    result = rig.enter(f"{3 << 27:020d}")
    assert (result.kind, result.reason) == (ResultKind.REJECT, "class")


def test_replayed_token_shows_used(rig: Rig) -> None:
    digits = rig.credit("20")
    rig.enter(digits)
    result = rig.enter(digits)
    assert result.kind is ResultKind.USED
    assert result.lines_id[0] == "USED" and result.credit_kwh == Decimal(20)
    assert rig.meter.state.wrong_entries == 0


def test_token_older_than_manufacture_shows_old(rig: Rig) -> None:
    made = sts.tid_from_datetime(rig.meter.state.manufactured_at, rig.params.base_date)
    result = rig.enter(rig.credit("20", tid=made - 1))
    assert result.kind is ResultKind.OLD and result.lines_en[0] == "OLD"


def test_token_pushed_out_of_tid_memory_shows_old(make_rig: MakeRig) -> None:
    rig = make_rig(settings=MeterSettings(tid_memory_size=3))
    early = rig.credit("1")
    for _ in range(3):
        rig.clock.advance(timedelta(minutes=5))
        assert rig.enter(rig.credit("1")).kind is ResultKind.ACCEPT
    assert rig.enter(early).kind is ResultKind.OLD


def test_an_older_unused_token_still_in_range_is_accepted(rig: Rig) -> None:
    """Tokens can be keyed in out of order, as long as they are newer than the memory's oldest."""
    first = rig.credit("1")
    rig.clock.advance(timedelta(hours=1))
    assert rig.enter(rig.credit("2")).kind is ResultKind.ACCEPT
    assert rig.enter(first).kind is ResultKind.ACCEPT
    assert rig.meter.state.credit_kwh == Decimal(3)


def test_credit_beyond_register_shows_over(make_rig: MakeRig) -> None:
    rig = make_rig(settings=MeterSettings(credit_max_kwh=Decimal(100)))
    assert rig.enter(rig.credit("90")).kind is ResultKind.ACCEPT
    digits = rig.credit("20")
    result = rig.enter(digits)
    assert result.kind is ResultKind.OVER and result.lines_id[0] == "OVER"
    assert result.credit_kwh == Decimal(90)
    assert rig.enter(rig.credit("10")).kind is ResultKind.ACCEPT  # exactly the maximum
    assert rig.meter.state.credit_kwh == Decimal(100)


def test_token_past_key_expiry_shows_key_expired(make_rig: MakeRig) -> None:
    rig = make_rig(params=params_for(ken=80))  # 2025 on the 2014 base: TID >> 16 is 88
    result = rig.enter(rig.credit("5"))
    assert result.kind is ResultKind.KEY_EXPIRED
    assert result.lines_id[0] == "KEY EXP" and result.lines_en[0] == "KEY EXPIRED"


def test_default_key_refuses_credit(make_rig: MakeRig) -> None:
    rig = make_rig(params=params_for(key_type=sts.KeyType.DDTK))
    result = rig.enter(rig.credit("5"))
    assert result.kind is ResultKind.DDTK_ERROR and rig.meter.state.credit_kwh == 0


@pytest.mark.parametrize(
    "token_type",
    [sts.WaterCredit, sts.GasCredit, sts.ElectricityCurrencyCredit],
)
def test_other_utility_credit_is_a_function_error(rig: Rig, token_type: type) -> None:
    token = token_type(tid=rig.next_tid(), amount=Decimal(5))
    result = rig.enter(rig.encode(token))
    assert result.kind is ResultKind.FUNCTION_ERROR and result.lines_id[0] == "GAGAL"


@pytest.mark.parametrize("token_type", [sts.SetTariffRate, sts.SetWaterMeterFactor])
def test_unsupported_management_is_a_function_error(rig: Rig, token_type: type) -> None:
    result = rig.enter(rig.encode(token_type(tid=rig.next_tid())))
    assert result.kind is ResultKind.FUNCTION_ERROR


def test_clear_credit_of_a_missing_register_is_a_range_error(rig: Rig) -> None:
    rig.enter(rig.credit("5"))
    result = rig.enter(rig.encode(sts.ClearCredit(tid=rig.next_tid(), register=2)))
    assert (result.kind, result.reason) == (ResultKind.RANGE_ERROR, "register")
    assert rig.meter.state.credit_kwh == Decimal(5)


@pytest.mark.parametrize("register", [0, 0xFFFF])
def test_clear_credit_empties_the_register_and_opens_the_relay(rig: Rig, register: int) -> None:
    rig.enter(rig.credit("5"))
    result = rig.enter(rig.encode(sts.ClearCredit(tid=rig.next_tid(), register=register)))
    assert result.kind is ResultKind.ACCEPT and result.credit_kwh == 0
    assert rig.meter.state.relay is RelayState.OPEN_NO_CREDIT


def test_power_limit_token_sets_and_removes_the_limit(rig: Rig) -> None:
    result = rig.enter(rig.encode(sts.SetMaximumPowerLimit(tid=rig.next_tid(), watts=1300)))
    assert result.kind is ResultKind.ACCEPT and result.lines_en[1] == "Power limit 1300 W"
    assert rig.meter.state.power_limit_watts == 1300
    rig.enter(rig.encode(sts.SetMaximumPowerLimit(tid=rig.next_tid(), watts=0)))
    assert rig.meter.state.power_limit_watts is None


def test_power_limit_below_present_load_trips_the_relay(rig: Rig) -> None:
    rig.enter(rig.credit("50"))
    rig.meter.set_load(2000)
    rig.enter(rig.encode(sts.SetMaximumPowerLimit(tid=rig.next_tid(), watts=900)))
    assert rig.meter.state.relay is RelayState.TRIPPED_OVERLOAD


def test_phase_unbalance_limit_is_stored(rig: Rig) -> None:
    result = rig.enter(rig.encode(sts.SetPhaseUnbalanceLimit(tid=rig.next_tid(), watts=500)))
    assert result.kind is ResultKind.ACCEPT
    assert rig.meter.state.phase_unbalance_limit_watts == 500


def test_tamper_shows_periksa_and_refuses_credit(rig: Rig) -> None:
    rig.enter(rig.credit("10"))
    rig.meter.tamper(TamperCause.REVERSE_AND_BYPASS)
    refused = rig.enter(rig.credit("20"))
    assert refused.kind is ResultKind.TAMPER and refused.lines_id[0] == "PERIKSA"
    assert rig.enter(rig.encode(sts.SetMaximumPowerLimit(tid=rig.next_tid(), watts=900))).kind is (ResultKind.TAMPER)
    assert rig.meter.status().lines_id[1] == "PERIKSA"
    cleared = rig.enter(rig.encode(sts.ClearTamper(tid=rig.next_tid())))
    assert cleared.kind is ResultKind.ACCEPT and rig.meter.state.tamper is None
    assert rig.enter(rig.credit("20")).credit_kwh == Decimal(30)


def test_clear_credit_is_accepted_while_tampered(rig: Rig) -> None:
    rig.enter(rig.credit("10"))
    rig.meter.tamper(TamperCause.MAGNET)
    result = rig.enter(rig.encode(sts.ClearCredit(tid=rig.next_tid(), register=0)))
    assert result.kind is ResultKind.ACCEPT and result.credit_kwh == 0
    assert rig.meter.state.tamper is TamperCause.MAGNET


def test_clear_tamper_replay_is_used(rig: Rig) -> None:
    rig.meter.tamper(TamperCause.BYPASS)
    digits = rig.encode(sts.ClearTamper(tid=rig.next_tid()))
    assert rig.enter(digits).kind is ResultKind.ACCEPT
    rig.meter.tamper(TamperCause.BYPASS)
    assert rig.enter(digits).kind is ResultKind.USED
    assert rig.meter.state.tamper is TamperCause.BYPASS


def rejections(rig: Rig) -> list[tuple[str, ResultKind]]:
    used = rig.credit("1")
    rig.enter(used)
    made = min(rig.meter.state.tid_memory)
    return [
        ("1234", ResultKind.UNKNOWN_CODE),  # not a token at all: handled by key_in only
        ("12345678901234567890", ResultKind.REJECT),
        (used, ResultKind.USED),
        (rig.credit("1", tid=made - 1), ResultKind.OLD),
        (rig.credit("99999"), ResultKind.OVER),
        (rig.encode(sts.WaterCredit(tid=rig.next_tid(), amount=Decimal(1))), ResultKind.FUNCTION_ERROR),
        (rig.encode(sts.ClearCredit(tid=rig.next_tid(), register=3)), ResultKind.RANGE_ERROR),
    ]


def test_a_rejected_token_changes_nothing_but_counter_and_log(rig: Rig) -> None:
    for digits, kind in rejections(rig)[1:]:
        before = core(rig.meter.state)
        events = len(rig.meter.state.events)
        result = rig.enter(digits)
        assert result.kind is kind
        assert core(rig.meter.state) == before
        assert len(rig.meter.state.events) == events + 1


def test_test_display_token_all_tests(rig: Rig) -> None:
    token = sts.MeterTestDisplay(control=(1 << 36) - 1, manufacturer_code=1)
    result = rig.enter(sts.encode(token, None))
    assert result.kind is ResultKind.TEST_DISPLAY
    assert result.lines_id[0] == "TES 0 semua" and "8888888" in result.lines_id
    assert any(line.startswith("KRN 1") for line in result.lines_en)


def test_test_display_token_single_items(rig: Rig) -> None:
    token = sts.MeterTestDisplay(control=(1 << 5) | (1 << 30), manufacturer_code=1)
    result = rig.enter(sts.encode(token, None))
    assert result.lines_en == ("TEST", "SGC 123456", "Test 30 not available")


def test_test_display_token_of_another_manufacturer_is_rejected(rig: Rig) -> None:
    token = sts.MeterTestDisplay(control=1, manufacturer_code=7)
    result = rig.enter(sts.encode(token, None))
    assert (result.kind, result.reason) == (ResultKind.REJECT, "mfr_code")


def test_thirteen_digit_meter_takes_four_digit_test_tokens(make_rig: MakeRig) -> None:
    payload = "010000000000"
    rig = make_rig(number=payload + sts.meter_number.calc_check_digit(payload))
    ok = sts.MeterTestDisplay(control=1, manufacturer_code=100, format=1)
    assert rig.enter(sts.encode(ok, None)).kind is ResultKind.TEST_DISPLAY
    wrong_format = sts.MeterTestDisplay(control=1, manufacturer_code=100 % 256)
    assert rig.enter(sts.encode(wrong_format, None)).kind is ResultKind.REJECT
