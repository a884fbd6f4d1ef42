"""Token entry in the order of SPEC section 10: format, class, decrypt, CRC, TID, expiry, function.

Every outcome is a ``MeterResult``; nothing here raises for a bad token. A rejected token
changes nothing but the wrong-entry counter (authentication failures only) and the event log.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from prabayar.meter import key_change, lockout, tid_memory
from prabayar.meter.consumption import settle_relay
from prabayar.meter.display import MeterResult, ResultKind, kwh, kwh_token, seconds
from prabayar.meter.model import MeterState, TokenRecord
from prabayar.meter.results import fixed, make
from prabayar.meter.test_display import run_tests
from prabayar.sts import (
    ClearCredit,
    ClearTamper,
    ElectricityCredit,
    InvalidLength,
    KeyChange1,
    KeyChange2,
    KeyChange3,
    KeyChange4,
    KeyType,
    MeterTestDisplay,
    SetMaximumPowerLimit,
    SetPhaseUnbalanceLimit,
    StsError,
    Token,
    TokenCrcError,
    UnsupportedToken,
    ValidationError,
    decode,
    meter_number,
    token_number,
)

_KEY_CHANGE = (KeyChange1, KeyChange2, KeyChange3, KeyChange4)


def locked_result(state: MeterState, now: datetime) -> MeterResult | None:
    """The lockout display while the keypad is locked, else None."""
    left = lockout.remaining(state, now)
    if left is None:
        return None
    return make(
        state,
        ResultKind.LOCKED,
        ("TERKUNCI", f"Tunggu {seconds(left)} detik"),
        ("LOCKED OUT", f"Wait {seconds(left)} s"),
        reason="lockout",
        lockout_remaining=left,
    )


def _wrong(state: MeterState, now: datetime, reason: str, detail: str) -> MeterResult:
    state.log(now, "token_rejected", f"{reason}: {detail}")
    duration = lockout.count_wrong_entry(state, now)
    if duration is None:
        return fixed(state, ResultKind.REJECT, reason=reason)
    return fixed(
        state,
        ResultKind.REJECT,
        reason=reason,
        extra_id=(f"TERKUNCI {seconds(duration)} detik",),
        extra_en=(f"LOCKED OUT {seconds(duration)} s",),
        lockout_remaining=duration,
    )


def enter_token(state: MeterState, text: str, now: datetime) -> MeterResult:
    """Process one token typed on the keypad (the caller has brought the meter up to ``now``)."""
    locked = locked_result(state, now)
    if locked is not None:
        state.log(now, "entry_refused", "keypad locked")
        return locked
    if not token_number.compact(text):
        # Enter on an empty display: nothing was typed, so nothing is counted or logged
        return fixed(state, ResultKind.REJECT, reason="empty")
    try:
        digits = token_number.validate(text)
    except ValidationError as exc:
        return _wrong(state, now, "length" if isinstance(exc, InvalidLength) else "format", str(exc))
    try:
        token = decode(digits, state.key)
    except TokenCrcError as exc:
        return _wrong(state, now, "crc", str(exc))
    except UnsupportedToken as exc:
        return _wrong(state, now, "class", str(exc))
    except StsError as exc:
        return _wrong(state, now, "format", str(exc))
    if isinstance(token, MeterTestDisplay):
        return _test_display(state, token, now)
    passes_tamper = isinstance(token, (ClearTamper, ClearCredit)) or (
        state.settings.key_change_in_tamper and isinstance(token, _KEY_CHANGE)
    )
    if state.tamper is not None and not passes_tamper:
        state.log(now, "token_rejected", f"{token.name}: tamper latched")
        return fixed(state, ResultKind.TAMPER, reason="tamper", token_type=token.name)
    if isinstance(token, _KEY_CHANGE):
        result = key_change.stage(state, token, digits, now)
        if result.accepted:
            state.wrong_entries = 0
        return result
    tid: int = getattr(token, "tid")  # noqa: B009 - every other class 0/2 token has a TID
    if tid_memory.is_old(state.tid_memory, tid, state.settings.tid_memory_size):
        return _refused(state, ResultKind.OLD, token, now, f"TID {tid} older than memory")
    if tid_memory.is_used(state.tid_memory, tid):
        return _refused(state, ResultKind.USED, token, now, f"TID {tid} already used")
    if tid >> 16 > state.params.ken:
        return _refused(state, ResultKind.KEY_EXPIRED, token, now, f"TID {tid} past KEN")
    return _function(state, token, digits, tid, now)


def _refused(
    state: MeterState,
    kind: ResultKind,
    token: Token,
    now: datetime,
    detail: str,
    reason: str | None = None,
) -> MeterResult:
    state.log(now, "token_rejected", f"{token.name}: {detail}")
    return fixed(state, kind, reason=reason or kind.value, token_type=token.name)


def _accept(state: MeterState, digits: str, tid: int, kind: str, now: datetime, detail: str) -> None:
    tid_memory.remember(state.tid_memory, tid, state.settings.tid_memory_size)
    state.wrong_entries = 0
    state.remember_token(TokenRecord(digits, kind, tid, None, now))
    state.log(now, "token_accepted", f"{detail} (TID {tid})")


def _function(state: MeterState, token: Token, digits: str, tid: int, now: datetime) -> MeterResult:
    if isinstance(token, ElectricityCredit):
        return _credit(state, token, digits, now)
    if isinstance(token, SetMaximumPowerLimit):
        state.power_limit_watts = token.watts or None
        _accept(state, digits, tid, "power_limit", now, f"power limit {token.watts} W")
        settle_relay(state, now)
        shown = f"{token.watts} W" if token.watts else "-"
        return make(
            state,
            ResultKind.ACCEPT,
            ("BENAR", f"Batas daya {shown}"),
            ("ACCEPT", f"Power limit {shown}"),
            token_type=token.name,
        )
    if isinstance(token, ClearCredit):
        if token.register not in (0, ClearCredit.ALL_REGISTERS):
            return _refused(
                state,
                ResultKind.RANGE_ERROR,
                token,
                now,
                f"no register {token.register}",
                reason="register",
            )
        cleared = state.credit_kwh
        state.credit_kwh = Decimal(0)
        _accept(state, digits, tid, "clear_credit", now, f"credit {kwh(cleared)} cleared")
        settle_relay(state, now)
        return make(
            state,
            ResultKind.ACCEPT,
            ("BENAR", "Kredit dihapus", kwh(state.credit_kwh)),
            ("ACCEPT", "Credit cleared", kwh(state.credit_kwh)),
            token_type=token.name,
        )
    if isinstance(token, ClearTamper):
        was = state.tamper
        state.tamper = None
        state.tamper_at = None
        _accept(state, digits, tid, "clear_tamper", now, f"tamper {int(was) if was else 0} cleared")
        return make(
            state,
            ResultKind.ACCEPT,
            ("BENAR", "Tamper dihapus"),
            ("ACCEPT", "Tamper cleared"),
            token_type=token.name,
        )
    if isinstance(token, SetPhaseUnbalanceLimit):
        state.phase_unbalance_limit_watts = token.watts or None
        _accept(state, digits, tid, "phase_unbalance_limit", now, f"phase unbalance {token.watts} W")
        return make(
            state,
            ResultKind.ACCEPT,
            ("BENAR", f"Selisih fasa {token.watts} W"),
            ("ACCEPT", f"Phase unbalance {token.watts} W"),
            token_type=token.name,
        )
    return _refused(
        state,
        ResultKind.FUNCTION_ERROR,
        token,
        now,
        "not supported by an electricity meter",
        reason="function",
    )


def _credit(state: MeterState, token: ElectricityCredit, digits: str, now: datetime) -> MeterResult:
    if state.params.key_type is KeyType.DDTK:
        return _refused(state, ResultKind.DDTK_ERROR, token, now, "credit under a default key")
    total = state.credit_kwh + token.amount
    if total > state.settings.credit_max_kwh:
        return _refused(
            state,
            ResultKind.OVER,
            token,
            now,
            f"{kwh(total)} above {kwh(state.settings.credit_max_kwh)}",
        )
    state.credit_kwh = total
    tid_memory.remember(state.tid_memory, token.tid, state.settings.tid_memory_size)
    state.wrong_entries = 0
    state.remember_token(TokenRecord(digits, "credit", token.tid, token.amount, now))
    state.log(now, "token_accepted", f"credit +{kwh_token(token.amount)}, total {kwh(total)} (TID {token.tid})")
    settle_relay(state, now)
    return make(
        state,
        ResultKind.ACCEPT,
        ("BENAR", f"+{kwh_token(token.amount)}", f"Sisa {kwh(total)}"),
        ("ACCEPT", f"+{kwh_token(token.amount)}", f"Total {kwh(total)}"),
        kwh_added=token.amount,
        token_type=token.name,
    )


def _test_display(state: MeterState, token: MeterTestDisplay, now: datetime) -> MeterResult:
    own = meter_number.manufacturer_code(state.meter_number)
    own_format = 0 if len(state.meter_number) == 11 else 1
    if token.format != own_format or token.manufacturer_code != own:
        return _wrong(
            state,
            now,
            "mfr_code",
            f"test token for manufacturer {token.manufacturer_code:02d}, meter is {own:02d}",
        )
    bits = 36 if token.format == 0 else 28
    lines_id, lines_en = run_tests(state, token.control, bits)
    state.log(now, "test_display", f"control {token.control:#x}")
    return make(state, ResultKind.TEST_DISPLAY, lines_id, lines_en, token_type=token.name)
