"""Per-meter configuration: the numbers PLN meter models differ in (PLN.md 6, question 5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from prabayar.meter.errors import MeterSetupError


@dataclass(frozen=True)
class MeterSettings:
    """Fixed at manufacture and stored with the meter's state.

    Defaults follow PLN.md section 3 where a source exists (TID memory 50, alarm 5 kWh) and
    the CLOU manual otherwise (lockout after 3 wrong entries, 60 s doubling to 1280 s, key
    change sections forgotten after 10 minutes). The register maximum and the trip recovery
    delay are not published for PLN meters; ours are stated assumptions.
    """

    tid_memory_size: int = 50
    lockout_after: int = 3
    lockout_first: timedelta = timedelta(seconds=60)
    lockout_max: timedelta = timedelta(seconds=1280)
    kct_timeout: timedelta = timedelta(minutes=10)
    credit_max_kwh: Decimal = Decimal("99999.9")
    trip_recovery: timedelta = timedelta(seconds=60)
    mute_duration: timedelta = timedelta(minutes=10)
    nominal_voltage: Decimal = Decimal("220.0")
    event_log_size: int = 200
    last_tokens_size: int = 5
    #: Key change sections pass a tamper latch (assumption). Vending moves to the new key when it
    #: issues the KCTs, so the officer's clear-tamper token is made with the new key: a meter
    #: that refused KCTs while tampered could then never be cleared. False: the strict reading
    #: of the Itron manual (only Clear Tamper and Clear Credit pass).
    key_change_in_tamper: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.tid_memory_size < 1:
            problems.append("tid_memory_size must be at least 1")
        if self.lockout_after < 1:
            problems.append("lockout_after must be at least 1")
        if self.lockout_first <= timedelta(0) or self.lockout_max < self.lockout_first:
            problems.append("lockout_first must be positive and not above lockout_max")
        if self.kct_timeout <= timedelta(0) or self.trip_recovery <= timedelta(0):
            problems.append("kct_timeout and trip_recovery must be positive")
        if self.mute_duration <= timedelta(0):
            problems.append("mute_duration must be positive")
        if self.credit_max_kwh <= 0 or self.nominal_voltage <= 0:
            problems.append("credit_max_kwh and nominal_voltage must be positive")
        if self.event_log_size < 1 or self.last_tokens_size < 1:
            problems.append("event_log_size and last_tokens_size must be at least 1")
        if problems:
            raise MeterSetupError("pengaturan meter tidak valid", "; ".join(problems))
