"""Class 1 InitiateMeterTest/Display tokens: what each control bit asks the meter to show.

IEC Table 27 (the meaning of each control bit) is not public (SPEC 3.2, 15). This emulator's
own table: "test 0" (control 0, or every bit set) runs all tests; otherwise each set bit, from
bit 0 upwards, asks for the item below. It is documented in docs/meter.md.
"""

from __future__ import annotations

from collections.abc import Callable

from prabayar.meter.display import kwh
from prabayar.meter.model import MeterState, RelayState

Item = Callable[[MeterState], tuple[str, str]]


def _limit(watts: int | None) -> str:
    return "-" if not watts else f"{watts} W"


TEST_ITEMS: tuple[tuple[str, Item], ...] = (
    ("display segments", lambda s: ("8888888", "8888888")),
    (
        "relay",
        lambda s: (
            f"Relai {'tertutup' if s.relay is RelayState.CLOSED else 'terbuka'}",
            f"Relay {'closed' if s.relay is RelayState.CLOSED else 'open'}",
        ),
    ),
    (
        "cumulative energy",
        lambda s: (f"Total pakai {kwh(s.cumulative_kwh)}", f"Total used {kwh(s.cumulative_kwh)}"),
    ),
    (
        "key revision and type",
        lambda s: (
            f"KRN {s.params.krn} KT {int(s.params.key_type)}",
            f"KRN {s.params.krn} KT {int(s.params.key_type)}",
        ),
    ),
    ("tariff index", lambda s: (f"TI {s.params.tariff_index}", f"TI {s.params.tariff_index}")),
    ("supply group code", lambda s: (f"SGC {s.params.sgc}", f"SGC {s.params.sgc}")),
    (
        "power limit",
        lambda s: (
            f"Batas daya {_limit(s.power_limit_watts)}",
            f"Power limit {_limit(s.power_limit_watts)}",
        ),
    ),
    (
        "tamper status",
        lambda s: (
            f"Tamper {int(s.tamper) if s.tamper else 0}",
            f"Tamper {int(s.tamper) if s.tamper else 0}",
        ),
    ),
    (
        "power now",
        lambda s: (
            f"Daya {s.load_watts if s.relay is RelayState.CLOSED else 0} W",
            f"Power {s.load_watts if s.relay is RelayState.CLOSED else 0} W",
        ),
    ),
    ("software version", lambda s: ("Versi prabayar.meter 1", "Version prabayar.meter 1")),
    (
        "phase unbalance limit",
        lambda s: (
            f"Batas selisih fasa {_limit(s.phase_unbalance_limit_watts)}",
            f"Phase unbalance limit {_limit(s.phase_unbalance_limit_watts)}",
        ),
    ),
    ("key expiry number", lambda s: (f"KEN {s.params.ken}", f"KEN {s.params.ken}")),
    (
        "base date",
        lambda s: (
            f"Tanggal dasar {s.params.base_date.start.year}",
            f"Base date {s.params.base_date.start.year}",
        ),
    ),
)


def run_tests(state: MeterState, control: int, control_bits: int) -> tuple[list[str], list[str]]:
    """Display lines (Indonesian, English) for the tests ``control`` asks for."""
    all_tests = control == 0 or control == (1 << control_bits) - 1
    wanted = range(len(TEST_ITEMS)) if all_tests else [bit for bit in range(control_bits) if control >> bit & 1]
    lines_id = ["TES 0 semua" if all_tests else "TES"]
    lines_en = ["TEST 0 all" if all_tests else "TEST"]
    for bit in wanted:
        if bit < len(TEST_ITEMS):
            text_id, text_en = TEST_ITEMS[bit][1](state)
        else:
            text_id, text_en = f"Tes {bit} tidak ada", f"Test {bit} not available"
        lines_id.append(text_id)
        lines_en.append(text_en)
    return lines_id, lines_en
