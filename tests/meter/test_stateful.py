"""A hypothesis state machine over a stored meter: vend, enter, replay, restart, tamper, clear,
key change, rollover and consumption, with the meter's promises as invariants."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from prabayar import sts
from prabayar.meter import (
    AesGcmBox,
    ManualClock,
    Meter,
    MeterResult,
    RelayState,
    ResultKind,
    StateFile,
    TamperCause,
)

from .conftest import CTS_STA_KEY, METER_NUMBER, Rig, params_for

START = datetime(2024, 11, 20, tzinfo=UTC)  # four days before the 1993 base date runs out


class StoredMeter(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._dir = tempfile.TemporaryDirectory()
        self.box = AesGcmBox(bytes(32))
        self.path = Path(self._dir.name) / f"{METER_NUMBER}.json"
        key = sts.DecoderKey.from_hex(CTS_STA_KEY)
        params = params_for(base_date=sts.BaseDate.Y1993, dkga=sts.Dkga.DKGA02)
        clock = ManualClock(START)
        store = StateFile(self.path, self.box, durable=False)
        meter = Meter.manufacture(METER_NUMBER, key, params, clock=clock, store=store)
        clock.advance(timedelta(hours=1))
        self.rig = Rig(meter, clock, key, params)
        self.vended: list[tuple[str, Decimal]] = []
        self.credited: set[str] = set()
        self.key_serial = 0

    def teardown(self) -> None:
        self._dir.cleanup()

    @property
    def meter(self) -> Meter:
        return self.rig.meter

    def can_vend(self) -> bool:
        try:
            sts.tid_from_datetime(self.rig.clock.now(), self.rig.params.base_date)
        except sts.StsError:  # past the last TID of the base date: a rollover is due
            return False
        return True

    def enter(self, digits: str) -> MeterResult:
        before = self.meter.state.credit_kwh
        result = self.meter.enter_token(digits)
        after = self.meter.state.credit_kwh
        if result.kind is ResultKind.ACCEPT and result.kwh_added is not None:
            assert digits not in self.credited, "a token credited twice"
            event("credit accepted")
            self.credited.add(digits)
            assert after == before + result.kwh_added
        elif not result.accepted:
            assert after == before, f"rejected {result.kind} changed credit"
        return result

    @precondition(lambda self: self.can_vend())
    @rule(kwh=st.decimals(min_value=Decimal("0.1"), max_value=Decimal(300), places=1))
    def vend(self, kwh: Decimal) -> None:
        self.vended.append((self.rig.credit(kwh), kwh))

    @precondition(lambda self: self.can_vend())
    @rule(kwh=st.decimals(min_value=Decimal("0.1"), max_value=Decimal(300), places=1))
    def buy_and_enter(self, kwh: Decimal) -> None:
        digits = self.rig.credit(kwh)
        self.vended.append((digits, kwh))
        self.enter(digits)

    @precondition(lambda self: bool(self.vended))
    @rule(data=st.data())
    def enter_vended(self, data: st.DataObject) -> None:
        digits, _ = data.draw(st.sampled_from(self.vended))
        self.enter(digits)

    @precondition(lambda self: bool(self.credited))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        digits = data.draw(st.sampled_from(sorted(self.credited)))
        result = self.enter(digits)
        assert not result.accepted

    @rule(digits=st.from_regex(r"[0-9]{20}", fullmatch=True))
    def garbage(self, digits: str) -> None:
        self.enter(digits)

    @rule()
    def restart(self) -> None:
        again = Meter.open(StateFile(self.path, self.box, durable=False), self.rig.clock)
        assert vars(again.state) == vars(self.meter.state)
        self.rig.meter = again
        again.restart()

    @rule(cause=st.sampled_from(TamperCause))
    def tamper(self, cause: TamperCause) -> None:
        self.meter.tamper(cause)

    @precondition(lambda self: self.can_vend())
    @rule()
    def clear_tamper(self) -> None:
        result = self.enter(self.rig.encode(sts.ClearTamper(tid=self.rig.next_tid())))
        if result.kind is ResultKind.ACCEPT:
            assert self.meter.state.tamper is None

    @precondition(lambda self: self.can_vend())
    @rule(register=st.sampled_from([0, 0xFFFF]))
    def clear_credit(self, register: int) -> None:
        result = self.enter(self.rig.encode(sts.ClearCredit(tid=self.rig.next_tid(), register=register)))
        if result.kind is ResultKind.ACCEPT:
            assert self.meter.state.credit_kwh == 0

    @rule(rollover=st.booleans())
    def key_change(self, rollover: bool) -> None:
        base = self.rig.params.base_date
        rollover = rollover and base is sts.BaseDate.Y1993  # 2014 -> 2035 is decades away
        self.key_serial += 1
        new_key = sts.DecoderKey((0x5A000000_00000000 + self.key_serial).to_bytes(8, "big"))
        new_base = sts.BaseDate.Y2014 if rollover else base
        new_params = params_for(base_date=new_base, krn=self.key_serial % 9 + 1)
        results = [self.enter(d) for d in self.rig.key_change(new_key, new_params, rollover=rollover)]
        event(f"key change {'with rollover ' if rollover else ''}{results[-1].kind.value}")
        if results[-1].kind is ResultKind.KEY_CHANGED:
            assert self.meter.state.key == new_key
            self.rig.switch_key(new_key, new_params)
            if rollover:
                assert self.meter.state.tid_memory == []
        else:
            assert results[-1].kind in (ResultKind.TAMPER, ResultKind.LOCKED), results[-1]
            self.meter.restart()  # drop any staged sections; vending keeps the old key

    @rule(
        watts=st.integers(min_value=0, max_value=5000),
        minutes=st.integers(min_value=1, max_value=24 * 60),
    )
    def consume(self, watts: int, minutes: int) -> None:
        before = self.meter.state.credit_kwh
        self.meter.set_load(watts)
        self.rig.clock.advance(timedelta(minutes=minutes))
        self.meter.tick()
        assert self.meter.state.credit_kwh <= before

    @invariant()
    def credit_never_negative(self) -> None:
        assert self.meter.state.credit_kwh >= 0

    @invariant()
    def relay_open_at_zero_credit(self) -> None:
        state = self.meter.state
        if state.credit_kwh == 0:
            assert state.relay is not RelayState.CLOSED

    @invariant()
    def file_matches_memory(self) -> None:
        assert StateFile(self.path, self.box).load().credit_kwh == self.meter.state.credit_kwh


StoredMeter.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestStoredMeter = StoredMeter.TestCase
