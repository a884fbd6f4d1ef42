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
    ServiceCode("56", "hasil token terakhir (alasan GAGAL)", "result of the last token entered (why it failed)"),
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


#: Service code 56: short LCD words for the outcome of the last entry, by rejection reason first,
#: then by result kind. Values are (Indonesian, English).
LAST_RESULT_WORDS: dict[str, tuple[str, str]] = {
    "crc": ("Salah kunci/CRC", "CRC/key error"),
    "length": ("Jumlah digit salah", "Wrong digit count"),
    "format": ("Format salah", "Format error"),
    "class": ("Kelas tidak dikenal", "Unknown token class"),
    "mfr_code": ("Kode pabrikan salah", "Manufacturer code error"),
    "lockout": ("Keypad terkunci", "Keypad locked out"),
    "register": ("Register salah", "No such register"),
    "function": ("Fungsi tak didukung", "Function not supported"),
    "accept": ("Diterima", "Accepted"),
    "kct_partial": ("KCT sebagian", "Key change section"),
    "key_changed": ("Kunci diganti", "Key changed"),
    "test_display": ("Token uji", "Test token"),
    "used": ("Sudah dipakai", "Already used"),
    "old": ("Terlalu lama", "Too old"),
    "over": ("Kredit penuh", "Credit overflow"),
    "key_expired": ("Kunci kedaluwarsa", "Key expired"),
    "tamper": ("Tamper aktif", "Tamper latched"),
    "range_error": ("Di luar jangkauan", "Out of range"),
    "key_type_error": ("Jenis kunci salah", "Key type error"),
    "ddtk_error": ("Kunci bawaan", "Default key"),
    "locked": ("Keypad terkunci", "Keypad locked out"),
    "reject": ("Ditolak", "Rejected"),
}


_ACCEPTED_KINDS = frozenset(k.value for k in ResultKind if k.accepted)


def last_result_words(kind: str, reason: str | None) -> tuple[str, str]:
    """What code 56 shows for an entry: the rejection reason when it has words, else the kind."""
    if reason is not None and reason in LAST_RESULT_WORDS:
        return LAST_RESULT_WORDS[reason]
    return LAST_RESULT_WORDS.get(kind, (kind, kind))


def _last_entry(state: MeterState, code: str) -> MeterResult:
    last = state.last_entry
    if last is None:
        return _show(state, code, "Belum ada token", "No token yet")
    word_id, word_en = last_result_words(last.kind, last.reason)
    ok = last.kind in _ACCEPTED_KINDS
    return make(
        state,
        ResultKind.CODE,
        (code, f"{'BENAR' if ok else 'GAGAL'} {word_id}", wib(last.at)),
        (code, f"{'ACCEPT' if ok else 'REJECT'} {word_en}", wib(last.at)),
        reason=code,
    )


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
    if code == "56":
        return _last_entry(state, code)
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
    if len(code) == 5 and code.startswith("456") and code.isascii() and code.isdigit():
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
