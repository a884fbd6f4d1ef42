"""Staged key change (KCT) sections: any order, forgotten after a timeout (SPEC 9, PLN.md 3.6).

Sections are kept as the 20 digits entered (they stay encrypted under the current key, so the
state file never holds the new key in clear) and decoded again once the set is complete.
"""

from __future__ import annotations

from datetime import datetime

from prabayar.meter.display import MeterResult, ResultKind, ordinal
from prabayar.meter.model import MeterState
from prabayar.meter.results import fixed, make
from prabayar.sts import (
    DecoderKey,
    KeyChange1,
    KeyChange2,
    KeyChange3,
    KeyChange4,
    KeyParameters,
    KeyType,
    StsError,
    Token,
    assemble_key,
    decode,
)

#: Section number shown to the customer, by token subclass.
SECTION_OF_SUBCLASS = {3: 1, 4: 2, 8: 3, 9: 4}


def required_subclasses(state: MeterState) -> tuple[int, ...]:
    """2 sections for a 64-bit key, 4 for a 128-bit (MISTY1) key."""
    return (3, 4) if state.key.bits == 64 else (3, 4, 8, 9)


def forget_expired(state: MeterState, now: datetime) -> None:
    """Drop staged sections older than the key-change timeout."""
    started = state.kct_started_at
    if started is not None and now - started > state.settings.kct_timeout:
        state.log(now, "kct_timeout", f"key change sections {sorted(state.kct_sections)} forgotten")
        state.kct_sections.clear()
        state.kct_started_at = None


def _section_problem(state: MeterState, token: Token) -> MeterResult | None:
    if token.subclass not in required_subclasses(state):
        return fixed(
            state,
            ResultKind.FUNCTION_ERROR,
            reason="kct_section_for_128bit_key",
            token_type=token.name,
        )
    if isinstance(token, KeyChange1):
        if token.key_type == KeyType.DCTK:
            return fixed(
                state,
                ResultKind.KEY_TYPE_ERROR,
                reason="dctk_on_payment_meter",
                token_type=token.name,
            )
        if not 1 <= token.krn <= 9:
            return fixed(state, ResultKind.RANGE_ERROR, reason="krn", token_type=token.name)
        if token.rollover and state.params.base_date.successor is None:
            return fixed(state, ResultKind.RANGE_ERROR, reason="no_later_base_date", token_type=token.name)
    if isinstance(token, KeyChange2) and token.tariff_index > 99:
        return fixed(state, ResultKind.RANGE_ERROR, reason="tariff_index", token_type=token.name)
    return None


def stage(state: MeterState, token: Token, digits: str, now: datetime) -> MeterResult:
    """Take one authenticated key change section; apply the new key once the set is complete."""
    forget_expired(state, now)
    problem = _section_problem(state, token)
    if problem is not None:
        state.log(now, "token_rejected", f"{token.name}: {problem.reason}")
        return problem
    section = SECTION_OF_SUBCLASS[token.subclass]
    candidate = {**state.kct_sections, token.subclass: digits}
    needed = required_subclasses(state)
    if all(sub in candidate for sub in needed):
        return _apply(state, candidate, now)
    if not state.kct_sections:
        state.kct_started_at = now
    state.kct_sections[token.subclass] = digits
    state.log(now, "kct_section", f"key change section {section} of {len(needed)} received")
    have = sorted(SECTION_OF_SUBCLASS[s] for s in state.kct_sections)
    return make(
        state,
        ResultKind.KCT_PARTIAL,
        (f"{ordinal(section)} KCT", "Masukkan token berikutnya"),
        (f"{ordinal(section)} KCT", "Enter the next key change token"),
        token_type=token.name,
        kct_sections=have,
    )


def _apply(state: MeterState, candidate: dict[int, str], now: datetime) -> MeterResult:
    """Check and install the new key; a refused set leaves the staged sections as they were."""
    sections: dict[int, Token] = {sub: decode(d, state.key) for sub, d in candidate.items()}
    first, second = sections[3], sections[4]
    assert isinstance(first, KeyChange1) and isinstance(second, KeyChange2)
    current = state.params
    sgc = current.sgc
    if 8 in sections:
        third, fourth = sections[8], sections[9]
        assert isinstance(third, KeyChange3) and isinstance(fourth, KeyChange4)
        sgc = f"{fourth.sgc_high << 12 | third.sgc_low:06d}"
    base_date = current.base_date
    if first.rollover:
        successor = base_date.successor
        assert successor is not None  # checked when section 1 was staged
        base_date = successor  # a KCT carries no DKGA: the meter keeps its label (the head end knows)
    try:
        params = KeyParameters(
            key_type=KeyType(first.key_type),
            sgc=sgc,
            tariff_index=f"{second.tariff_index:02d}",
            krn=first.krn,
            ken=first.ken_high << 4 | second.ken_low,
            algorithm=current.algorithm,
            base_date=base_date,
            dkga=current.dkga,
        )
        key = DecoderKey(assemble_key(sections, state.key.bits // 8), current.algorithm)
    except StsError as exc:
        state.log(now, "token_rejected", f"key change set refused: {exc}")
        return fixed(state, ResultKind.RANGE_ERROR, reason="key_parameters", token_type=first.name)
    if first.rollover and key.reveal() == state.key.reveal():
        state.log(now, "token_rejected", "rollover key change without a new key refused")
        return fixed(state, ResultKind.KEY_TYPE_ERROR, reason="rollover_same_key", token_type=first.name)
    state.kct_sections.clear()
    state.kct_started_at = None
    state.key = key
    state.params = params
    detail = f"new key KRN {params.krn}, KT {int(params.key_type)}, TI {params.tariff_index}"
    if first.rollover:
        state.tid_memory.clear()
        detail += f", TID rollover to base date {base_date.start.year} (TID memory cleared)"
    state.log(now, "key_changed", detail)
    lines_id = ["BENAR", f"Kunci baru KRN {params.krn}"]
    lines_en = ["ACCEPT", f"New key KRN {params.krn}"]
    if first.rollover:
        lines_id.append(f"Tanggal dasar {base_date.start.year}")
        lines_en.append(f"Base date {base_date.start.year}")
    return make(state, ResultKind.KEY_CHANGED, lines_id, lines_en, token_type="KeyChange")
