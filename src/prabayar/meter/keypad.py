"""Keypad service codes (end each with Enter), following common Indonesian meters (PLN.md 3.3).

``SERVICE_CODES`` is the documented table (docs/meter.md is generated from the same words);
``run_code`` answers one code. Unknown codes get a clear message, never silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from prabayar.meter.display import MeterResult, ResultKind, kwh, kwh_token, wib
from prabayar.meter.model import MeterState, RelayState
from prabayar.meter.results import make
from prabayar.sts import meter_number, token_number


@dataclass(frozen=True)
class ServiceCode:
    """One row of the keypad code table."""

    code: str
    meaning_id: str
    meaning_en: str


SERVICE_CODES: tuple[ServiceCode, ...] = (
    ServiceCode("00", "mulai ulang meter", "restart the meter"),
    ServiceCode("03", "total kWh terpakai", "cumulative kWh used"),
    ServiceCode("08", "status tamper dan penyebabnya", "tamper status and its cause"),
    ServiceCode("37", "sisa kWh", "remaining kWh"),
    ServiceCode("41", "tegangan (V)", "voltage (V)"),
    ServiceCode("44", "arus (A)", "current (A)"),
    ServiceCode("47", "daya saat ini (W)", "power in use (W)"),
    ServiceCode("54", "token terakhir", "last token"),
    ServiceCode("59", "kWh token terakhir", "kWh of the last credit token"),
    ServiceCode("75", "nomor meter", "meter number"),
    ServiceCode("79", "batas alarm kredit", "low-credit alarm threshold"),
    ServiceCode("456xx", "atur batas alarm ke xx kWh", "set the alarm threshold to xx kWh"),
    ServiceCode("123000", "matikan alarm kredit", "silence the low-credit alarm"),
    ServiceCode("123030", "hidupkan lagi alarm kredit", "restore the low-credit alarm"),
    ServiceCode("812", "bisukan alarm sebentar", "mute the alarm for a few minutes"),
)


def _show(state: MeterState, code: str, text_id: str, text_en: str) -> MeterResult:
    return make(state, ResultKind.CODE, (code, text_id), (code, text_en), reason=code)


def restart(state: MeterState, now: datetime) -> None:
    """Code 00: a power cycle. Volatile things are lost (staged key change sections, the mute);
    credit, TID memory, tamper latch and a running lockout survive (they are non-volatile)."""
    state.kct_sections.clear()
    state.kct_started_at = None
    state.muted_until = None
    state.log(now, "restart", "meter restarted")


def _power_now(state: MeterState) -> int:
    return state.load_watts if state.relay is RelayState.CLOSED else 0


def run_code(state: MeterState, text: str, now: datetime) -> MeterResult:
    """Answer one service code (digits only, without the Enter key)."""
    code = text.strip()
    if code == "00":
        restart(state, now)
        return _show(state, code, "Mulai ulang", "Restarted")
    if code == "03":
        return _show(state, code, f"Total {kwh(state.cumulative_kwh)}", f"Used {kwh(state.cumulative_kwh)}")
    if code == "08":
        if state.tamper is None:
            return _show(state, code, "Tamper 0 tidak ada", "Tamper 0 none")
        cause = state.tamper
        return _show(
            state,
            code,
            f"Tamper {int(cause)} {cause.label_id}",
            f"Tamper {int(cause)} {cause.label_en}",
        )
    if code == "37":
        return _show(state, code, f"Sisa {kwh(state.credit_kwh)}", f"Remaining {kwh(state.credit_kwh)}")
    if code == "41":
        volts = state.settings.nominal_voltage
        return _show(state, code, f"{volts} V", f"{volts} V")
    if code == "44":
        amps = (Decimal(_power_now(state)) / state.settings.nominal_voltage).quantize(Decimal("0.01"))
        return _show(state, code, f"{amps} A", f"{amps} A")
    if code == "47":
        return _show(state, code, f"{_power_now(state)} W", f"{_power_now(state)} W")
    if code == "54":
        if not state.last_tokens:
            return _show(state, code, "Belum ada token", "No token yet")
        last = state.last_tokens[-1]
        shown = token_number.format(last.digits)
        return make(
            state,
            ResultKind.CODE,
            (code, shown, wib(last.entered_at)),
            (code, shown, wib(last.entered_at)),
            reason=code,
        )
    if code == "59":
        credits = [t for t in state.last_tokens if t.kwh is not None]
        if not credits:
            return _show(state, code, "Belum ada token kredit", "No credit token yet")
        amount = credits[-1].kwh
        assert amount is not None
        return _show(state, code, kwh_token(amount), kwh_token(amount))
    if code == "75":
        number = meter_number.format(state.meter_number)
        return _show(state, code, number, number)
    if code == "79":
        return _show(
            state,
            code,
            f"Alarm < {kwh(state.alarm_threshold_kwh)}",
            f"Alarm < {kwh(state.alarm_threshold_kwh)}",
        )
    if len(code) == 5 and code.startswith("456") and code.isdigit():
        state.alarm_threshold_kwh = Decimal(int(code[3:]))
        state.log(now, "alarm_threshold", f"alarm threshold set to {kwh(state.alarm_threshold_kwh)}")
        return _show(
            state,
            code,
            f"Alarm < {kwh(state.alarm_threshold_kwh)}",
            f"Alarm < {kwh(state.alarm_threshold_kwh)}",
        )
    if code == "123000":
        state.alarm_silenced = True
        state.log(now, "alarm_silenced", "low-credit alarm silenced")
        return _show(state, code, "Alarm mati", "Alarm off")
    if code == "123030":
        state.alarm_silenced = False
        state.log(now, "alarm_restored", "low-credit alarm restored")
        return _show(state, code, "Alarm hidup", "Alarm on")
    if code == "812":
        state.muted_until = now + state.settings.mute_duration
        minutes = int(state.settings.mute_duration.total_seconds() // 60)
        state.log(now, "alarm_muted", f"alarm muted for {minutes} min")
        return _show(state, code, f"Alarm bisu {minutes} menit", f"Alarm muted {minutes} min")
    state.log(now, "unknown_code", f"code {code!r}")
    return make(
        state,
        ResultKind.UNKNOWN_CODE,
        ("KODE SALAH", f"Kode {code or '-'} tidak dikenal"),
        ("UNKNOWN CODE", f"Code {code or '-'} is not a service code"),
        reason="unknown_code",
    )
