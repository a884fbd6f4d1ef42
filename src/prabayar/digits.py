"""Strict ASCII digit checks for every layer above ``prabayar.sts``.

``str.isdigit()`` accepts ``"²"``, ``"١"`` and other Unicode digits (``int("²")`` then fails:
a 500), and a regular expression ending in ``$`` accepts a trailing newline
(``/meter/14100000018%0A``). Use these instead: ``fullmatch`` on ``[0-9]``, nothing else.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")


def is_digits(text: object) -> bool:
    """Whether ``text`` is a non-empty string of ASCII digits 0-9 only."""
    return isinstance(text, str) and _DIGITS.fullmatch(text) is not None


def parse_digits(text: object) -> int | None:
    """The integer that ASCII digits spell, else None (never raises)."""
    if isinstance(text, str) and _DIGITS.fullmatch(text) is not None:
        return int(text)
    return None
