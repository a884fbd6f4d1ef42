"""Supply group code (SGC): 6 digits naming the group of meters that share a vending key."""

from __future__ import annotations

from prabayar.sts._digits import compact, validate_fixed
from prabayar.sts.errors import ValidationError

__all__ = ["compact", "format", "is_valid", "validate"]


def validate(number: str | int) -> str:
    """The 6-digit SGC, or a ``ValidationError``."""
    return validate_fixed(number, 6, "supply group code")


def is_valid(number: str | int) -> bool:
    """Whether ``number`` is a supply group code."""
    try:
        validate(number)
    except ValidationError:
        return False
    return True


def format(number: str | int) -> str:
    """As printed: the six digits."""
    return validate(number)
