"""Building ``MeterResult`` values from the current state and the display texts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from prabayar.meter.display import TEXTS, MeterResult, ResultKind
from prabayar.meter.model import MeterState


def make(
    state: MeterState,
    kind: ResultKind,
    lines_id: Sequence[str],
    lines_en: Sequence[str],
    *,
    kwh_added: Decimal | None = None,
    reason: str | None = None,
    token_type: str | None = None,
    lockout_remaining: timedelta | None = None,
    kct_sections: Sequence[int] = (),
) -> MeterResult:
    return MeterResult(
        kind=kind,
        lines_id=tuple(lines_id),
        lines_en=tuple(lines_en),
        credit_kwh=state.credit_kwh,
        kwh_added=kwh_added,
        reason=reason,
        token_type=token_type,
        lockout_remaining=lockout_remaining,
        kct_sections=tuple(kct_sections),
    )


def fixed(
    state: MeterState,
    kind: ResultKind,
    *,
    reason: str | None = None,
    token_type: str | None = None,
    extra_id: Sequence[str] = (),
    extra_en: Sequence[str] = (),
    lockout_remaining: timedelta | None = None,
) -> MeterResult:
    """A result whose display is one of the fixed texts (``TEXTS[kind]``) plus extra lines."""
    lines_id, lines_en = TEXTS[kind.value]
    return make(
        state,
        kind,
        (*lines_id, *extra_id),
        (*lines_en, *extra_en),
        reason=reason,
        token_type=token_type,
        lockout_remaining=lockout_remaining,
    )
