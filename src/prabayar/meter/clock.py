"""The meter's time source: injected, so tests and simulations run days in milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from prabayar.meter.errors import ClockError


class Clock(Protocol):
    """Anything that can tell the current aware UTC time."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


def ensure_utc(when: datetime) -> datetime:
    """``when`` converted to UTC; a naive datetime is refused (its zone is unknowable)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ClockError(
            "waktu tanpa zona waktu tidak diterima",
            f"naive datetime {when.isoformat()} refused: give a timezone-aware time",
        )
    return when.astimezone(UTC)


class SystemClock:
    """The wall clock, for a meter that runs in real time (CLI, terminal meter)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: for tests and load simulations."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (never backwards) and return the new time."""
        if delta < timedelta(0):
            raise ClockError("waktu tidak bisa mundur", "a manual clock does not run backwards")
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (must not be earlier than the current time)."""
        when = ensure_utc(when)
        if when < self._now:
            raise ClockError("waktu tidak bisa mundur", "a manual clock does not run backwards")
        self._now = when
