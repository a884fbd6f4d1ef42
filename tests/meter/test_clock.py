"""The injected clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from prabayar.meter import ClockError, ManualClock, SystemClock


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(datetime(2025, 1, 1, 7, tzinfo=timezone(timedelta(hours=7))))
    assert clock.now() == datetime(2025, 1, 1, tzinfo=UTC) and clock.now().tzinfo is UTC
    clock.advance(timedelta(hours=1))
    clock.set(datetime(2025, 1, 2, tzinfo=UTC))
    assert clock.now() == datetime(2025, 1, 2, tzinfo=UTC)
    with pytest.raises(ClockError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ClockError):
        clock.set(datetime(2025, 1, 1, tzinfo=UTC))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ClockError) as info:
        ManualClock(datetime(2025, 1, 1))
    assert "naive" in info.value.message_en and info.value.message_id


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().tzinfo is UTC
