"""How support shows things to a person: WIB times, grouped tokens, masked identities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

WIB = timezone(timedelta(hours=7), "WIB")


def wib(when: datetime) -> str:
    """An aware UTC time as Western Indonesia Time, the way a customer reads it."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(WIB).strftime("%d-%m-%Y %H:%M WIB")


def grouped(digits: str) -> str:
    """``1111 2222 3333 4444 5555``: the token as printed on a receipt."""
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def mask_number(number: str, keep_head: int = 3, keep_tail: int = 3) -> str:
    """``143*****289``: enough for the customer to recognise a number, not to read someone's."""
    if len(number) <= keep_head + keep_tail:
        return "*" * len(number)
    hidden = len(number) - keep_head - keep_tail
    return number[:keep_head] + "*" * hidden + number[-keep_tail:]


def mask_name(name: str) -> str:
    """``B**** S*******``: first letter of each word."""
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split() if w)


def kwh(value: Decimal) -> str:
    """Energy the Indonesian way: comma decimals (12,6 kWh)."""
    return f"{value:f}".replace(".", ",") + " kWh"
