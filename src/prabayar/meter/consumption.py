"""Energy drawn over (simulated) time, and what the relay does about it (PLN.md 3.4).

The meter is brought up to date lazily: before anything happens at time *t*, ``advance`` draws
the energy the present load used since the meter's last moment, opening the relay at the exact
minute credit ran out, and reconnecting after an overload trip once the recovery delay passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from prabayar.meter.display import kwh
from prabayar.meter.model import ENERGY_QUANTUM, MeterState, RelayState

_JOULES_PER_KWH = Decimal(3_600_000)


def _seconds(delta: timedelta) -> Decimal:
    return Decimal(delta // timedelta(microseconds=1)) / Decimal(1_000_000)


def overloaded(state: MeterState) -> bool:
    """The load is above the maximum power limit (a limit of 0 W or none means unlimited)."""
    limit = state.power_limit_watts
    return bool(limit) and state.load_watts > (limit or 0)


def trip(state: MeterState, now: datetime) -> None:
    """Open the relay for overload; it tries to reconnect after ``trip_recovery``."""
    state.relay = RelayState.TRIPPED_OVERLOAD
    state.trip_until = now + state.settings.trip_recovery
    state.log(now, "overload_trip", f"load {state.load_watts} W above limit {state.power_limit_watts} W")


def settle_relay(state: MeterState, now: datetime) -> None:
    """Put the relay where credit, load and any running trip say it must be."""
    if state.relay is RelayState.TRIPPED_OVERLOAD and state.trip_until and state.trip_until > now:
        return  # a trip runs its course whatever else happens
    if state.relay is RelayState.TRIPPED_OVERLOAD:
        state.trip_until = None
    if state.credit_kwh <= 0:
        if state.relay is not RelayState.OPEN_NO_CREDIT:
            state.log(now, "relay_open", "no credit: relay opened")
        state.relay = RelayState.OPEN_NO_CREDIT
        return
    if overloaded(state):
        trip(state, now)
        return
    if state.relay is not RelayState.CLOSED:
        state.log(now, "relay_closed", "relay closed: supply on")
    state.relay = RelayState.CLOSED


def advance(state: MeterState, until: datetime) -> None:
    """Bring the meter's registers and relay forward to ``until`` (never backwards)."""
    start = state.meter_time
    if until <= start:
        return
    if state.relay is RelayState.TRIPPED_OVERLOAD:
        recovery = state.trip_until or start
        if recovery > until:
            state.meter_time = until
            return
        if overloaded(state) and state.credit_kwh > 0:
            delay = state.settings.trip_recovery
            retries = (until - recovery) // delay + 1
            state.trip_until = recovery + retries * delay
            state.log(recovery, "overload_trip", f"still overloaded: relay tripped again ({retries}x)")
            state.meter_time = until
            return
        start = recovery
        settle_relay(state, recovery)
    if state.relay is RelayState.CLOSED and state.load_watts > 0:
        _draw(state, start, until)
    state.meter_time = until


def _draw(state: MeterState, start: datetime, until: datetime) -> None:
    before = state.credit_kwh
    rate = Decimal(state.load_watts)  # joules per second
    energy = (rate * _seconds(until - start) / _JOULES_PER_KWH).quantize(ENERGY_QUANTUM, rounding=ROUND_HALF_UP)
    if energy >= before:
        empty_after = timedelta(seconds=float(before * _JOULES_PER_KWH / rate))
        empty_at = min(until, start + empty_after)
        state.cumulative_kwh += before
        state.credit_kwh = Decimal(0)
        state.log(empty_at, "credit_exhausted", "credit used up")
        settle_relay(state, empty_at)
    else:
        state.credit_kwh = before - energy
        state.cumulative_kwh += energy
    threshold = state.alarm_threshold_kwh
    if before >= threshold > state.credit_kwh and state.credit_kwh > 0:
        state.log(
            until,
            "low_credit",
            f"credit {kwh(state.credit_kwh)} below alarm threshold {kwh(threshold)}",
        )
