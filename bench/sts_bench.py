"""Token engine throughput: STA and MISTY1 credit tokens, encode and decode, single process.

Run with ``make bench`` (or ``.venv/bin/python bench/sts_bench.py``). Prints tokens per second
for a fixed decoder key and for a key derived per token (DKGA02 for STA, DKGA04 for MISTY1).

Then the batch engine (``prabayar.sts.batch``) next to the per-token engine in the same run:
STA, MISTY1 and DEA encode/decode with a fixed key, and key change sets for a campaign
(derivation of the current and the new key + the KCT set) per meter. ``STS_BATCH_N`` sets the
tokens per batch call (default 200,000); ``PRABAYAR_STS_BATCH=python`` measures the fallback.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from decimal import Decimal

from prabayar import sts
from prabayar.sts import BaseDate, Dkga, EncryptionAlgorithm, KeyParameters, KeyType, VendingKey, batch

N = int(os.environ.get("STS_BENCH_N", "20000"))
BATCH_N = int(os.environ.get("STS_BATCH_N", "200000"))


def rate(fn: Callable[[int], object], n: int = N, repeats: int = 3) -> float:
    """Best of ``repeats`` runs, in calls per second of this process's CPU time.

    CPU time rather than wall time, so that other work on the machine (a shared CI runner,
    parallel test jobs) does not count against the engine; one thread, so the two agree on an
    idle machine.
    """
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for i in range(n):
            fn(i)
        best = min(best, time.process_time() - start)
    return n / best


def main() -> None:
    pan = sts.meter_pan.from_meter_number("14312593289")
    setups = {
        "STA (EA07)": (
            VendingKey.from_hex("abababababababab"),
            KeyParameters(key_type=KeyType.DUTK, sgc="123456", tariff_index="01", krn=1),
        ),
        "MISTY1 (EA11)": (
            VendingKey.from_hex("abababababababab949494949494949401234567"),
            KeyParameters(
                key_type=KeyType.DUTK,
                sgc="123457",
                tariff_index="01",
                krn=1,
                algorithm=EncryptionAlgorithm.MISTY1,
                dkga=Dkga.DKGA04,
                base_date=BaseDate.Y2014,
            ),
        ),
    }
    amount = Decimal("71.3")
    # distinct meters, so no per-key cache helps: the cost a vending server pays per new meter
    pans = []
    for serial in range(N):
        body = f"14{serial:08d}"
        pans.append(sts.meter_pan.from_meter_number(body + sts.meter_number.calc_check_digit(body)))
    print(f"machine: {platform.machine()} {platform.processor() or ''} cores={os.cpu_count()}")
    print(f"python: {platform.python_implementation()} {platform.python_version()}  N={N} per run, best of 3")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; rates are per CPU second")
    print(f"{'cipher':<14} {'operation':<32} {'tokens/s':>10}")
    for name, (vk, params) in setups.items():
        for label, tokens_per_s in measure(vk, params, pan, pans, amount).items():
            print(f"{name:<14} {label:<32} {tokens_per_s:>10,.0f}")
    batch_main(amount)


def _pans(n: int) -> list[str]:
    out = []
    for serial in range(n):
        body = f"14{serial:08d}"
        out.append(sts.meter_pan.from_meter_number(body + sts.meter_number.calc_check_digit(body)))
    return out


def _cpu(fn: Callable[[], object], repeats: int = 3) -> float:
    """Best CPU seconds of ``repeats`` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def batch_cipher(
    key: sts.DecoderKey, amount: Decimal, tids: list[int], rnds: list[int], n_ref: int
) -> dict[str, tuple[float, float]]:
    """(per-token/s, batch/s) for credit tokens under one fixed key."""

    def one_by_one() -> list[str]:
        return [sts.encode(sts.ElectricityCredit(tid=i, amount=amount, rnd=i & 15), key) for i in range(n_ref)]

    ref_tokens = one_by_one()
    tokens = batch.encode_credits(key, tids, amount, rnds)
    assert tokens[:n_ref] == ref_tokens, "batch and per-token engines disagree"
    ref_dec = n_ref / _cpu(lambda: [sts.decode(t, key) for t in ref_tokens])
    n = len(tids)
    return {
        "encode credit, fixed key": (
            n_ref / _cpu(one_by_one),
            n / _cpu(lambda: batch.encode_credits(key, tids, amount, rnds)),
        ),
        "decode to typed tokens": (ref_dec, n / _cpu(lambda: batch.decode_tokens(tokens, key))),
        "decode to checked blocks": (ref_dec, n / _cpu(lambda: batch.decode_blocks(tokens, key))),
        "screen (decrypt + CRC only)": (ref_dec, n / _cpu(lambda: batch.screen(tokens, key))),
    }


def batch_main(amount: Decimal) -> None:
    """The batch engine next to the per-token engine, same run, per CPU second."""
    keys = {
        "STA (EA07)": sts.DecoderKey.from_hex("e653341f9d5bf36f"),
        "MISTY1 (EA11)": sts.DecoderKey.from_hex("f94b6ed353c3bfdb113e2d3a7ea3c41d"),
        "DEA (EA09)": sts.DecoderKey(bytes.fromhex("133457799bbcdff1"), EncryptionAlgorithm.DEA),
    }
    n_ref = max(N // 4, 1000)
    print(f"\n## batch engine: backend {batch.backend()}, {BATCH_N:,} tokens per call; per-token: {n_ref:,} calls")
    print(f"{'cipher':<14} {'operation':<34} {'per-token/s':>12} {'batch/s':>12} {'ratio':>7}")

    def row(name: str, label: str, ref: float, fast: float) -> None:
        print(f"{name:<14} {label:<34} {ref:>12,.0f} {fast:>12,.0f} {fast / ref:>6.1f}x")

    tids = [i & sts.TID_MAX for i in range(BATCH_N)]
    rnds = [i & 15 for i in range(BATCH_N)]
    for name, key in keys.items():
        for label, (ref, fast) in batch_cipher(key, amount, tids, rnds, n_ref).items():
            row(name, label, ref, fast)

    # campaign generation: per meter, derive the current and the new key, make the KCT set
    meters = _pans(min(BATCH_N, 50_000))
    n_kct = max(n_ref // 10, 200)
    current = (
        VendingKey.from_hex("abababababababab"),
        KeyParameters(key_type=KeyType.DUTK, sgc="123456", tariff_index="01", krn=1),
    )
    targets = {
        "STA->STA": (
            VendingKey.from_hex("cdcdcdcdcdcdcdcd"),
            KeyParameters(key_type=KeyType.DUTK, sgc="123456", tariff_index="01", krn=2, base_date=BaseDate.Y2014),
        ),
        "STA->MISTY1": (
            VendingKey.from_hex("abababababababab949494949494949401234567"),
            KeyParameters(
                key_type=KeyType.DUTK, sgc="123457", tariff_index="01", krn=1,
                algorithm=EncryptionAlgorithm.MISTY1, dkga=Dkga.DKGA04, base_date=BaseDate.Y2014,
            ),
        ),
    }  # fmt: skip
    for name, new in targets.items():

        def one_by_one(new: tuple[VendingKey, KeyParameters] = new) -> object:
            return [
                sts.encode_key_change(
                    sts.derive_decoder_key(current[0], p, current[1]), sts.derive_decoder_key(new[0], p, new[1]), new[1]
                )
                for p in meters[:n_kct]
            ]

        ref = n_kct / _cpu(one_by_one)
        fast = len(meters) / _cpu(lambda new=new: batch.meter_key_changes(meters, current, new))
        assert batch.meter_key_changes(meters[:n_kct], current, new) == one_by_one()
        row(name, "derive 2 keys + KCT set, per meter", ref, fast)


def measure(vk: VendingKey, params: KeyParameters, pan: str, pans: list[str], amount: Decimal) -> dict[str, float]:
    """Tokens per second for each operation under one cipher set-up."""
    dk = sts.derive_decoder_key(vk, pan, params)

    def credit(i: int) -> sts.ElectricityCredit:
        return sts.ElectricityCredit(tid=i, amount=amount, rnd=i & 15)

    tokens = [sts.encode(credit(i), dk) for i in range(N)]
    rows: dict[str, Callable[[int], object]] = {
        "encode, fixed key": lambda i: sts.encode(credit(i), dk),
        "decode, fixed key": lambda i: sts.decode(tokens[i], dk),
        "encode, key derived per token": lambda i: sts.encode(credit(i), sts.derive_decoder_key(vk, pan, params)),
        "  (a different meter each token)": lambda i: sts.encode(
            credit(i), sts.derive_decoder_key(vk, pans[i], params)
        ),
    }
    return {label: rate(fn) for label, fn in rows.items()}


if __name__ == "__main__":
    main()
