"""The credit LED and the alarm buzzer (PLN.md 3.2 and 3.4)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from prabayar.meter.model import MeterState, RelayState


class CreditLed(StrEnum):
    """Three-colour credit LED: green plenty, yellow enough, red low, red blinking exhausted."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    RED_BLINKING = "red_blinking"


def credit_led(state: MeterState) -> CreditLed:
    """Red below the alarm threshold, yellow below twice the threshold, green above."""
    credit = state.credit_kwh
    if credit <= 0:
        return CreditLed.RED_BLINKING
    if credit < state.alarm_threshold_kwh:
        return CreditLed.RED
    if credit < 2 * state.alarm_threshold_kwh:
        return CreditLed.YELLOW
    return CreditLed.GREEN


def low_credit(state: MeterState) -> bool:
    """Credit is below the alarm threshold (set with 456xx; default 5 kWh)."""
    return state.credit_kwh < state.alarm_threshold_kwh


def alarm_reasons(state: MeterState, now: datetime) -> list[str]:
    """Why the buzzer sounds now (empty: silent).

    Low credit beeps unless silenced (123000) or muted (812); tamper and overload beep unless
    muted. These are the alarm causes PLN's EVP lists (PLN.md 3.4).
    """
    if state.muted_until is not None and state.muted_until > now:
        return []
    reasons = []
    if low_credit(state) and not state.alarm_silenced:
        reasons.append("low_credit")
    if state.tamper is not None:
        reasons.append("tamper")
    if state.relay is RelayState.TRIPPED_OVERLOAD:
        reasons.append("overload")
    return reasons
