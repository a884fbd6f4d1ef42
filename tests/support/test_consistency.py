"""Meter and diagnosis agree: random field histories on one emulated meter, where every entry is
first diagnosed and then keyed in, and the diagnosis must predict what the meter then shows.

A small TID memory and register make OLD and OVER reachable in a few steps. Seeds are fixed so
a failure reproduces; each history mixes purchases, typing errors, replays, tamper and its
clearing, key changes entered at once or later, and consumption.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from prabayar.meter import MeterSettings, ResultKind, TamperCause
from prabayar.support.result import Cause

from .conftest import BUDI, OPERATOR, SITI, YULIANTI_LEGACY, World, mistype

#: What the diagnosis must say, made before the entry, for each meter result.
EXPECTED: dict[ResultKind, set[Cause]] = {
    ResultKind.ACCEPT: {Cause.NO_FAULT_FOUND},
    ResultKind.USED: {Cause.ALREADY_USED},
    ResultKind.OLD: {Cause.TOO_OLD, Cause.ALREADY_USED},  # a replayed token may have aged out
    ResultKind.TAMPER: {Cause.TAMPER},
    ResultKind.OVER: {Cause.CREDIT_OVERFLOW},
    ResultKind.REJECT: {  # a typo: the typo, or what the corrected token would meet
        Cause.TYPO, Cause.WRONG_METER, Cause.KEY_CHANGE_NEEDED, Cause.KEY_CHANGED_SINCE_SALE, Cause.ALREADY_USED,
        Cause.TOO_OLD, Cause.CREDIT_OVERFLOW,
    },
}


#: Causes a mistyped token of this meter's own can get: the corrected token is named with them.
_CORRECTED_TOKEN_CAUSES = {
    Cause.ALREADY_USED, Cause.TOO_OLD, Cause.CREDIT_OVERFLOW, Cause.KEY_CHANGE_NEEDED,
    Cause.KEY_CHANGED_SINCE_SALE, Cause.TAMPER,
}  # fmt: skip


@pytest.mark.parametrize("seed", range(1, 9))
def test_diagnosis_predicts_the_meter(world: World, seed: int) -> None:
    rng = random.Random(seed)
    settings = MeterSettings(tid_memory_size=4, credit_max_kwh=Decimal(120))
    legacy = seed % 3 == 0  # a 1993-base-date meter that first needs the TID rollover
    number = YULIANTI_LEGACY.meter_number if legacy else BUDI.meter_number
    made = datetime(2023, 5, 1, tzinfo=UTC) if legacy else None
    meter = world.meter(number, settings, made=made)
    pending_kcts: tuple[str, ...] = ()
    if legacy:
        pending_kcts = world.key_change(number, "TID rollover", rollover=True).tokens
        p = world.service.meter_key(number, actor="test", purpose="next key").params
        if not world.service.key_store.has_vending_key(p.sgc, p.krn % 9 + 1):
            world.service.generate_vending_key("admin", p.sgc, p.krn % 9 + 1)
    pocket: list[str] = []  # bought, not yet entered
    used: list[str] = []
    key_changes = 0  # the demo key store holds the next revision's vending key only
    seen: set[ResultKind] = set()
    for step in range(30):
        world.clock.advance(timedelta(minutes=30))  # any lockout of earlier typos has ended
        action = rng.choice(
            ["buy", "buy", "enter", "enter", "typo", "replay", "tamper", "kc", "use", "neighbour", "restart"]
        )
        if action == "buy":
            pocket.append(world.buy(number, rng.choice([20_000, 50_000])).token)
            continue
        if action == "neighbour":  # the seller typed Siti's number
            pocket.append(world.buy(SITI.meter_number, 20_000).token)
            continue
        if action == "restart":
            meter.restart()
            continue
        if action == "tamper" and meter.state.tamper is None:
            meter.tamper(rng.choice(list(TamperCause)))
            continue
        if action == "kc" and not key_changes and not pending_kcts and meter.state.tamper is None:
            key_changes += 1
            pending_kcts = world.key_change(number, "KRN update").tokens
            if rng.random() < 0.5:
                for kct in pending_kcts:
                    meter.enter_token(kct)
                pending_kcts = ()
            continue
        if action == "use":
            meter.set_load(2000)
            world.clock.advance(timedelta(hours=rng.choice([1, 5, 10])))
            meter.set_load(0)
            continue
        if meter.state.tamper is not None and rng.random() < 0.5:
            for kct in pending_kcts:  # the clear-tamper token is made with vending's new key
                meter.enter_token(kct)
            pending_kcts = ()
            (clear,) = world.service.clear_tamper(OPERATOR, number, "inspected").tokens
            assert meter.enter_token(clear).kind is ResultKind.ACCEPT
        if pending_kcts and rng.random() < 0.5:
            for kct in pending_kcts:
                meter.enter_token(kct)
            pending_kcts = ()
        original = ""
        if action == "replay" and used:
            digits = rng.choice(used)
        elif pocket:
            digits = pocket.pop(rng.randrange(len(pocket)))
            if action == "typo":
                original = digits
                pos = rng.randint(1, 19)
                digits = rng.choice([
                    mistype(digits, pos),
                    digits[: pos - 1] + digits[pos] + digits[pos - 1] + digits[pos + 1 :],  # swap
                    digits[: pos - 1] + digits[pos:],  # one digit missing
                    digits[:pos] + digits[pos - 1 :],  # one digit doubled
                ])  # fmt: skip
                if digits == original:
                    original = ""
        else:
            continue
        meter.tick()
        tampered = meter.state.tamper is not None
        d = world.diagnose(number, digits)
        r = meter.enter_token(digits)
        seen.add(r.kind)
        expected = EXPECTED.get(r.kind, {d.cause}) | ({Cause.TAMPER} if tampered else set())
        assert d.cause in expected, (seed, step, action, original, digits, r.kind, d.cause, d.evidence)
        if r.kind is ResultKind.REJECT and original and d.cause in _CORRECTED_TOKEN_CAUSES:
            # the typo is still named (or, tampered, the typed token's own finding is given)
            named = [c.digits for c in d.candidates] == [original]
            assert named or (d.cause is Cause.TAMPER and d.other_findings), (digits, d.cause, d.evidence)
        if r.kind is ResultKind.ACCEPT:
            used.append(digits)
    assert seen  # every history keyed something in
