"""Pure master-data field checks (shared by the use cases, the faces and the bulk import)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from prabayar import sts
from prabayar.vending import validation
from prabayar.vending.reference import TARIFFS
from prabayar.vending.validation import InvalidField


@dataclass(frozen=True)
class Klass:
    code: str
    print_code: str
    va_min: int
    va_max: int | None
    subsidised: bool


CLASSES = [Klass(t.code, t.print_code, t.va_min, t.va_max, t.subsidised) for t in TARIFFS]


@pytest.mark.parametrize(
    ("tariff", "va", "subsidised", "expected"),
    [
        ("R1", 450, None, "R1-450"),
        ("R1", 900, None, "R1-900RTM"),
        ("R1", 900, True, "R1-900"),
        ("r1-900", 900, None, "R1-900"),
        ("R1", 1300, None, "R1-1300"),
        ("R2", 5500, None, "R2"),
        ("R3", 23000, None, "R3"),
        ("B2", 13200, None, "B2"),
        ("S1", 900, None, "S1-900"),
        ("S1", 7700, None, "S1-3500"),
    ],
)
def test_resolve_tariff(tariff: str, va: int, subsidised: bool | None, expected: str) -> None:
    assert validation.resolve_tariff(CLASSES, tariff, va, subsidised=subsidised).code == expected


@pytest.mark.parametrize(
    ("tariff", "va", "field"), [("X9", 900, "tariff"), ("R1", 3500, "power_va"), ("R2", 900, "power_va")]
)
def test_resolve_tariff_refusals(tariff: str, va: int, field: str) -> None:
    with pytest.raises(InvalidField) as exc:
        validation.resolve_tariff(CLASSES, tariff, va)
    assert exc.value.field == field


def test_fields_are_normalised() -> None:
    assert validation.idpel(" 5419 9900 0001 ") == "541999000001"
    assert validation.name("  rina   marlina ") == "RINA MARLINA"
    assert validation.phone("0812-3456 7890") == "081234567890" and validation.phone("") is None
    assert validation.power_va("1.300") == 1300
    params = validation.key_parameters(
        sgc="123456", tariff_index="07", krn="3", key_type="2", ea="11", dkga="04", base_date="93"
    )
    assert params.algorithm is sts.EncryptionAlgorithm.MISTY1 and params.base_date is sts.BaseDate.Y1993
    assert params.krn == 3 and params.tariff_index == "07"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: validation.idpel("５４１９９９０００００１"), "idpel"),  # full-width digits
        (lambda: validation.meter_number("1450000001²"), "meter_number"),
        (lambda: validation.power_va("²"), "power_va"),
        (lambda: validation.phone("+62 812"), "phone"),
        (lambda: validation.name("X" * 26), "name"),
        (lambda: validation.address(""), "address"),
        (lambda: validation.reason(" a "), "reason"),
        (
            lambda: validation.key_parameters(
                sgc="12345６", tariff_index="01", krn=1, key_type=2, ea="07", dkga="04", base_date="2014"
            ),
            "sgc",
        ),
        (
            lambda: validation.key_parameters(
                sgc="123456", tariff_index="01", krn=1, key_type=2, ea="07", dkga="04", base_date="2014", ken=256
            ),
            "ken",
        ),
    ],
)
def test_field_refusals(call: object, field: str) -> None:
    with pytest.raises(InvalidField) as exc:
        call()  # type: ignore[operator]
    assert exc.value.field == field and exc.value.message_id and exc.value.message_en
