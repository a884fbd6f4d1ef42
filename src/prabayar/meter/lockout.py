"""Keypad lockout after repeated wrong entries (PLN.md 3.7; CLOU's doubling timer, SPEC 10)."""

from __future__ import annotations

from datetime import datetime, timedelta

from prabayar.meter.model import MeterState
from prabayar.meter.settings import MeterSettings


def lockout_duration(failures: int, settings: MeterSettings) -> timedelta | None:
    """How long ``failures`` consecutive wrong entries lock the keypad (None: not yet).

    The ``lockout_after``-th failure locks for ``lockout_first``; each further one doubles the
    time, up to ``lockout_max``.
    """
    if failures < settings.lockout_after:
        return None
    doublings = min(failures - settings.lockout_after, 32)
    return min(settings.lockout_first * (1 << doublings), settings.lockout_max)


def remaining(state: MeterState, now: datetime) -> timedelta | None:
    """Time left on a running lockout, or None when the keypad takes tokens."""
    if state.locked_until is None or state.locked_until <= now:
        return None
    return state.locked_until - now


def count_wrong_entry(state: MeterState, now: datetime) -> timedelta | None:
    """Record one wrong entry; returns the lockout it starts, if any."""
    state.wrong_entries += 1
    duration = lockout_duration(state.wrong_entries, state.settings)
    if duration is not None:
        state.locked_until = now + duration
        state.log(now, "lockout", f"{state.wrong_entries} wrong entries: keypad locked {duration}")
    return duration
