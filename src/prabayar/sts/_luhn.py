"""Luhn (mod 10) check digit, shared by the meter number and the meter PAN."""

from __future__ import annotations


def checksum(number: str) -> int:
    """Luhn sum mod 10 of a digit string that includes its check digit (0 means valid)."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10


def calc_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check."""
    return str((10 - checksum(payload + "0")) % 10)
