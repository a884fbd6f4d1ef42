"""Amounts, CRC, TIDs and key expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prabayar.sts import (
    AmountRangeError,
    BaseDate,
    KeyExpiredError,
    StsError,
    TidRolloverError,
    check_key_expiry,
    crc,
    datetime_from_tid,
    tid_from_datetime,
)
from prabayar.sts import amount as amt


@pytest.mark.parametrize(
    ("kwh", "field"),
    [("0.1", 0x0001), ("25.6", 0x0100), ("1638.3", 0x3FFF), ("1638.4", 0x4000), ("18021.4", 0x7FFF),
     ("18022.3", 0x8000), ("181862.4", 0xC000), ("1820162.4", 0xFFFF), ("0", 0), ("0.01", 0x0001)],
)  # fmt: skip
def test_amount_field(kwh: str, field: int) -> None:
    assert amt.encode_amount(Decimal(kwh)) == field


def test_amount_rounds_up_in_customers_favour() -> None:
    assert amt.representable(Decimal("18022.3")) == Decimal("18022.4")
    assert amt.representable(Decimal("71.31")) == Decimal("71.4")


def test_amount_too_large_or_negative() -> None:
    with pytest.raises(AmountRangeError):
        amt.encode_amount(Decimal("1820162.5"))
    with pytest.raises(AmountRangeError):
        amt.encode_amount(Decimal("-1"))
    with pytest.raises(AmountRangeError):
        amt.encode_amount(Decimal("NaN"))


@given(st.integers(min_value=0, max_value=0xFFFF))
def test_every_field_round_trips(field: int) -> None:
    assert amt.encode_amount(amt.decode_amount(field)) == field


@given(st.integers(min_value=0, max_value=amt.MAX_UNITS))
def test_encoding_never_gives_less(units: int) -> None:
    assert amt.decode_units(amt.encode_units(units)) >= units


def test_currency_amount_example() -> None:
    s_and_e, field = amt.encode_currency(Decimal("100"))
    assert (s_and_e, field) == (0, 0xDFF6)
    assert amt.decode_currency(s_and_e, field) == Decimal("100.00624")
    neg = amt.encode_currency(Decimal("-0.1"))
    assert neg[0] & 8 and amt.decode_currency(*neg) == Decimal("-0.1")


def test_crc_examples() -> None:
    assert crc.field(0x000B19EB230100) == 0xC207
    assert crc.field(0x00004A2D900FF2) == 0x0FFA
    assert crc.field(0x0005599863_0001) == 0x19E6
    assert crc.modbus(bytes.fromhex("00004a2d900ff2")) == 0xFA0F


def test_tid_reference_points() -> None:
    assert tid_from_datetime(datetime(2004, 3, 1, 13, 55, tzinfo=UTC), BaseDate.Y1993) == 5871715
    assert tid_from_datetime(datetime(2020, 1, 1, 8, 0, tzinfo=UTC), BaseDate.Y1993) == 14200320
    assert tid_from_datetime(datetime(2020, 1, 1, 8, 0, tzinfo=UTC), BaseDate.Y2014) == 3155520
    wib = timezone(timedelta(hours=7))
    assert tid_from_datetime(datetime(2020, 1, 1, 15, 0, tzinfo=wib), BaseDate.Y2014) == 3155520
    assert datetime_from_tid(5871715, BaseDate.Y1993) == datetime(2004, 3, 1, 13, 55, tzinfo=UTC)


def test_tid_rollover_is_reported_not_wrapped() -> None:
    last = datetime(2024, 11, 24, 20, 15, tzinfo=UTC)
    assert tid_from_datetime(last, BaseDate.Y1993) == 0xFFFFFF
    with pytest.raises(TidRolloverError, match="base date 2014"):
        tid_from_datetime(last + timedelta(minutes=1), BaseDate.Y1993)
    assert BaseDate.Y1993.last_minute == last
    assert BaseDate.Y2035.successor is None


def test_tid_refuses_naive_and_early_times() -> None:
    with pytest.raises(StsError, match="timezone-aware"):
        tid_from_datetime(datetime(2020, 1, 1), BaseDate.Y1993)
    with pytest.raises(StsError, match="before the base date"):
        tid_from_datetime(datetime(2010, 1, 1, tzinfo=UTC), BaseDate.Y2014)
    with pytest.raises(StsError):
        datetime_from_tid(1 << 24, BaseDate.Y1993)


def test_base_date_codes() -> None:
    assert BaseDate.from_code("1993-01-01") is BaseDate.Y1993
    assert BaseDate.from_code(2014) is BaseDate.Y2014
    assert BaseDate.from_code("35") is BaseDate.Y2035
    with pytest.raises(StsError):
        BaseDate.from_code("2000")


def test_key_expiry_ctsa16() -> None:
    with pytest.raises(KeyExpiredError):
        check_key_expiry(5916090, 0x55)
    check_key_expiry(0x55FFFF, 0x55)
    check_key_expiry(0xFFFFFF, 0xFF)


@given(st.integers(0, 15), st.integers(0, 0xFFFF))
def test_currency_fields_round_trip_exactly_even_for_huge_exponents(s_and_e: int, field: int) -> None:
    value = amt.decode_currency(s_and_e, field)
    assert amt.decode_currency(*amt.encode_currency(value)) == value


def test_huge_currency_amount_is_not_rounded_by_decimal_precision() -> None:
    value = amt.decode_currency(6, 40949)  # exponent 26: more digits than Decimal's default 28
    assert value == Decimal("10001444444444444444444444.42624")
    assert amt.encode_currency(value) == (6, 40949)


@pytest.mark.parametrize("bad", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_non_finite_amounts_are_typed_errors(bad: str) -> None:
    from prabayar import sts

    with pytest.raises(AmountRangeError):
        sts.ElectricityCredit(tid=1, amount=Decimal(bad))
    with pytest.raises(AmountRangeError):
        sts.ElectricityCurrencyCredit(tid=1, amount=Decimal(bad))
    with pytest.raises(AmountRangeError):
        amt.encode_amount(Decimal(bad))
    with pytest.raises(AmountRangeError):
        sts.ElectricityCredit(tid=1, amount="lots")  # type: ignore[arg-type]
