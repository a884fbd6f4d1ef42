"""Meter PAN (primary account number): IIN + meter number + Luhn check digit (18 digits).

The 6-digit IIN 600727 goes with 11-digit meter numbers, the 4-digit IIN 0000 with 13-digit
ones (SPEC 8.1).
"""

from __future__ import annotations

from prabayar.sts import _luhn, meter_number
from prabayar.sts.errors import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

IIN_11 = "600727"
IIN_13 = "0000"


def compact(number: str) -> str:
    """Strip separators."""
    return meter_number.compact(number)


def from_meter_number(number: str) -> str:
    """The 18-digit PAN of a meter number (validated first)."""
    drn = meter_number.validate(number)
    body = (IIN_11 if len(drn) == 11 else IIN_13) + drn
    return body + _luhn.calc_check_digit(body)


def validate(number: str) -> str:
    """Return the compact PAN, or raise a ``ValidationError``."""
    number = compact(number)
    if not number.isdigit() or not number.isascii():
        raise InvalidFormat(f"a meter PAN has only digits, got {number!r}")
    if len(number) != 18:
        raise InvalidLength(f"{len(number)} digits given, a meter PAN has 18")
    if _luhn.checksum(number) != 0:
        raise InvalidChecksum(f"meter PAN {number} fails its check digit")
    drn = number[6:17] if number.startswith(IIN_11) else number[4:17]
    meter_number.validate(drn)
    return number


def is_valid(number: str) -> bool:
    """Whether ``number`` is a valid meter PAN."""
    try:
        validate(number)
    except ValidationError:
        return False
    return True


def format(number: str) -> str:
    """IIN, meter number and check digit separated by spaces."""
    number = compact(number)
    cut = 6 if number.startswith(IIN_11) else 4
    return f"{number[:cut]} {number[cut:17]} {number[17:]}"


def pan_block(number: str, *, common_key: bool = False) -> int:
    """The 16-hex-digit PANBlock: rightmost 16 digits of IIN+IAIN, each digit a nibble.

    For a common key (KT 3) the meter number digits are replaced by zeros (SPEC 8.2).
    """
    number = validate(number)
    body = number[:17]
    if common_key:
        cut = 6 if body.startswith(IIN_11) else 4
        body = body[:cut] + "0" * (17 - cut)
    return int(body[-16:], 16)
