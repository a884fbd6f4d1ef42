"""Tariff index (TI): 2 digits, part of a meter's key parameters ("01" .. "99")."""

from __future__ import annotations

from prabayar.sts._digits import compact, validate_fixed
from prabayar.sts.errors import ValidationError

__all__ = ["compact", "format", "is_valid", "validate"]


def validate(number: str | int) -> str:
    """The 2-digit tariff index (a single digit is zero-padded), or a ``ValidationError``."""
    return validate_fixed(number, 2, "tariff index", pad=True)


def is_valid(number: str | int) -> bool:
    """Whether ``number`` is a tariff index."""
    try:
        validate(number)
    except ValidationError:
        return False
    return True


def format(number: str | int) -> str:
    """Two digits."""
    return validate(number)
