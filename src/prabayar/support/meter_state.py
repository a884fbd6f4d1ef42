"""Reading an emulated meter's state file as a ``MeterSnapshot`` (what a technician would read).

A state file that cannot be read back (damaged, foreign, sealed with another key) is how an
emulated meter's non-volatile memory fails: support reports it as a broken meter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from prabayar.meter import (
    AesGcmBox,
    ManualClock,
    Meter,
    MeterState,
    SecretBox,
    StateFile,
    StateFileError,
    StateFileMissing,
)
from prabayar.support.sources import MeterSnapshot, TokenEntry


def snapshot_of(state: MeterState, now: datetime | None = None) -> MeterSnapshot:
    """The diagnosis view of a live meter state."""
    tamper = None
    if state.tamper is not None:
        tamper = f"{state.tamper.label_en} (code 08 shows {int(state.tamper)})"
    locked = state.locked_until
    if locked is not None and now is not None and locked <= now:
        locked = None
    return MeterSnapshot(
        meter_number=state.meter_number,
        key=state.key,
        params=state.params,
        tid_memory=tuple(state.tid_memory),
        tid_memory_size=state.settings.tid_memory_size,
        credit_kwh=state.credit_kwh,
        credit_max_kwh=state.settings.credit_max_kwh,
        tamper=tamper,
        broken=None,
        locked_until=locked,
        accepted=tuple(TokenEntry(t.digits, t.tid, t.entered_at) for t in state.last_tokens),
        events=tuple((e.at, e.kind, e.detail) for e in state.events),
    )


def _broken(meter_number: str, reason: str) -> MeterSnapshot:
    from decimal import Decimal

    return MeterSnapshot(
        meter_number=meter_number,
        key=None,
        params=None,
        tid_memory=(),
        tid_memory_size=0,
        credit_kwh=Decimal(0),
        credit_max_kwh=Decimal(0),
        broken=reason,
    )


class MeterStateReader:
    """Reads ``<data_dir>/meters/<meter_number>.json`` (the emulator's layout).

    With a ``clock`` the state is first brought up to the present by the meter's own rules
    (energy drawn since it was last saved, relay, expired key change sections), in memory
    only: the file was written at the meter's last key press, and a meter running a load has
    less credit now than the file says.
    """

    def __init__(self, meters_dir: Path, box: SecretBox, *, clock: Callable[[], datetime] | None = None) -> None:
        self.meters_dir = meters_dir
        self.box = box
        self.clock = clock

    @classmethod
    def for_master_key(
        cls, data_dir: Path, master_key: bytes, *, clock: Callable[[], datetime] | None = None
    ) -> MeterStateReader:
        return cls(data_dir / "meters", AesGcmBox.from_master_key(master_key), clock=clock)

    def path(self, meter_number: str) -> Path:
        return self.meters_dir / f"{meter_number}.json"

    def __call__(self, meter_number: str) -> MeterSnapshot | None:
        store = StateFile(self.path(meter_number), self.box)
        try:
            state = store.load()
        except StateFileMissing:
            return None  # not an emulated meter: diagnose from the ledger alone
        except StateFileError as exc:
            return _broken(meter_number, f"meter memory unreadable: {exc.message_en}")
        if self.clock is None:
            return snapshot_of(state)
        now = self.clock()
        Meter(state, ManualClock(max(now, state.meter_time))).status()  # catch up, not saved
        return snapshot_of(state, now)
