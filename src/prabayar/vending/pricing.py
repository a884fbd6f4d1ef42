"""What a purchase costs and how many kWh it buys: pure functions, no database.

The formula follows the domain file (PLN.md 2.5): the admin fee is paid on top of the nominal;
meterai (stamp duty) and angsuran (instalment against a recorded debt) come out of the nominal;
PBJT-TL (regional electricity tax) and, for households above 6,600 VA, PPN are tax-inclusive:
``stroom = floor(rest / (1 + pbjt + ppn))`` and the taxes take what is left so the parts add up
to the nominal exactly. kWh = stroom / tariff, quantised to the token resolution (0.1 kWh),
rounded up by default as PLN's receipts suggest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal
from enum import Enum

from prabayar.vending.errors import AboveMaximum, BelowMinimum, DenominationNotAllowed

#: Stamp duty for a transaction above Rp 5,000,000 (PLN, Jan 2026).
METERAI_THRESHOLD = 5_000_000
METERAI_AMOUNT = 10_000
#: Effective VAT on electricity for households above 6,600 VA (12 % on a DPP of 11/12).
PPN_RATE = Decimal("0.11")
PPN_MIN_VA_EXCLUSIVE = 6_600
#: "Jam nyala": a month's purchases may buy at most 720 hours at the contracted power.
JAM_NYALA_PER_MONTH = 720
MINIMUM_PURCHASE = 20_000
TOKEN_KWH_STEP = Decimal("0.1")


class KwhRounding(Enum):
    """How raw kWh is quantised to the step; receipts point to rounding up."""

    UP = ROUND_UP
    NEAREST = ROUND_HALF_UP
    DOWN = ROUND_DOWN


@dataclass(frozen=True)
class AdminFeeRule:
    """A channel's admin fee: tiers of (from nominal, fee); the highest tier reached applies."""

    tiers: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        if not self.tiers or self.tiers[0][0] != 0:
            raise ValueError("an admin fee rule needs a first tier starting at nominal 0")
        if any(fee < 0 for _, fee in self.tiers):
            raise ValueError("admin fees cannot be negative")
        starts = [start for start, _ in self.tiers]
        if starts != sorted(set(starts)):
            raise ValueError("admin fee tiers must start at strictly increasing nominals")

    @classmethod
    def flat(cls, fee: int) -> AdminFeeRule:
        return cls(((0, fee),))

    def fee_for(self, nominal: int) -> int:
        fee = self.tiers[0][1]
        for start, tier_fee in self.tiers:
            if nominal >= start:
                fee = tier_fee
        return fee

    def to_json(self) -> str:
        return json.dumps([list(t) for t in self.tiers])

    @classmethod
    def from_json(cls, text: str) -> AdminFeeRule:
        return cls(tuple((int(a), int(b)) for a, b in json.loads(text)))


@dataclass(frozen=True)
class DenominationRule:
    """Minimum, maximum and (unless free amounts are sold) the list of nominals of a channel."""

    minimum: int = MINIMUM_PURCHASE
    maximum: int = 10_000_000
    allowed: tuple[int, ...] | None = None

    def check(self, nominal: int) -> None:
        """Raise the PLN error for a nominal this channel may not sell (0041, 0042, 0013)."""
        if nominal < self.minimum:
            raise BelowMinimum(nominal, self.minimum)
        if nominal > self.maximum:
            raise AboveMaximum(nominal, self.maximum)
        if self.allowed is not None and nominal not in self.allowed:
            raise DenominationNotAllowed(nominal, self.allowed)


@dataclass(frozen=True)
class PriceBreakdown:
    """Every rupiah of a purchase; ``meterai + ppn + pbjt + angsuran + stroom == nominal``."""

    nominal: int
    admin_fee: int
    total_paid: int
    meterai: int
    ppn: int
    pbjt: int
    angsuran: int
    stroom: int
    kwh: Decimal
    tariff_rp_per_kwh: Decimal
    pbjt_rate: Decimal


def ppn_applies(household: bool, va: int) -> bool:
    """PPN is charged on electricity only for households above 6,600 VA (PP 49/2022)."""
    return household and va > PPN_MIN_VA_EXCLUSIVE


def monthly_cap_kwh(va: int) -> Decimal:
    """The month's purchase limit: 720 jam nyala at the contracted power."""
    return Decimal(JAM_NYALA_PER_MONTH * va) / 1000


def meterai_for(nominal: int) -> int:
    """Stamp duty only above Rp 5,000,000."""
    return METERAI_AMOUNT if nominal > METERAI_THRESHOLD else 0


def price_purchase(
    nominal: int,
    *,
    tariff_rp_per_kwh: Decimal,
    pbjt_rate: Decimal,
    admin_fee: int = 0,
    ppn_rate: Decimal = Decimal(0),
    angsuran: int = 0,
    discount: Decimal = Decimal(0),
    kwh_step: Decimal = TOKEN_KWH_STEP,
    rounding: KwhRounding = KwhRounding.UP,
) -> PriceBreakdown:
    """Split a nominal into its parts and the kWh it buys.

    ``discount`` is a fraction off the tariff (0.5 for the Jan-Feb 2025 programme);
    ``angsuran`` is the instalment the caller decided to recover from this purchase.
    """
    if isinstance(nominal, bool) or not isinstance(nominal, int) or nominal <= 0:
        raise ValueError("the nominal must be a positive number of rupiah")
    if tariff_rp_per_kwh <= 0:
        raise ValueError("the tariff must be positive")
    if pbjt_rate < 0 or ppn_rate < 0 or not Decimal(0) <= discount < 1:
        raise ValueError("tax rates must be >= 0 and the discount in [0, 1)")
    if admin_fee < 0:
        raise ValueError("the admin fee cannot be negative")
    meterai = meterai_for(nominal)
    rest = nominal - meterai
    if angsuran < 0 or angsuran >= rest:
        raise ValueError("the angsuran must leave something to buy electricity with")
    rest -= angsuran
    stroom = int((Decimal(rest) / (1 + pbjt_rate + ppn_rate)).to_integral_value(ROUND_FLOOR))
    ppn = int((stroom * ppn_rate).to_integral_value(ROUND_HALF_UP))
    pbjt = rest - stroom - ppn
    price = tariff_rp_per_kwh * (1 - discount)
    kwh = (Decimal(stroom) / price).quantize(kwh_step, rounding=rounding.value)
    return PriceBreakdown(
        nominal=nominal,
        admin_fee=admin_fee,
        total_paid=nominal + admin_fee,
        meterai=meterai,
        ppn=ppn,
        pbjt=pbjt,
        angsuran=angsuran,
        stroom=stroom,
        kwh=kwh,
        tariff_rp_per_kwh=tariff_rp_per_kwh,
        pbjt_rate=pbjt_rate,
    )
