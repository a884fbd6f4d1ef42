"""The 16-bit transfer amount field (SPEC 4.4, IEC 62055-41 6.3.6).

Value t = m * 10**e + sum(2**14 * 10**(n-1) for n in 1..e), exponent e in the top two bits and
mantissa m in the low 14. Every conversion rounds up, in the customer's favour. Physical credit
counts 0.1 of the main unit (0.1 kWh); power limits count whole watts; currency credit counts
10**-5 of the currency with a 5-bit exponent and a sign (two exponent bits and the sign live in
the nibble where other credit tokens carry RND).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Context, Decimal
from functools import lru_cache
from typing import Final

from prabayar.sts.errors import AmountRangeError

MANTISSA_MAX: Final = 0x3FFF
_OFFSETS: Final = tuple(sum(2**14 * 10 ** (n - 1) for n in range(1, e + 1)) for e in range(32))
MAX_UNITS: Final = MANTISSA_MAX * 10**3 + _OFFSETS[3]  # 18 201 624
TENTH: Final = Decimal("0.1")
CURRENCY_UNIT: Final = Decimal("0.00001")
# Enough digits for the largest currency amount (5-bit exponent) so no arithmetic here rounds.
_EXACT: Final = Context(prec=80)


def _split(units: int, max_exponent: int) -> tuple[int, int]:
    """Smallest exponent whose rounded-up mantissa fits 14 bits: returns (e, m)."""
    if units < 0:
        raise AmountRangeError("an amount cannot be negative")
    if units <= MANTISSA_MAX:
        return 0, units
    for e in range(1, max_exponent + 1):
        step: int = 10**e
        m = max(0, -(-(units - _OFFSETS[e]) // step))
        if m <= MANTISSA_MAX:
            return e, m
    raise AmountRangeError(f"{units} base units is more than one token can carry")


def _join(e: int, m: int) -> int:
    value: int = m * 10**e + _OFFSETS[e]
    return value


def encode_units(units: int) -> int:
    """The 16-bit field for a count of base units (rounded up to the next encodable value)."""
    if units > MAX_UNITS:
        raise AmountRangeError(f"{units} base units is more than one token can carry (max {MAX_UNITS})")
    e, m = _split(units, 3)
    return e << 14 | m


def decode_units(field: int) -> int:
    """The count of base units a 16-bit field stands for."""
    return _join(field >> 14 & 3, field & MANTISSA_MAX)


def to_units(amount: Decimal, unit: Decimal = TENTH) -> int:
    """Whole base units, rounded up: 1.23 kWh -> 13 tenths."""
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    if not amount.is_finite():
        raise AmountRangeError("an amount must be a finite number")
    units: int = int(_EXACT.divide(amount, unit).to_integral_value(rounding=ROUND_CEILING))
    return units


@lru_cache(maxsize=4096)
def _encode_decimal(amount: Decimal) -> int:
    return encode_units(to_units(amount))


def encode_amount(amount: Decimal) -> int:
    """The field for an amount in main units (kWh, m3) at 0.1 resolution, rounded up.

    Cached for Decimals: a vending server sells the same few kWh values over and over, and a
    token's amount is checked at construction and packed again when encoded.
    """
    if type(amount) is Decimal:
        if not amount.is_finite():
            raise AmountRangeError("an amount must be a finite number")
        return _encode_decimal(amount)
    return encode_units(to_units(amount))


@lru_cache(maxsize=4096)
def decode_amount(field: int) -> Decimal:
    """The amount in main units a field stands for (exact multiple of 0.1; cached, as Decimals
    are immutable and a batch decode reads the same few amounts over and over)."""
    return _EXACT.multiply(Decimal(decode_units(field)), TENTH)


def representable(amount: Decimal) -> Decimal:
    """The amount a token actually carries for ``amount`` (after rounding up)."""
    return decode_amount(encode_amount(amount))


def encode_currency(amount: Decimal) -> tuple[int, int]:
    """(S&E nibble, 16-bit field) for a currency amount at 10**-5 resolution, rounded up."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise AmountRangeError("an amount must be a finite Decimal")
    negative = amount < 0
    units = to_units(_EXACT.abs(amount), CURRENCY_UNIT)
    e, m = _split(units, 31)
    field = (e >> 1 & 1) << 15 | (e & 1) << 14 | m
    s_and_e = (1 if negative else 0) << 3 | (e >> 2 & 7)
    return s_and_e, field


def decode_currency(s_and_e: int, field: int) -> Decimal:
    """The currency amount an S&E nibble and a 16-bit field stand for."""
    e = (field >> 14 & 1) | (field >> 15 & 1) << 1 | (s_and_e & 7) << 2
    value = _EXACT.multiply(Decimal(_join(e, field & MANTISSA_MAX)), CURRENCY_UNIT)
    return _EXACT.minus(value) if s_and_e & 8 else value
