"""A synthetic region as an import file: N customers with their meters (pure, deterministic).

The rows follow PLN's household mix (PLN.md 2.1: 450 VA 30 %, 900 VA 45 %, 1,300 VA 17 %,
2,200 VA 5 %, the rest R2/R3/B2/S1) and the reference units (54 Jakarta, 51 Jawa Timur) with the
supply group codes whose demo vending keys ``seed --demo`` loads, so tokens can be sold for
them on a demo database. Most meters are on base date 2014 with KRN 2 (after the 2024 TID
rollover): STA with DKGA04; a tenth are MISTY1/DKGA04 and a tenth still STA/DKGA02 on KRN 1,
base date 1993.

Meter numbers use manufacturer code 45 (the demo uses 14) and IDPELs the digit 2 after the
unit code (the demo uses 1), so a synthetic region never collides with the demo data.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from prabayar.vending.bulk_import import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, luhn_ok

HEADER: tuple[str, ...] = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
#: (unit code, supply group code of the demo vending keys, city)
SYNTHETIC_UNITS = (("54", "123456", "JAKARTA PUSAT"), ("51", "234567", "SURABAYA"))
MANUFACTURER = "45"

_FIRST = ("BUDI", "SITI", "AGUS", "DEWI", "HENDRA", "RATNA", "WAHYU", "SRI", "JOKO", "ANDI", "YULI",
          "EKO", "RINA", "BAMBANG", "NUR", "ADI", "LINA", "HERU", "TUTI", "DEDI", "ANI", "IWAN")  # fmt: skip
_LAST = ("SANTOSO", "RAHAYU", "PRASETYO", "LESTARI", "GUNAWAN", "HIDAYAT", "WAHYUNI", "SUSILO",
         "WIBOWO", "SETIAWAN", "KURNIAWAN", "PURNOMO", "SAPUTRA", "HANDAYANI", "NUGROHO")  # fmt: skip
_STREETS = ("MELATI", "MAWAR", "KENANGA", "DIPONEGORO", "SUDIRMAN", "GATOT SUBROTO", "PAHLAWAN",
            "MERDEKA", "CEMPAKA", "ANGGREK", "RAYA BARAT", "KARTINI", "SISINGAMANGARAJA")  # fmt: skip
#: (cumulative weight in per mille, tariff code as on the struk, VA)
_TARIFF_MIX = ((300, "R1", 450), (750, "R1", 900), (920, "R1", 1300), (970, "R1", 2200),
               (985, "R2", 3500), (990, "R3", 6600), (996, "B2", 13200), (1000, "S1", 1300))  # fmt: skip


def meter_number(serial: int) -> str:
    """An 11-digit meter number: manufacturer 45, 8-digit serial, Luhn check digit."""
    payload = f"{MANUFACTURER}{serial:08d}"
    for check in "0123456789":
        if luhn_ok(payload + check):
            return payload + check
    raise AssertionError("unreachable: one check digit always fits")  # pragma: no cover


def idpel(unit: str, serial: int) -> str:
    return f"{unit}2{serial:09d}"


def rows(count: int, *, seed: int = 2026, start: int = 1) -> Iterator[list[str]]:
    """``count`` records (without header) for serials ``start .. start + count - 1``."""
    rnd = random.Random(seed)
    for serial in range(start, start + count):
        unit, sgc, city = SYNTHETIC_UNITS[serial % 2]
        pick = rnd.randrange(1000)
        tariff, va = next((t, v) for limit, t, v in _TARIFF_MIX if pick < limit)
        flavour = rnd.randrange(10)
        if flavour == 0:  # not yet rolled over
            krn, ea, dkga, base = "1", "07", "02", "1993"
        elif flavour == 1:
            krn, ea, dkga, base = "2", "11", "04", "2014"
        else:
            krn, ea, dkga, base = "2", "07", "04", "2014"
        name = f"{rnd.choice(_FIRST)} {rnd.choice(_LAST)}"
        address = f"JL. {rnd.choice(_STREETS)} NO. {rnd.randrange(1, 300)}, {city}"
        phone = f"08{rnd.randrange(10**9, 10**10)}" if rnd.randrange(3) else ""
        yield [idpel(unit, serial), name, address, tariff, str(va), meter_number(serial), sgc, "01",
               krn, "2", ea, dkga, base, unit, phone]  # fmt: skip


def write_region_csv(target: Path | IO[str], count: int, *, seed: int = 2026, start: int = 1) -> None:
    """Write the header and ``count`` rows (streamed: memory does not grow with ``count``)."""
    if isinstance(target, Path):
        with target.open("w", encoding="utf-8", newline="") as out:
            write_region_csv(out, count, seed=seed, start=start)
        return
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows(count, seed=seed, start=start))
