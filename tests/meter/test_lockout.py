"""Wrong-entry lockout: 3 failures lock 60 s, doubling per further failure up to 1280 s."""

from __future__ import annotations

from datetime import timedelta

import pytest

from prabayar.meter import MeterError, MeterSettings, ResultKind
from prabayar.meter.lockout import lockout_duration

from .conftest import MakeRig, Rig

WRONG = "12345678901234567890"


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(1, None), (2, None), (3, 60), (4, 120), (5, 240), (6, 480), (7, 960), (8, 1280), (30, 1280)],
)
def test_default_back_off(failures: int, seconds: int | None) -> None:
    got = lockout_duration(failures, MeterSettings())
    assert got == (None if seconds is None else timedelta(seconds=seconds))


def test_configurable_back_off() -> None:
    settings = MeterSettings(lockout_after=5, lockout_first=timedelta(seconds=10), lockout_max=timedelta(seconds=25))
    assert lockout_duration(4, settings) is None
    assert lockout_duration(5, settings) == timedelta(seconds=10)
    assert lockout_duration(6, settings) == timedelta(seconds=20)
    assert lockout_duration(7, settings) == timedelta(seconds=25)


@pytest.mark.parametrize(
    "bad",
    [
        {"lockout_after": 0},
        {"lockout_first": timedelta(0)},
        {"lockout_max": timedelta(seconds=1)},
        {"tid_memory_size": 0},
        {"kct_timeout": timedelta(0)},
        {"credit_max_kwh": 0},
        {"mute_duration": timedelta(0)},
        {"event_log_size": 0},
    ],
)
def test_bad_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(MeterError) as info:
        MeterSettings(**bad)  # type: ignore[arg-type]
    assert "pengaturan" in str(info.value)


def test_third_wrong_entry_locks_and_shows_remaining_time(rig: Rig) -> None:
    assert rig.enter(WRONG).lockout_remaining is None
    rig.enter(WRONG)
    third = rig.enter(WRONG)
    assert third.kind is ResultKind.REJECT and third.lockout_remaining == timedelta(seconds=60)
    assert third.lines_id[-1] == "TERKUNCI 60 detik" and third.lines_en[-1] == "LOCKED OUT 60 s"
    rig.clock.advance(timedelta(seconds=20.5))
    locked = rig.enter(rig.credit("10"))
    assert locked.kind is ResultKind.LOCKED
    assert locked.lines_id == ("TERKUNCI", "Tunggu 40 detik")
    assert locked.lines_en == ("LOCKED OUT", "Wait 40 s")
    assert locked.credit_kwh == 0 and rig.meter.state.wrong_entries == 3
    assert rig.meter.status().lockout_remaining is not None


def test_lockout_doubles_and_an_accepted_token_resets(rig: Rig) -> None:
    for _ in range(3):
        rig.enter(WRONG)
    rig.clock.advance(timedelta(seconds=61))
    fourth = rig.enter(WRONG)
    assert fourth.lockout_remaining == timedelta(seconds=120)
    rig.clock.advance(timedelta(seconds=121))
    assert rig.enter(rig.credit("5")).kind is ResultKind.ACCEPT
    assert rig.meter.state.wrong_entries == 0
    assert rig.enter(WRONG).lockout_remaining is None


def test_lockout_survives_a_restart(make_rig: MakeRig) -> None:
    rig = make_rig()
    for _ in range(3):
        rig.enter(WRONG)
    rig.meter.restart()
    assert rig.enter(rig.credit("1")).kind is ResultKind.LOCKED


def test_used_and_old_do_not_count_as_wrong_entries(rig: Rig) -> None:
    digits = rig.credit("1")
    rig.enter(digits)
    for _ in range(5):
        assert rig.enter(digits).kind is ResultKind.USED
    assert rig.meter.state.wrong_entries == 0
