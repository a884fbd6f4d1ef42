"""Shared shape of the small fixed-width numeric identifiers (python-stdnum style)."""

from __future__ import annotations

from prabayar.sts.errors import InvalidFormat, InvalidLength


def compact(number: str | int) -> str:
    """Strip separators and surrounding space."""
    return "".join(ch for ch in str(number) if ch not in " -.\t").strip()


def validate_fixed(number: str | int, width: int, what: str, *, pad: bool = False) -> str:
    """``number`` as exactly ``width`` ASCII digits (left-padded with zeros when ``pad``)."""
    text = compact(number)
    if not text:
        raise InvalidLength(f"no digits given, a {what} has {width} digits")
    if not (text.isdigit() and text.isascii()):
        raise InvalidFormat(f"a {what} has only digits, got {text!r}")
    if pad and len(text) < width:
        text = text.zfill(width)
    if len(text) != width:
        raise InvalidLength(f"{len(text)} digits given, a {what} has {width} digits")
    return text
