"""Pricing against the domain file's fixtures (PLN.md section 7) and its invariants."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prabayar.vending.errors import AboveMaximum, BelowMinimum, DenominationNotAllowed
from prabayar.vending.pricing import (
    AdminFeeRule,
    DenominationRule,
    KwhRounding,
    meterai_for,
    monthly_cap_kwh,
    ppn_applies,
    price_purchase,
)

R1_1300 = Decimal("1444.70")
RTM_900 = Decimal("1352.00")


def test_f1_anonymised_real_receipt() -> None:
    p = price_purchase(20_000, tariff_rp_per_kwh=R1_1300, pbjt_rate=Decimal("0.10"), admin_fee=3_500)
    assert (p.pbjt, p.stroom, p.kwh, p.total_paid) == (1_819, 18_181, Decimal("12.6"), 23_500)
    assert (p.meterai, p.ppn, p.angsuran, p.admin_fee) == (0, 0, 0, 3_500)


def test_f3_ten_percent_both_rounding_rules() -> None:
    up = price_purchase(100_000, tariff_rp_per_kwh=R1_1300, pbjt_rate=Decimal("0.10"))
    assert (up.stroom, up.pbjt, up.kwh) == (90_909, 9_091, Decimal("63.0"))
    nearest = price_purchase(
        100_000,
        tariff_rp_per_kwh=R1_1300,
        pbjt_rate=Decimal("0.10"),
        rounding=KwhRounding.NEAREST,
        kwh_step=Decimal("0.01"),
    )
    assert nearest.kwh == Decimal("62.93")


def test_f2_pln_own_example_range() -> None:
    p = price_purchase(100_000, tariff_rp_per_kwh=R1_1300, pbjt_rate=Decimal("0.10"))
    assert 90_000 <= p.stroom <= 94_000
    assert Decimal(63) <= p.kwh <= Decimal(65)


def test_f4_jakarta() -> None:
    p = price_purchase(
        100_000,
        tariff_rp_per_kwh=R1_1300,
        pbjt_rate=Decimal("0.024"),
        rounding=KwhRounding.NEAREST,
        kwh_step=Decimal("0.01"),
    )
    assert (p.stroom, p.pbjt, p.kwh) == (97_656, 2_344, Decimal("67.60"))


def test_f5_three_percent_2015() -> None:
    p = price_purchase(100_000, tariff_rp_per_kwh=R1_1300, pbjt_rate=Decimal("0.03"))
    assert (p.pbjt, p.stroom) == (2_913, 97_087)


def test_f6_eight_percent_rounds_up() -> None:
    p = price_purchase(50_000, tariff_rp_per_kwh=R1_1300, pbjt_rate=Decimal("0.08"))
    assert (p.pbjt, p.stroom, p.kwh) == (3_704, 46_296, Decimal("32.1"))
    down = price_purchase(
        50_000, tariff_rp_per_kwh=R1_1300, pbjt_rate=Decimal("0.08"), rounding=KwhRounding.DOWN
    )
    assert down.kwh == Decimal("32.0")


def test_f7_discount_2025() -> None:
    normal = price_purchase(1_000_000, tariff_rp_per_kwh=R1_1300, pbjt_rate=Decimal("0.08"))
    assert normal.kwh == Decimal("641.0")
    half = price_purchase(
        1_000_000,
        tariff_rp_per_kwh=R1_1300,
        pbjt_rate=Decimal("0.08"),
        discount=Decimal("0.5"),
    )
    assert half.kwh == Decimal("1281.9")


def test_f8_discount_tax_ignored() -> None:
    p = price_purchase(
        100_000,
        tariff_rp_per_kwh=RTM_900,
        pbjt_rate=Decimal(0),
        discount=Decimal("0.5"),
        kwh_step=Decimal("0.01"),
        rounding=KwhRounding.NEAREST,
    )
    assert p.kwh == Decimal("147.93")


def test_f9_jatim_example() -> None:
    p = price_purchase(
        200_000,
        tariff_rp_per_kwh=RTM_900,
        pbjt_rate=Decimal("0.10"),
        admin_fee=1_750,
        kwh_step=Decimal("0.01"),
        rounding=KwhRounding.NEAREST,
    )
    assert (p.total_paid, p.stroom, p.kwh) == (201_750, 181_818, Decimal("134.48"))


def test_f10_monthly_cap() -> None:
    assert monthly_cap_kwh(1300) == Decimal(936)
    assert monthly_cap_kwh(450) == Decimal(324)
    assert monthly_cap_kwh(2200) == Decimal(1584)


def test_f13_meterai_only_above_five_million() -> None:
    assert meterai_for(5_000_000) == 0
    assert meterai_for(10_000_000) == 10_000
    p = price_purchase(10_000_000, tariff_rp_per_kwh=R1_1300, pbjt_rate=Decimal("0.10"))
    assert p.meterai == 10_000
    assert p.stroom == (10_000_000 - 10_000) * 10 // 11


def test_ppn_only_for_households_above_6600_va() -> None:
    assert ppn_applies(True, 7_700)
    assert not ppn_applies(True, 6_600)
    assert not ppn_applies(False, 13_200)
    p = price_purchase(
        1_000_000, tariff_rp_per_kwh=Decimal("1699.53"), pbjt_rate=Decimal("0.04"),
        ppn_rate=Decimal("0.11"),
    )  # fmt: skip
    assert p.stroom == 869_565  # floor(1,000,000 / 1.15)
    assert p.ppn == 95_652  # round(869,565 x 0.11)
    assert p.pbjt == 1_000_000 - 869_565 - 95_652


def test_angsuran_comes_out_of_the_nominal() -> None:
    p = price_purchase(50_000, tariff_rp_per_kwh=R1_1300, pbjt_rate=Decimal("0.10"), angsuran=5_000)
    assert p.angsuran == 5_000
    assert p.stroom == 45_000 * 10 // 11
    with pytest.raises(ValueError, match="angsuran"):
        price_purchase(20_000, tariff_rp_per_kwh=R1_1300, pbjt_rate=Decimal(0), angsuran=20_000)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"nominal": 0}, "positive"),
        ({"nominal": True}, "positive"),
        ({"tariff_rp_per_kwh": Decimal(0)}, "tariff"),
        ({"pbjt_rate": Decimal("-0.1")}, "rates"),
        ({"discount": Decimal(1)}, "discount"),
        ({"admin_fee": -1}, "admin fee"),
        ({"angsuran": -1}, "angsuran"),
    ],
)
def test_invalid_inputs(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "nominal": 20_000, "tariff_rp_per_kwh": R1_1300, "pbjt_rate": Decimal("0.1"),
    }  # fmt: skip
    args.update(kwargs)
    nominal = args.pop("nominal")
    with pytest.raises(ValueError, match=match):
        price_purchase(nominal, **args)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    nominal=st.integers(min_value=20_000, max_value=50_000_000),
    pbjt=st.sampled_from(["0", "0.015", "0.024", "0.03", "0.08", "0.10"]),
    ppn=st.sampled_from(["0", "0.11"]),
    angsuran=st.integers(min_value=0, max_value=9_000),
    tariff=st.sampled_from(["415", "605", "1352.00", "1444.70", "1699.53", "996.74"]),
)
def test_parts_always_add_up(nominal: int, pbjt: str, ppn: str, angsuran: int, tariff: str) -> None:
    p = price_purchase(
        nominal,
        tariff_rp_per_kwh=Decimal(tariff),
        pbjt_rate=Decimal(pbjt),
        ppn_rate=Decimal(ppn),
        angsuran=angsuran,
    )
    assert p.meterai + p.ppn + p.pbjt + p.angsuran + p.stroom == nominal
    assert p.pbjt >= 0 and p.ppn >= 0 and p.stroom > 0
    raw = Decimal(p.stroom) / Decimal(tariff)
    assert raw <= p.kwh < raw + Decimal("0.1")
    assert p.kwh == p.kwh.quantize(Decimal("0.1"))


def test_admin_fee_rules() -> None:
    tiered = AdminFeeRule(((0, 1_000), (50_000, 1_600), (100_000, 3_000)))
    assert [tiered.fee_for(n) for n in (20_000, 50_000, 99_999, 100_000, 1_000_000)] == [
        1_000, 1_600, 1_600, 3_000, 3_000,
    ]  # fmt: skip
    assert AdminFeeRule.from_json(tiered.to_json()) == tiered
    assert AdminFeeRule.flat(1_750).fee_for(200_000) == 1_750
    with pytest.raises(ValueError, match="nominal 0"):
        AdminFeeRule(((10, 1),))
    with pytest.raises(ValueError, match="negative"):
        AdminFeeRule(((0, -1),))
    with pytest.raises(ValueError, match="increasing"):
        AdminFeeRule(((0, 1), (100, 2), (50, 3)))


def test_denomination_rule_errors_carry_pln_codes() -> None:
    rule = DenominationRule(minimum=20_000, maximum=1_000_000, allowed=(20_000, 50_000, 1_000_000))
    rule.check(50_000)
    with pytest.raises(BelowMinimum) as low:
        rule.check(10_000)
    assert low.value.code == "0041" and "20 RIBU" in low.value.message_id
    with pytest.raises(AboveMaximum) as high:
        rule.check(2_000_000)
    assert high.value.code == "0042"
    with pytest.raises(DenominationNotAllowed) as odd:
        rule.check(30_000)
    assert odd.value.code == "0013" and "20.000" in odd.value.message_id
    DenominationRule(maximum=50_000_000).check(1_234_567)  # free amounts
