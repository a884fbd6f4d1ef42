"""Meter and diagnosis agree: random field histories on one emulated meter, where every entry is
first diagnosed and then keyed in, and the diagnosis must predict what the meter then shows.

A small TID memory and register make OLD and OVER reachable in a few steps. Seeds are fixed so
a failure reproduces; each history mixes purchases, typing errors, replays, tamper and its
clearing, key changes entered at once or later, and consumption.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from prabayar.meter import MeterSettings, ResultKind, TamperCause
from prabayar.support.result import Cause

from .conftest import BUDI, OPERATOR, World, mistype

#: What the diagnosis must say, made before the entry, for each meter result.
EXPECTED: dict[ResultKind, set[Cause]] = {
    ResultKind.ACCEPT: {Cause.NO_FAULT_FOUND},
    ResultKind.USED: {Cause.ALREADY_USED},
    ResultKind.OLD: {Cause.TOO_OLD, Cause.ALREADY_USED},  # a replayed token may have aged out
    ResultKind.TAMPER: {Cause.TAMPER},
    ResultKind.OVER: {Cause.CREDIT_OVERFLOW},
    ResultKind.REJECT: {  # a typo: the typo, or what the corrected token would meet
        Cause.TYPO, Cause.KEY_CHANGE_NEEDED, Cause.KEY_CHANGED_SINCE_SALE, Cause.ALREADY_USED,
        Cause.TOO_OLD, Cause.CREDIT_OVERFLOW,
    },
}


@pytest.mark.parametrize("seed", range(1, 9))
def test_diagnosis_predicts_the_meter(world: World, seed: int) -> None:
    rng = random.Random(seed)
    settings = MeterSettings(tid_memory_size=4, credit_max_kwh=Decimal(120))
    meter = world.meter(BUDI.meter_number, settings)
    pocket: list[str] = []  # bought, not yet entered
    used: list[str] = []
    pending_kcts: tuple[str, ...] = ()
    key_changes = 0  # the demo key store holds the next revision's vending key only
    seen: set[ResultKind] = set()
    for step in range(30):
        action = rng.choice(["buy", "buy", "enter", "enter", "typo", "replay", "tamper", "kc", "use"])
        if action == "buy":
            pocket.append(world.buy(BUDI.meter_number, rng.choice([20_000, 50_000])).token)
            continue
        if action == "tamper" and meter.state.tamper is None:
            meter.tamper(rng.choice(list(TamperCause)))
            continue
        if action == "kc" and not key_changes and meter.state.tamper is None:
            key_changes += 1
            pending_kcts = world.service.key_change(OPERATOR, BUDI.meter_number, "KRN update").tokens
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
        world.clock.advance(timedelta(minutes=2))  # any lockout of an earlier typo has ended
        if meter.state.tamper is not None and rng.random() < 0.5:
            for kct in pending_kcts:  # the clear-tamper token is made with vending's new key
                meter.enter_token(kct)
            pending_kcts = ()
            (clear,) = world.service.clear_tamper(OPERATOR, BUDI.meter_number, "inspected").tokens
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
                digits = mistype(digits, rng.randint(1, 20))
        else:
            continue
        meter.tick()
        tampered = meter.state.tamper is not None
        d = world.diagnose(BUDI.meter_number, digits)
        r = meter.enter_token(digits)
        seen.add(r.kind)
        expected = EXPECTED.get(r.kind, {d.cause}) | ({Cause.TAMPER} if tampered else set())
        assert d.cause in expected, (seed, step, action, original, digits, r.kind, d.cause, d.evidence)
        if r.kind is ResultKind.REJECT and original and d.cause is not Cause.TYPO:
            assert [c.digits for c in d.candidates] == [original]  # the typo is still named
        if r.kind is ResultKind.ACCEPT:
            used.append(digits)
    assert seen  # every history keyed something in
