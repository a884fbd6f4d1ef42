"""Reference data: tariff classes with the prices in force, units with their PBJT-TL rates.

``seed_reference(service)`` loads it into an empty database and is idempotent (a second call,
or a database that already has it, changes nothing). ``prabayar seed --reference`` and
``seed --demo`` call it. The values follow the domain file (PLN.md 2.1 tariffs, unchanged 2024
through Q1 2026; 2.4 PBJT-TL examples; 2.7 denominations).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from prabayar.vending.db import claiming_session
from prabayar.vending.models import AuditRow, TariffClass, TariffPrice, Unit, UnitTaxRate

if TYPE_CHECKING:
    from prabayar.vending.service import VendingService


@dataclass(frozen=True)
class TariffSpec:
    code: str
    print_code: str
    description: str
    va_min: int
    va_max: int | None
    rp_per_kwh: str
    household: bool
    subsidised: bool


#: PLN.md 2.1 (tariffs unchanged 2024 through Q1 2026).
TARIFFS: tuple[TariffSpec, ...] = (
    TariffSpec("R1-450", "R1", "R-1/TR 450 VA subsidi", 450, 450, "415", True, True),
    TariffSpec("R1-900", "R1", "R-1/TR 900 VA subsidi", 900, 900, "605", True, True),
    TariffSpec("R1-900RTM", "R1", "R-1/TR 900 VA RTM", 900, 900, "1352.00", True, False),
    TariffSpec("R1-1300", "R1", "R-1/TR 1.300 VA", 1300, 1300, "1444.70", True, False),
    TariffSpec("R1-2200", "R1", "R-1/TR 2.200 VA", 2200, 2200, "1444.70", True, False),
    TariffSpec("R2", "R2", "R-2/TR 3.500-5.500 VA", 3500, 5500, "1699.53", True, False),
    TariffSpec("R3", "R3", "R-3/TR 6.600 VA ke atas", 6600, None, "1699.53", True, False),
    TariffSpec("B2", "B2", "B-2/TR bisnis 6.600 VA-200 kVA", 6600, 200_000, "1444.70", False, False),
    TariffSpec("B3", "B3", "B-3/TM,TT bisnis >200 kVA", 200_001, None, "1114.74", False, False),
    TariffSpec("I3", "I3", "I-3/TM industri >200 kVA", 200_001, None, "1114.74", False, False),
    TariffSpec("I4", "I4", "I-4/TT industri >=30.000 kVA", 30_000_000, None, "996.74", False, False),
    TariffSpec("P1", "P1", "P-1/TR pemerintah 6.600 VA-200 kVA", 6600, 200_000, "1699.53", False, False),
    TariffSpec("P2", "P2", "P-2/TM pemerintah >200 kVA", 200_001, None, "1522.88", False, False),
    TariffSpec("P3", "P3", "P-3/TR penerangan jalan umum", 0, None, "1699.53", False, False),
    TariffSpec("L", "L", "L/TR,TM,TT layanan khusus", 0, None, "1644.52", False, False),
    TariffSpec("S1-450", "S1", "S-1/TR sosial 450 VA", 450, 450, "325", False, True),
    TariffSpec("S1-900", "S1", "S-1/TR sosial 900 VA", 900, 900, "455", False, True),
    TariffSpec("S1-1300", "S1", "S-1/TR sosial 1.300 VA", 1300, 1300, "708", False, True),
    TariffSpec("S1-2200", "S1", "S-1/TR sosial 2.200 VA", 2200, 2200, "760", False, True),
    TariffSpec("S1-3500", "S1", "S-1/TR sosial 3.500 VA-200 kVA", 3500, 200_000, "900", False, True),
    TariffSpec("S2", "S2", "S-2/TM sosial >200 kVA", 200_001, None, "925", False, True),
)  # fmt: skip

#: The prices above are in force from this moment (1 January 2024, 00:00 WIB).
TARIFFS_IN_FORCE_FROM = datetime(2023, 12, 31, 17, 0, tzinfo=UTC)

_EXEMPT = ("P1", "P2", "P3", "S1", "S2")


def jakarta_rate(t: TariffSpec) -> str:
    """DKI Jakarta: 2.4 % households to 2,200 VA, 3 % R-2, 4 % above; P and S exempt."""
    if t.print_code in _EXEMPT:
        return "0"
    if t.code.startswith("R1"):
        return "0.024"
    if t.code == "R2":
        return "0.03"
    if t.print_code in ("I3", "I4"):
        return "0.03"
    return "0.04"


def jatim_rate(t: TariffSpec) -> str:
    """Surabaya (PLN UID Jatim's example): 10 %; industry 3 %; P and S exempt."""
    if t.print_code in _EXEMPT:
        return "0"
    if t.print_code in ("I3", "I4"):
        return "0.03"
    return "0.10"


@dataclass(frozen=True)
class UnitSpec:
    code: str
    uid_name: str
    up3_name: str
    rate: Callable[[TariffSpec], str]


UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("54", "UID JAKARTA RAYA", "UP3 MENTENG", jakarta_rate),
    UnitSpec("51", "UID JAWA TIMUR", "UP3 SURABAYA SELATAN", jatim_rate),
)
#: The unit a customer gets when none is named (bulk import rows without ``unit``).
DEFAULT_UNIT = "54"

#: PLN-listed nominals (PLN.md 2.7) plus the 200,000 most sellers offer: what a new channel sells.
STANDARD_NOMINALS: tuple[int, ...] = (20_000, 50_000, 100_000, 200_000, 250_000, 500_000, 1_000_000)
#: RC 0041 minimum and the largest standard nominal (PLN.md 2.7).
STANDARD_MIN_NOMINAL = 20_000
STANDARD_MAX_NOMINAL = 1_000_000


def seed_reference(service: VendingService, *, actor: str = "system") -> bool:
    """Load tariff classes (with their first price version), units and PBJT-TL rates.

    Idempotent: whatever already exists (by tariff code, unit code, (unit, tariff) rate) is
    left as it is; returns True when anything was added. One transaction, audited.
    """
    now = service.now()
    added: list[str] = []
    with claiming_session(service.engine) as session:
        tariffs = {t.code: t for t in session.scalars(select(TariffClass))}
        for spec in TARIFFS:
            if spec.code in tariffs:
                continue
            row = TariffClass(
                code=spec.code,
                print_code=spec.print_code,
                description=spec.description,
                va_min=spec.va_min,
                va_max=spec.va_max,
                rp_per_kwh=Decimal(spec.rp_per_kwh),
                household=spec.household,
                subsidised=spec.subsidised,
            )
            session.add(row)
            session.flush()
            session.add(
                TariffPrice(
                    tariff_class_id=row.id,
                    effective_from=TARIFFS_IN_FORCE_FROM,
                    rp_per_kwh=Decimal(spec.rp_per_kwh),
                    created_at=now,
                    created_by=actor,
                    reason="reference data (PLN tariff in force since 2024)",
                )
            )
            tariffs[spec.code] = row
            added.append(f"tariff:{spec.code}")
        units = {u.code: u for u in session.scalars(select(Unit))}
        has_default = any(u.is_default for u in units.values())
        for unit_spec in UNITS:
            unit = units.get(unit_spec.code)
            if unit is None:
                unit = Unit(code=unit_spec.code, uid_name=unit_spec.uid_name, up3_name=unit_spec.up3_name,
                            is_default=False)  # fmt: skip
                session.add(unit)
                session.flush()
                units[unit_spec.code] = unit
                added.append(f"unit:{unit_spec.code}")
            existing = {
                r.tariff_class_id for r in session.scalars(select(UnitTaxRate).where(UnitTaxRate.unit_id == unit.id))
            }
            for spec in TARIFFS:
                if tariffs[spec.code].id not in existing:
                    session.add(
                        UnitTaxRate(
                            unit_id=unit.id,
                            tariff_class_id=tariffs[spec.code].id,
                            pbjt_rate=Decimal(unit_spec.rate(spec)),
                        )
                    )
        if not has_default:
            units[DEFAULT_UNIT].is_default = True
            added.append(f"default_unit:{DEFAULT_UNIT}")
        if added:
            session.add(
                AuditRow(at=now, actor=actor, action="reference.seed", meter_number=None,
                         detail=f'{{"added": {len(added)}, "reason": "reference data"}}')
            )  # fmt: skip
    return bool(added)
