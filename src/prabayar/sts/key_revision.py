"""Key revision number (KRN): 1..9, which vending key of a supply group a meter uses."""

from __future__ import annotations

from prabayar.sts._digits import compact, validate_fixed
from prabayar.sts.errors import InvalidFormat, ValidationError

__all__ = ["compact", "format", "is_valid", "validate"]


def validate(number: str | int) -> str:
    """The KRN as one digit 1..9, or a ``ValidationError``."""
    text = validate_fixed(number, 1, "key revision number")
    if text == "0":
        raise InvalidFormat("a key revision number is 1..9, got 0")
    return text


def is_valid(number: str | int) -> bool:
    """Whether ``number`` is a key revision number."""
    try:
        validate(number)
    except ValidationError:
        return False
    return True


def format(number: str | int) -> str:
    """One digit."""
    return validate(number)
