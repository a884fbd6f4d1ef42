"""Meter numbers, meter PANs and token strings as people type them."""

from __future__ import annotations

import pytest

from prabayar.sts import InvalidChecksum, InvalidFormat, InvalidLength, meter_number, meter_pan, token_number


@pytest.mark.parametrize("number", ["14312593289", "07050071252", "00000000000", "0100000000008", "1111111111 5"])
def test_valid_meter_numbers(number: str) -> None:
    assert meter_number.is_valid(number)
    assert meter_number.validate(number) == number.replace(" ", "")


def test_meter_number_checksum_error_names_the_expected_digit() -> None:
    with pytest.raises(InvalidChecksum, match="expected last digit 9"):
        meter_number.validate("14312593280")


@pytest.mark.parametrize(
    ("number", "error", "text"),
    [
        ("1431259328", InvalidLength, "10 digits given"),
        ("143125932891", InvalidLength, "12 digits given"),
        ("1431259328A", InvalidFormat, "only digits"),
        ("", InvalidLength, "0 digits"),
    ],
)
def test_meter_number_errors(number: str, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        meter_number.validate(number)
    assert not meter_number.is_valid(number)


def test_meter_number_format_and_manufacturer() -> None:
    assert meter_number.format("14312593289") == "1431 2593 289"
    assert meter_number.manufacturer_code("14312593289") == 14
    assert meter_number.manufacturer_code("0100000000008") == 100


@pytest.mark.parametrize(
    ("drn", "pan"),
    [
        ("00000000000", "600727000000000009"),
        ("0100000000008", "000001000000000082"),
        ("11111111115", "600727111111111153"),
    ],
)
def test_pan_from_meter_number(drn: str, pan: str) -> None:
    assert meter_pan.from_meter_number(drn) == pan
    assert meter_pan.validate(pan) == pan


def test_pan_block_and_common_key_block() -> None:
    assert meter_pan.pan_block("600727000000000009") == 0x0072700000000000
    assert meter_pan.pan_block("000001000000000082") == 0x0000100000000008
    assert meter_pan.pan_block("600727111111111153", common_key=True) == 0x0072700000000000


def test_pan_errors() -> None:
    with pytest.raises(InvalidLength):
        meter_pan.validate("60072700000000000")
    with pytest.raises(InvalidChecksum):
        meter_pan.validate("600727000000000008")
    assert meter_pan.format("600727000000000009") == "600727 00000000000 9"


def test_token_string_forms() -> None:
    digits = "23716100501183194197"
    for typed in (digits, "2371 6100 5011 8319 4197", "2371-6100-5011-8319-4197", " 2371.6100.5011.8319.4197 "):
        assert token_number.validate(typed) == digits
    assert token_number.format(digits) == "2371 6100 5011 8319 4197"
    assert token_number.format(digits, "-") == "2371-6100-5011-8319-4197"


@pytest.mark.parametrize(
    ("typed", "error", "text"),
    [
        ("1234567890123456", InvalidLength, "16 digits given, a token has 20"),
        ("123456789012345678901", InvalidLength, "21 digits given"),
        ("2371610050118319419", InvalidLength, "19 digits given"),
        ("2371 6100 5011 8319 419x", InvalidFormat, "only digits"),
        ("", InvalidLength, "no digits"),
        ("99999999999999999999", InvalidFormat, "larger than any STS token"),
        ("73786976294838206464", InvalidFormat, "2\\^66"),
    ],
)
def test_token_string_errors(typed: str, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        token_number.validate(typed)
    assert not token_number.is_valid(typed)


def test_largest_token_is_accepted() -> None:
    assert token_number.to_int("73786976294838206463") == (1 << 66) - 1
    assert token_number.from_int(5) == "00000000000000000005"
    with pytest.raises(InvalidFormat):
        token_number.from_int(1 << 66)


def test_key_parameter_identifiers() -> None:
    from prabayar.sts import key_revision, supply_group, tariff_index

    assert supply_group.validate(" 123 456 ") == "123456"
    assert supply_group.is_valid("600100") and not supply_group.is_valid("60010")
    with pytest.raises(InvalidLength, match="5 digits given, a supply group code has 6 digits"):
        supply_group.validate("60010")
    with pytest.raises(InvalidFormat):
        supply_group.validate("60010A")
    assert tariff_index.validate("7") == "07" and tariff_index.format(99) == "99"
    assert not tariff_index.is_valid("100")
    assert key_revision.validate(1) == "1"
    assert not key_revision.is_valid(0) and not key_revision.is_valid("10") and not key_revision.is_valid("")
