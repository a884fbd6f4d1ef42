"""The 20-digit token number as people type it, and its 66-bit value (SPEC section 2)."""

from __future__ import annotations

from prabayar.sts.errors import InvalidFormat, InvalidLength, ValidationError

MAX_TOKEN = (1 << 66) - 1
DIGITS = 20


def compact(number: str) -> str:
    """Strip the separators people and receipts use (spaces, dashes, dots, slashes)."""
    return "".join(ch for ch in str(number) if ch not in " -./\t\n\r")


def validate(number: str) -> str:
    """Return the 20-digit string, or raise a ``ValidationError`` saying what was wrong."""
    number = compact(number)
    if not number:
        raise InvalidLength("no digits given, a token has 20")
    if not (number.isdigit() and number.isascii()):
        bad = sorted({ch for ch in number if not ("0" <= ch <= "9")})
        raise InvalidFormat(f"a token has only digits; found {''.join(bad)!r}")
    if len(number) != DIGITS:
        raise InvalidLength(f"{len(number)} digits given, a token has {DIGITS}")
    if int(number) > MAX_TOKEN:
        raise InvalidFormat(
            f"{number} is larger than any STS token can be (2^66 - 1): not a token, "
            "or a typing error in the first digits"
        )
    return number


def is_valid(number: str) -> bool:
    """Whether ``number`` is a well-formed 20-digit token."""
    try:
        validate(number)
    except ValidationError:
        return False
    return True


def format(number: str, separator: str = " ") -> str:
    """Five groups of four digits, as PLN prints them (``1234 5678 9012 3456 7890``)."""
    number = compact(number)
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


def to_int(number: str) -> int:
    """The 66-bit value of a token string (validated)."""
    if type(number) is str and len(number) == DIGITS and number.isdigit() and number.isascii():
        value = int(number)
        if value <= MAX_TOKEN:
            return value
    return int(validate(number))


def from_int(value: int) -> str:
    """The 20-digit string of a 66-bit value."""
    if not 0 <= value <= MAX_TOKEN:
        raise InvalidFormat("a token value must fit in 66 bits")
    return f"{value:020d}"
