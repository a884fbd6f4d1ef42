"""The meter: one object that the faces drive (key-ins, load, tamper) and that saves itself.

Every operation first brings the meter up to its clock's present (energy drawn, relay moved,
key-change sections timed out), then acts, then writes the state file if there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from prabayar.meter import entry, key_change, keypad, tid_memory
from prabayar.meter.clock import Clock, ManualClock, ensure_utc
from prabayar.meter.consumption import advance, settle_relay
from prabayar.meter.display import MeterResult, kwh
from prabayar.meter.errors import InvalidLoad, MeterSetupError
from prabayar.meter.indicators import CreditLed, alarm_reasons, credit_led
from prabayar.meter.lockout import remaining
from prabayar.meter.model import LastEntry, MeterState, RelayState, TamperCause
from prabayar.meter.persistence import StateFile
from prabayar.meter.settings import MeterSettings
from prabayar.sts import (
    DecoderKey,
    Dkga,
    KeyParameters,
    StsError,
    TidRolloverError,
    meter_number,
    tid_from_datetime,
    token_number,
)

#: Longest service code; anything longer typed on the keypad is taken as a token.
MAX_CODE_DIGITS = 6


@dataclass(frozen=True)
class CurvePoint:
    """One sample of a load simulation."""

    at: datetime
    credit_kwh: Decimal
    relay: RelayState


@dataclass(frozen=True)
class MeterStatus:
    """What the meter shows without being asked: the idle LCD, the LED, the buzzer."""

    meter_number: str
    at: datetime
    credit_kwh: Decimal
    cumulative_kwh: Decimal
    relay: RelayState
    load_watts: int
    led: CreditLed
    alarm: tuple[str, ...]
    tamper: TamperCause | None
    lockout_remaining: timedelta | None
    kct_sections: tuple[int, ...]
    lines_id: tuple[str, ...]
    lines_en: tuple[str, ...]


class Meter:
    """A prepaid keypad meter; ``store`` (optional) is written after every change."""

    def __init__(self, state: MeterState, clock: Clock, store: StateFile | None = None) -> None:
        self.state = state
        self.clock = clock
        self.store = store

    def __repr__(self) -> str:
        return f"Meter({self.state.meter_number}, credit={self.state.credit_kwh} kWh)"

    @classmethod
    def manufacture(
        cls,
        number: str,
        key: DecoderKey,
        params: KeyParameters,
        *,
        clock: Clock,
        settings: MeterSettings | None = None,
        store: StateFile | None = None,
        power_limit_watts: int | None = None,
    ) -> Meter:
        """A new meter: TID memory filled with the manufacture minute, no credit, relay open."""
        try:
            number = meter_number.validate(number)
        except StsError as exc:
            raise MeterSetupError("nomor meter tidak valid", str(exc)) from exc
        if key.algorithm is not params.algorithm:
            raise MeterSetupError(
                "algoritma kunci tidak cocok",
                f"the key is for {key.algorithm.name}, the parameters say {params.algorithm.name}",
            )
        if power_limit_watts is not None and power_limit_watts < 0:
            raise MeterSetupError("batas daya tidak valid", "a power limit cannot be negative")
        settings = settings or MeterSettings()
        now = ensure_utc(clock.now())
        try:
            made_tid = tid_from_datetime(now, params.base_date)
        except TidRolloverError as exc:
            raise MeterSetupError("tanggal dasar kunci sudah habis", str(exc)) from exc
        except StsError as exc:
            raise MeterSetupError("waktu pembuatan tidak valid", str(exc)) from exc
        state = MeterState(
            meter_number=number,
            key=key,
            params=params,
            settings=settings,
            manufactured_at=now,
            meter_time=now,
            tid_memory=tid_memory.manufacture_fill(made_tid, settings.tid_memory_size),
            power_limit_watts=power_limit_watts or None,
        )
        state.log(now, "manufactured", f"meter {number}, KRN {params.krn}, TID memory at {made_tid}")
        if store is not None:
            store.create(state)
        return cls(state, clock, store)

    @classmethod
    def open(cls, store: StateFile, clock: Clock) -> Meter:
        """Load a meter from its state file (raises a ``StateFileError`` if unusable)."""
        return cls(store.load(), clock, store)

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        """The meter's time: its clock, but never earlier than the last moment it lived."""
        return max(ensure_utc(self.clock.now()), self.state.meter_time)

    def _begin(self) -> datetime:
        now = self.now()
        advance(self.state, now)
        key_change.forget_expired(self.state, now)
        return now

    def _commit(self) -> None:
        if self.store is not None:
            self.store.save(self.state)

    def tick(self) -> None:
        """Bring the meter up to the present (consumption, relay, timeouts) and save."""
        self._begin()
        self._commit()

    # ------------------------------------------------------------------ keypad

    def enter_token(self, text: str) -> MeterResult:
        """Key in a 20-digit token."""
        now = self._begin()
        result = entry.enter_token(self.state, text, now)
        if result.reason != "empty":  # Enter on an empty display is not an entry
            self.state.last_entry = LastEntry(now, result.kind.value, result.reason, result.token_type)
        self._commit()
        return result

    def relabel_dkga(self, dkga: Dkga) -> None:
        """Record how the current key was derived, as the head end that made it says.

        A key change set carries the new key and its KRN/KT/TI/base date but no DKGA, so after
        one the meter keeps its previous label until the issuer (the vending system) tells it.
        """
        if self.state.params.dkga is not dkga:
            self.state.params = replace(self.state.params, dkga=dkga)
            self.state.log(self.now(), "key_relabelled", f"key derivation recorded as DKGA{dkga.value}")
            self._commit()

    def enter_code(self, text: str) -> MeterResult:
        """Key in a service code (see ``keypad.SERVICE_CODES``)."""
        now = self._begin()
        result = keypad.run_code(self.state, text, now)
        self._commit()
        return result

    def key_in(self, text: str) -> MeterResult:
        """Whatever was typed before Enter: up to 6 digits is a service code, else a token."""
        compact = token_number.compact(text)
        if compact.isascii() and compact.isdigit() and len(compact) <= MAX_CODE_DIGITS:  # ASCII 0-9 only
            return self.enter_code(compact)
        return self.enter_token(compact)

    def restart(self) -> MeterResult:
        """Power-cycle the meter (service code 00)."""
        return self.enter_code("00")

    # ------------------------------------------------------------------ the physical world

    def set_load(self, watts: int) -> None:
        """The household's load from now on (what it draws while the relay is closed)."""
        if not isinstance(watts, int) or isinstance(watts, bool) or watts < 0:
            raise InvalidLoad("beban tidak valid", f"a load is a whole number of watts >= 0, got {watts!r}")
        now = self._begin()
        if watts != self.state.load_watts:
            self.state.load_watts = watts
            self.state.log(now, "load", f"load {watts} W")
            if self.state.relay is RelayState.CLOSED:
                settle_relay(self.state, now)
        self._commit()

    def tamper(self, cause: TamperCause) -> None:
        """A tamper detector fires: latched until a Clear Tamper token ("PERIKSA")."""
        now = self._begin()
        cause = TamperCause(cause)
        self.state.tamper = cause
        self.state.tamper_at = now
        self.state.log(now, "tamper", f"tamper {int(cause)}: {cause.label_en}")
        self._commit()

    def simulate(self, watts: int, duration: timedelta, *, samples: int = 24) -> list[CurvePoint]:
        """Run ``watts`` for ``duration`` of simulated time; the credit curve in ``samples`` steps.

        The meter's clock is swapped for a manual one for the run, so days pass in milliseconds;
        the meter's time then stays ahead of the wall clock until the wall clock catches up.
        The load is switched off again at the end.
        """
        if duration <= timedelta(0) or samples < 1:
            raise InvalidLoad("durasi tidak valid", "duration must be positive and samples >= 1")
        real = self.clock
        sim = ManualClock(self.now())
        self.clock = sim
        try:
            self.set_load(watts)
            curve = [CurvePoint(sim.now(), self.state.credit_kwh, self.state.relay)]
            step = duration / samples
            for _ in range(samples):
                sim.advance(step)
                self.tick()
                curve.append(CurvePoint(sim.now(), self.state.credit_kwh, self.state.relay))
            self.set_load(0)
        finally:
            self.clock = real
        return curve

    # ------------------------------------------------------------------ what it shows

    def status(self) -> MeterStatus:
        """The idle display, LED and alarm at the meter's present (does not save)."""
        now = self._begin()
        s = self.state
        left = remaining(s, now)
        lines_id = [kwh(s.credit_kwh)]
        lines_en = [kwh(s.credit_kwh)]
        if s.tamper is not None:
            lines_id.append("PERIKSA")
            lines_en.append("CHECK (tamper)")
        if s.relay is RelayState.TRIPPED_OVERLOAD:
            lines_id.append("BEBAN LEBIH")
            lines_en.append("OVERLOAD")
        elif s.relay is RelayState.OPEN_NO_CREDIT:
            lines_id.append("KREDIT HABIS")
            lines_en.append("NO CREDIT")
        if left is not None:
            lines_id.append("TERKUNCI")
            lines_en.append("LOCKED OUT")
        return MeterStatus(
            meter_number=s.meter_number,
            at=now,
            credit_kwh=s.credit_kwh,
            cumulative_kwh=s.cumulative_kwh,
            relay=s.relay,
            load_watts=s.load_watts,
            led=credit_led(s),
            alarm=tuple(alarm_reasons(s, now)),
            tamper=s.tamper,
            lockout_remaining=left,
            kct_sections=tuple(sorted(key_change.SECTION_OF_SUBCLASS[k] for k in s.kct_sections)),
            lines_id=tuple(lines_id),
            lines_en=tuple(lines_en),
        )
