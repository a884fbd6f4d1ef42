"""Consumption over simulated time: credit drawn down, relay at zero, overload trips, LED."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from prabayar import sts
from prabayar.meter import CreditLed, InvalidLoad, MeterSettings, RelayState, ResultKind

from .conftest import MakeRig, Rig


def test_a_new_meter_has_no_credit_and_an_open_relay(rig: Rig) -> None:
    status = rig.meter.status()
    assert status.credit_kwh == 0 and status.relay is RelayState.OPEN_NO_CREDIT
    assert status.led is CreditLed.RED_BLINKING
    assert status.lines_id == ("0.00 kWh", "KREDIT HABIS") and status.lines_en[1] == "NO CREDIT"


def test_load_draws_credit_at_watts_times_hours(rig: Rig) -> None:
    rig.enter(rig.credit("10"))
    rig.meter.set_load(500)
    rig.clock.advance(timedelta(hours=3))
    status = rig.meter.status()
    assert status.credit_kwh == Decimal("8.5") and status.cumulative_kwh == Decimal("1.5")
    assert status.relay is RelayState.CLOSED and status.load_watts == 500


def test_relay_opens_exactly_when_credit_runs_out_and_closes_on_new_credit(rig: Rig) -> None:
    rig.enter(rig.credit("2"))
    rig.meter.set_load(1000)
    rig.clock.advance(timedelta(days=3))
    state = rig.meter.state
    rig.meter.tick()
    assert state.credit_kwh == 0 and state.relay is RelayState.OPEN_NO_CREDIT
    assert state.cumulative_kwh == Decimal(2)
    exhausted = next(e for e in state.events if e.kind == "credit_exhausted")
    assert exhausted.at - state.events[0].at == timedelta(days=1, hours=2)  # 1 day + 2 h at 1 kW
    rig.clock.advance(timedelta(days=1))
    rig.meter.tick()
    assert state.cumulative_kwh == Decimal(2)  # nothing drawn while open
    result = rig.enter(rig.credit("1"))
    assert result.kind is ResultKind.ACCEPT and state.relay is RelayState.CLOSED


def test_overload_trips_and_recovers_after_the_delay(make_rig: MakeRig) -> None:
    rig = make_rig(power_limit_watts=1300)
    rig.enter(rig.credit("50"))
    rig.meter.set_load(2000)
    state = rig.meter.state
    assert state.relay is RelayState.TRIPPED_OVERLOAD
    assert rig.meter.status().alarm == ("overload",)
    assert rig.meter.status().lines_en[1] == "OVERLOAD"
    rig.clock.advance(timedelta(minutes=5))
    rig.meter.tick()
    assert state.relay is RelayState.TRIPPED_OVERLOAD and state.credit_kwh == Decimal(50)
    rig.meter.set_load(900)
    assert state.relay is RelayState.TRIPPED_OVERLOAD  # a trip runs its course
    rig.clock.advance(timedelta(seconds=61))
    rig.meter.tick()
    assert state.relay is RelayState.CLOSED
    rig.clock.advance(timedelta(hours=1))
    # the retry after 5 minutes re-tripped (still 2000 W) until minute 6; closed 1 s before now
    # 900 W for 1 h 1 s = 0.90025 kWh
    assert rig.meter.status().credit_kwh == Decimal("49.09975")


def test_trip_recovery_is_configurable(make_rig: MakeRig) -> None:
    rig = make_rig(power_limit_watts=1000, settings=MeterSettings(trip_recovery=timedelta(minutes=5)))
    rig.enter(rig.credit("5"))
    rig.meter.set_load(1500)
    rig.meter.set_load(100)
    rig.clock.advance(timedelta(minutes=4))
    rig.meter.tick()
    assert rig.meter.state.relay is RelayState.TRIPPED_OVERLOAD
    rig.clock.advance(timedelta(minutes=2))
    rig.meter.tick()
    assert rig.meter.state.relay is RelayState.CLOSED


def test_credit_arriving_with_an_overload_trips_at_once(make_rig: MakeRig) -> None:
    rig = make_rig(power_limit_watts=900)
    rig.meter.set_load(2200)
    assert rig.meter.state.relay is RelayState.OPEN_NO_CREDIT
    rig.enter(rig.credit("5"))
    assert rig.meter.state.relay is RelayState.TRIPPED_OVERLOAD


def test_clear_credit_during_a_trip_leaves_the_relay_open(make_rig: MakeRig) -> None:
    rig = make_rig(power_limit_watts=900)
    rig.enter(rig.credit("5"))
    rig.meter.set_load(2200)
    rig.enter(rig.encode(sts.ClearCredit(tid=rig.next_tid(), register=0)))
    rig.clock.advance(timedelta(minutes=2))
    rig.meter.tick()
    assert rig.meter.state.relay is RelayState.OPEN_NO_CREDIT


def test_low_credit_alarm_and_led_colours(rig: Rig) -> None:
    rig.enter(rig.credit("12"))
    assert rig.meter.status().led is CreditLed.GREEN and rig.meter.status().alarm == ()
    rig.meter.set_load(1000)
    rig.clock.advance(timedelta(hours=3))
    assert rig.meter.status().led is CreditLed.YELLOW
    rig.clock.advance(timedelta(hours=4, minutes=6))  # 4.9 kWh left
    status = rig.meter.status()
    assert status.credit_kwh == Decimal("4.9")
    assert status.led is CreditLed.RED and status.alarm == ("low_credit",)
    assert any(e.kind == "low_credit" for e in rig.meter.state.events)


def test_simulate_returns_the_credit_curve_and_switches_off(rig: Rig) -> None:
    rig.enter(rig.credit("10"))
    curve = rig.meter.simulate(1000, timedelta(hours=12), samples=4)
    assert [p.credit_kwh for p in curve] == [Decimal(10), Decimal(7), Decimal(4), Decimal(1), 0]
    assert curve[-1].relay is RelayState.OPEN_NO_CREDIT
    assert curve[-1].at - curve[0].at == timedelta(hours=12)
    assert rig.meter.state.load_watts == 0
    assert rig.meter.now() == curve[-1].at  # the meter's time stays where the run ended


@pytest.mark.parametrize("watts", [-1, True, 1.5])
def test_bad_loads_are_refused(rig: Rig, watts: object) -> None:
    with pytest.raises(InvalidLoad):
        rig.meter.set_load(watts)  # type: ignore[arg-type]


def test_bad_simulation_is_refused(rig: Rig) -> None:
    with pytest.raises(InvalidLoad):
        rig.meter.simulate(100, timedelta(0))
    with pytest.raises(InvalidLoad):
        rig.meter.simulate(100, timedelta(hours=1), samples=0)


def test_meter_time_never_runs_backwards(rig: Rig) -> None:
    rig.enter(rig.credit("10"))
    rig.meter.simulate(0, timedelta(days=2), samples=1)
    ahead = rig.meter.now()
    assert ahead > rig.clock.now()
    rig.meter.set_load(1000)
    assert rig.meter.state.meter_time == ahead
