"""Diagnosis speed per typo class, and how often two wrong digits are recovered.

Run with ``make bench`` (or ``.venv/bin/python bench/diagnosis_bench.py``); ``DIAG_BENCH_N``
sets the number of random tokens per measurement (default 100).

Part 1, the typo search alone (``search_typos``) with a fixed STA and a fixed MISTY1 key:
time per search (median and p95) and blocks decrypted, without the ledger (key + CRC +
plausibility) and with it (the meter's 50 sold tokens as the shortlist); each search twice in
the same run, with the per-token engine (before) and with the batch engine (after).

Part 2, a whole diagnosis end to end (``DiagnosisEngine.diagnose`` over the demo back office
on SQLite and an emulated meter state file): time per diagnosis for each typo class.

Part 3, the recovery rate for two wrong digits: "recovered" means exactly one candidate and
it is the token the customer meant.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from prabayar import sts
from prabayar.sts import batch
from prabayar.support.typo_search import search_typos
from prabayar.support.typos import SearchStats, TypoClass

N = int(os.environ.get("DIAG_BENCH_N", "100"))
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
BASE = sts.BaseDate.Y2014
NOW_TID = sts.tid_from_datetime(NOW, BASE)
MEMORY_MIN = NOW_TID - 180 * 24 * 60  # the meter remembers about half a year of tokens
#: What the engine accepts without a ledger row (engine._KEYLESS_PLAUSIBLE): tokens with a TID.
KEYLESS = (sts.ElectricityCredit, sts.ClearTamper, sts.SetMaximumPowerLimit, sts.ClearCredit)

KEYS = {
    "STA": sts.DecoderKey(bytes.fromhex("e653341f9d5bf36f"), sts.EncryptionAlgorithm.STA),
    "MISTY1": sts.DecoderKey(bytes.fromhex("f94b6ed353c3bfdb113e2d3a7ea3c41d"), sts.EncryptionAlgorithm.MISTY1),
}


def plausible(digits: str, token: sts.Token) -> bool:
    """What the engine accepts without a ledger: a customer's token type with a TID, not in the
    future and not older than the meter's memory (key change tokens only via the ledger)."""
    if not isinstance(token, KEYLESS):
        return False
    if isinstance(token, sts.ClearCredit) and token.register not in (0, 0xFFFF):
        return False
    if isinstance(token, sts.ElectricityCredit) and token.amount <= 0:
        return False
    return MEMORY_MIN <= token.tid <= NOW_TID + 1


def any_token(digits: str, token: sts.Token) -> bool:
    return True


def random_token(rng: random.Random, key: sts.DecoderKey) -> str:
    tid = NOW_TID - rng.randrange(30 * 24 * 60)
    amount = Decimal(rng.randrange(50, 15000)) / 10
    return sts.encode(sts.ElectricityCredit(tid=tid, amount=amount, rnd=rng.randrange(16)), key)


def corrupt(rng: random.Random, token: str, kind: TypoClass) -> str:
    d = list(token)
    if kind is TypoClass.WRONG_DIGIT:
        p = rng.randrange(20)
        d[p] = str((int(d[p]) + rng.randrange(1, 10)) % 10)
    elif kind is TypoClass.ADJACENT_SWAP:
        candidates = [p for p in range(19) if d[p] != d[p + 1]]
        p = rng.choice(candidates)
        d[p], d[p + 1] = d[p + 1], d[p]
    elif kind is TypoClass.MISSING_DIGIT:
        del d[rng.randrange(20)]
    elif kind is TypoClass.EXTRA_DIGIT:
        d.insert(rng.randrange(21), str(rng.randrange(10)))
    else:
        for p in rng.sample(range(20), 2):
            d[p] = str((int(d[p]) + rng.randrange(1, 10)) % 10)
    return "".join(d)


def ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.1f} ms (p90 {sorted(samples)[int(len(samples) * 0.9)] * 1000:6.1f})"


def p95(samples: list[float]) -> str:
    return (f"{statistics.median(samples) * 1000:6.1f} ms (p95 "
            f"{sorted(samples)[min(len(samples) - 1, int(len(samples) * 0.95))] * 1000:6.1f})")  # fmt: skip


def _timed_searches(cases: list[tuple[str, str, set[str]]], key: sts.DecoderKey, mode: str,
                    ) -> tuple[list[float], int, int]:  # fmt: skip
    times: list[float] = []
    decrypted = found = 0
    for token, typed, ledger in cases:
        stats: dict[TypoClass, SearchStats] = {}
        start = time.perf_counter()
        hits = search_typos(
            typed, key, accept=plausible, stats=stats,
            shortlist=ledger if mode == "ledger" else None,
        )  # fmt: skip
        times.append(time.perf_counter() - start)
        decrypted += sum(s.decrypted for s in stats.values())
        found += any(h.edit.digits == token for h in hits)
    return times, decrypted, found


def part1() -> None:
    """Each search twice in the same run: candidates decoded one by one with the per-token engine
    (the batch module's fallback, as before the batch engine) and screened by the batch engine."""
    print(f"\n## typo search alone ({N} random tokens per row; batch backend: {batch.backend()})")
    print(f"{'key':7} {'typo class':18} {'mode':9} {'per-token':24} {'batch':24} {'decrypted':>9} {'found':>6}")
    fast = batch._c
    for key_name, key in KEYS.items():
        for kind in TypoClass:
            rng = random.Random(f"{key_name}{kind}")
            cases = []
            for _ in range(N):
                token = random_token(rng, key)
                ledger = {token} | {random_token(rng, key) for _ in range(49)}
                cases.append((token, corrupt(rng, token, kind), ledger))
            for mode in ("no ledger", "ledger"):
                try:
                    batch._c = None
                    batch._told = True
                    slow_times, _, slow_found = _timed_searches(cases, key, mode)
                finally:
                    batch._c = fast
                times, decrypted, found = _timed_searches(cases, key, mode)
                assert found == slow_found
                print(f"{key_name:7} {kind.value:18} {mode:9} {p95(slow_times):24} {p95(times):24} "
                      f"{decrypted / N:9.0f} {found / N:6.0%}")  # fmt: skip


def part2() -> None:
    from prabayar.meter import AesGcmBox, ManualClock, Meter, StateFile
    from prabayar.support.engine import DiagnosisEngine, DiagnosisRequest
    from prabayar.support.meter_state import MeterStateReader
    from prabayar.support.vending_sources import VendingSources
    from prabayar.vending import MasterKey, SoftwareKeyStore, VendingService
    from prabayar.vending.db import create_engine_for, upgrade
    from prabayar.vending.demo import DEMO_CUSTOMERS, seed_demo

    print(f"\n## whole diagnosis, demo back office on SQLite + emulated meter ({N} per row)")
    secret = bytes(range(32))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        engine = create_engine_for(url)
        clock = ManualClock(NOW)
        service = VendingService(engine, SoftwareKeyStore(engine, MasterKey(secret)),
                                 clock=clock.now)  # fmt: skip
        seed_demo(service)
        number = DEMO_CUSTOMERS[0].meter_number
        box = AesGcmBox.from_master_key(secret)
        mk = service.meter_key(number, actor="bench", purpose="bench meter")
        (Path(tmp) / "meters").mkdir()
        store = StateFile(Path(tmp) / "meters" / f"{number}.json", box)
        Meter.manufacture(number, mk.decoder_key, mk.params, store=store,
                          clock=ManualClock(NOW - timedelta(days=30)))  # fmt: skip
        tokens = []
        for i in range(30):
            clock.advance(timedelta(minutes=3))
            tokens.append(service.purchase("H2HDEMO", f"B{i}", number, 20_000).token)
        diag = DiagnosisEngine(VendingSources(service, MeterStateReader(Path(tmp) / "meters", box)),
                               clock=clock.now)  # fmt: skip
        rng = random.Random(2)
        print(f"{'typo class':18} {'time per diagnosis':26} {'cause typo':>10}")
        for kind in TypoClass:
            times: list[float] = []
            ok = 0
            for _ in range(N):
                token = rng.choice(tokens)
                typed = corrupt(rng, token, kind)
                start = time.perf_counter()
                d = diag.diagnose(DiagnosisRequest(number, typed))
                times.append(time.perf_counter() - start)
                ok += d.cause.value == "typo" and d.candidates[0].digits == token
            print(f"{kind.value:18} {ms(times):26} {ok / N:10.0%}")
        start = time.perf_counter()
        for _ in range(N):
            diag.diagnose(DiagnosisRequest(number, tokens[-1]))
        print(f"{'(correct token)':18} {(time.perf_counter() - start) / N * 1000:7.1f} ms")
        engine.dispose()


def part3() -> None:
    print(f"\n## recovery rate, two wrong digits ({N} random tokens, STA)")
    key = KEYS["STA"]
    rng = random.Random(3)
    modes: dict[str, tuple[Callable[[str, sts.Token], bool], bool]] = {
        "key + CRC only": (any_token, False),
        "no ledger (key, CRC, plausibility)": (plausible, False),
        "with ledger (50 sold tokens)": (plausible, True),
    }
    counts = {m: [0, 0, 0] for m in modes}  # recovered, ambiguous, missed
    for _ in range(N):
        token = random_token(rng, key)
        ledger = {token} | {random_token(rng, key) for _ in range(49)}
        typed = corrupt(rng, token, TypoClass.TWO_WRONG_DIGITS)
        for mode, (accept, use_ledger) in modes.items():
            hits = [h.edit.digits for h in search_typos(
                typed, key, accept=accept, shortlist=ledger if use_ledger else None)]  # fmt: skip
            if hits == [token]:
                counts[mode][0] += 1
            elif token in hits:
                counts[mode][1] += 1
            else:
                counts[mode][2] += 1
    print(f"{'mode':36} {'recovered':>9} {'ambiguous':>9} {'missed':>7}")
    for mode, (rec, amb, miss) in counts.items():
        print(f"{mode:36} {rec / N:9.1%} {amb / N:9.1%} {miss / N:7.1%}")


if __name__ == "__main__":
    print(f"# diagnosis benchmark · Python {platform.python_version()} · {platform.machine()} · "
          f"{os.cpu_count()} CPUs · N={N}")  # fmt: skip
    parts = sys.argv[1:] or ["1", "2", "3"]
    for part in parts:
        {"1": part1, "2": part2, "3": part3}[part]()
