"""Meter number (STS Decoder Reference Number, "nomor meter"), python-stdnum style.

11 digits (2-digit manufacturer code + 8-digit serial + Luhn check digit) or 13 digits (4-digit
manufacturer code). PLN prints the 11-digit form on the meter.
"""

from __future__ import annotations

from prabayar.sts import _digits, _luhn
from prabayar.sts.errors import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError


def compact(number: str) -> str:
    """Strip the separators people type (spaces, dashes, dots)."""
    return _digits.compact(number)


def calc_check_digit(payload: str) -> str:
    """Luhn check digit over manufacturer code and serial number."""
    return _luhn.calc_check_digit(payload)


def validate(number: str) -> str:
    """Return the compact meter number, or raise a ``ValidationError`` saying what is wrong."""
    number = compact(number)
    if not number:
        raise InvalidLength("0 digits given, a meter number has 11 (or 13)")
    if not number.isdigit() or not number.isascii():
        raise InvalidFormat(f"a meter number has only digits, got {number!r}")
    if len(number) not in (11, 13):
        raise InvalidLength(f"{len(number)} digits given, a meter number has 11 (or 13)")
    if _luhn.checksum(number) != 0:
        raise InvalidChecksum(
            f"meter number {number} fails its check digit (expected last digit "
            f"{calc_check_digit(number[:-1])}): probably a typing error"
        )
    return number


def is_valid(number: str) -> bool:
    """Whether ``number`` is a valid meter number."""
    try:
        validate(number)
    except ValidationError:
        return False
    return True


def format(number: str) -> str:
    """Group as printed on meters: 4-4-3 (11 digits) or 4-4-5 (13 digits)."""
    number = compact(number)
    return " ".join((number[:4], number[4:8], number[8:]))


def manufacturer_code(number: str) -> int:
    """The STS manufacturer code (first 2 digits, or 4 for a 13-digit number)."""
    number = validate(number)
    return int(number[:2] if len(number) == 11 else number[:4])
