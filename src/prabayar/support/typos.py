"""Typing-error candidates for a token a customer keyed in wrongly.

Pure digit arithmetic, no key needed: every candidate is built as an integer from the typed
value plus digit deltas, so the cheap STS checks (value below 2**66, class bits 28..27 naming a
class the customer could have been given) run before any string is formatted or any block is
decrypted. Positions are 1-based, counted in the token the customer *meant*.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

TOKEN_DIGITS = 20
TOKEN_LIMIT = 2**66
# Classes a customer is ever handed on a receipt or by an officer: 0 credit, 2 management.
CUSTOMER_CLASSES: frozenset[int] = frozenset({0, 2})
_WEIGHTS = tuple(10 ** (TOKEN_DIGITS - 1 - i) for i in range(TOKEN_DIGITS))


class TypoClass(StrEnum):
    """How the typed digits differ from the intended token, cheapest explanation first."""

    WRONG_DIGIT = "wrong_digit"
    ADJACENT_SWAP = "adjacent_swap"
    MISSING_DIGIT = "missing_digit"
    EXTRA_DIGIT = "extra_digit"
    TWO_WRONG_DIGITS = "two_wrong_digits"


@dataclass(frozen=True)
class TypoEdit:
    """One candidate intended token and what the customer did wrong to get the typed digits."""

    digits: str
    typo: TypoClass
    positions: tuple[int, ...]


@dataclass
class SearchStats:
    """Counts per typo class: candidates generated, past the cheap checks, decrypted, valid."""

    generated: int = 0
    plausible: int = 0
    decrypted: int = 0
    crc_ok: int = 0
    accepted: int = 0


def token_class_of(value: int) -> int:
    """The class bits of a 66-bit token value (readable without the key)."""
    return (value >> 27) & 3


def is_plausible(value: int, classes: frozenset[int] = CUSTOMER_CLASSES) -> bool:
    """Cheap pre-decryption check: fits 66 bits and carries an expected class."""
    return 0 <= value < TOKEN_LIMIT and token_class_of(value) in classes


def _fmt(value: int) -> str:
    return f"{value:0{TOKEN_DIGITS}d}"


def one_wrong_digit(
    typed: str, classes: frozenset[int] = CUSTOMER_CLASSES, stats: SearchStats | None = None
) -> Iterator[TypoEdit]:
    """Every token that differs from ``typed`` (20 digits) in exactly one position."""
    base = int(typed)
    digits = [int(c) for c in typed]
    for pos in range(TOKEN_DIGITS):
        weight = _WEIGHTS[pos]
        for new in range(10):
            if new == digits[pos]:
                continue
            value = base + (new - digits[pos]) * weight
            if stats is not None:
                stats.generated += 1
            if is_plausible(value, classes):
                if stats is not None:
                    stats.plausible += 1
                yield TypoEdit(_fmt(value), TypoClass.WRONG_DIGIT, (pos + 1,))


def adjacent_swaps(
    typed: str, classes: frozenset[int] = CUSTOMER_CLASSES, stats: SearchStats | None = None
) -> Iterator[TypoEdit]:
    """Every token obtained by swapping two neighbouring, different digits of ``typed``."""
    for pos in range(TOKEN_DIGITS - 1):
        if typed[pos] == typed[pos + 1]:
            continue
        digits = typed[:pos] + typed[pos + 1] + typed[pos] + typed[pos + 2 :]
        if stats is not None:
            stats.generated += 1
        if is_plausible(int(digits), classes):
            if stats is not None:
                stats.plausible += 1
            yield TypoEdit(digits, TypoClass.ADJACENT_SWAP, (pos + 1, pos + 2))


def missing_digit(
    typed: str, classes: frozenset[int] = CUSTOMER_CLASSES, stats: SearchStats | None = None
) -> Iterator[TypoEdit]:
    """Every 20-digit token obtained by inserting one digit into 19 typed digits."""
    seen: set[str] = set()
    for pos in range(TOKEN_DIGITS):
        for new in "0123456789":
            digits = typed[:pos] + new + typed[pos:]
            if stats is not None:
                stats.generated += 1
            if digits in seen:  # inserting next to an equal digit gives the same token
                continue
            seen.add(digits)
            if is_plausible(int(digits), classes):
                if stats is not None:
                    stats.plausible += 1
                yield TypoEdit(digits, TypoClass.MISSING_DIGIT, (pos + 1,))


def extra_digit(
    typed: str, classes: frozenset[int] = CUSTOMER_CLASSES, stats: SearchStats | None = None
) -> Iterator[TypoEdit]:
    """Every 20-digit token obtained by deleting one of 21 typed digits (doubled or stray key)."""
    seen: set[str] = set()
    for pos in range(len(typed)):
        digits = typed[:pos] + typed[pos + 1 :]
        if stats is not None:
            stats.generated += 1
        if digits in seen:
            continue
        seen.add(digits)
        if is_plausible(int(digits), classes):
            if stats is not None:
                stats.plausible += 1
            # the position is the typed digit that should not be there
            yield TypoEdit(digits, TypoClass.EXTRA_DIGIT, (pos + 1,))


def two_wrong_digits(
    typed: str, classes: frozenset[int] = CUSTOMER_CLASSES, stats: SearchStats | None = None
) -> Iterator[TypoEdit]:
    """Every token that differs from ``typed`` in exactly two positions (C(20,2) x 81 = 15,390)."""
    base = int(typed)
    digits = [int(c) for c in typed]
    # per position: the value deltas of the 9 replacement digits
    deltas = [
        [((new - digits[p]) * _WEIGHTS[p], new) for new in range(10) if new != digits[p]] for p in range(TOKEN_DIGITS)
    ]
    generated = plausible = 0
    for p in range(TOKEN_DIGITS - 1):
        for dp, _ in deltas[p]:
            first = base + dp
            for q in range(p + 1, TOKEN_DIGITS):
                for dq, _ in deltas[q]:
                    value = first + dq
                    generated += 1
                    if value < TOKEN_LIMIT and ((value >> 27) & 3) in classes:
                        plausible += 1
                        yield TypoEdit(_fmt(value), TypoClass.TWO_WRONG_DIGITS, (p + 1, q + 1))
    if stats is not None:
        stats.generated += generated
        stats.plausible += plausible


def candidate_groups(
    typed: str,
    classes: frozenset[int] = CUSTOMER_CLASSES,
    *,
    two_wrong: bool = True,
    stats: dict[TypoClass, SearchStats] | None = None,
) -> Iterator[tuple[TypoClass, Iterable[TypoEdit]]]:
    """Candidate generators in order of likelihood for the typed length (19, 20 or 21 digits)."""

    def s(kind: TypoClass) -> SearchStats | None:
        if stats is None:
            return None
        return stats.setdefault(kind, SearchStats())

    if len(typed) == TOKEN_DIGITS:
        yield TypoClass.WRONG_DIGIT, one_wrong_digit(typed, classes, s(TypoClass.WRONG_DIGIT))
        yield TypoClass.ADJACENT_SWAP, adjacent_swaps(typed, classes, s(TypoClass.ADJACENT_SWAP))
        if two_wrong:
            yield (
                TypoClass.TWO_WRONG_DIGITS,
                two_wrong_digits(typed, classes, s(TypoClass.TWO_WRONG_DIGITS)),
            )
    elif len(typed) == TOKEN_DIGITS - 1:
        yield TypoClass.MISSING_DIGIT, missing_digit(typed, classes, s(TypoClass.MISSING_DIGIT))
    elif len(typed) == TOKEN_DIGITS + 1:
        yield TypoClass.EXTRA_DIGIT, extra_digit(typed, classes, s(TypoClass.EXTRA_DIGIT))
