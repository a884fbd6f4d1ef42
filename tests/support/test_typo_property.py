"""Property: a random token keyed in with one typing error of each class is recovered.

Without the ledger the key and CRC alone must put the intended token among the candidates;
with the ledger (the token is on the meter's sales list) it must be the only candidate.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from prabayar import sts
from prabayar.support.typo_search import search_typos
from prabayar.support.typos import TypoClass

keys = st.binary(min_size=8, max_size=8).map(lambda b: sts.DecoderKey(b, sts.EncryptionAlgorithm.STA))
credits = st.builds(
    sts.ElectricityCredit,
    tid=st.integers(0, 2**24 - 1),
    amount=st.integers(1, 16383).map(lambda n: Decimal(n) / 10),
    rnd=st.integers(0, 15),
)


def _is_credit(digits: str, token: sts.Token) -> bool:
    return isinstance(token, sts.ElectricityCredit)


def _corrupt(token: str, kind: TypoClass, pos: int, digit: int) -> str:
    pos %= 20
    if kind is TypoClass.WRONG_DIGIT:
        new = str((int(token[pos]) + 1 + digit % 9) % 10)
        return token[:pos] + new + token[pos + 1 :]
    if kind is TypoClass.ADJACENT_SWAP:
        pos = min(pos, 18)
        return token[:pos] + token[pos + 1] + token[pos] + token[pos + 2 :]
    if kind is TypoClass.MISSING_DIGIT:
        return token[:pos] + token[pos + 1 :]
    assert kind is TypoClass.EXTRA_DIGIT
    if digit % 2:  # a doubled key press
        return token[:pos] + token[pos] + token[pos:]
    return token[:pos] + str(digit % 10) + token[pos:]  # a stray key


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=keys,
    credit=credits,
    kind=st.sampled_from(
        [TypoClass.WRONG_DIGIT, TypoClass.ADJACENT_SWAP, TypoClass.MISSING_DIGIT,
         TypoClass.EXTRA_DIGIT]
    ),
    pos=st.integers(0, 19),
    digit=st.integers(0, 9),
)  # fmt: skip
def test_single_typing_errors_are_recovered(
    key: sts.DecoderKey, credit: sts.ElectricityCredit, kind: TypoClass, pos: int, digit: int
) -> None:
    token = sts.encode(credit, key)
    typed = _corrupt(token, kind, pos, digit)
    assume(typed != token)
    found = search_typos(typed, key, accept=_is_credit, two_wrong=False)
    assert token in [r.edit.digits for r in found]
    hit = next(r for r in found if r.edit.digits == token)
    assert hit.token == credit
    with_ledger = search_typos(typed, key, accept=_is_credit, shortlist={token}, two_wrong=False)
    assert [r.edit.digits for r in with_ledger] == [token]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=keys,
    credit=credits,
    positions=st.lists(st.integers(0, 19), min_size=2, max_size=2, unique=True),
    shift=st.integers(1, 9),
)
def test_two_wrong_digits_are_recovered(
    key: sts.DecoderKey, credit: sts.ElectricityCredit, positions: list[int], shift: int
) -> None:
    token = sts.encode(credit, key)
    typed = list(token)
    for p in positions:
        typed[p] = str((int(typed[p]) + shift) % 10)
    found = search_typos("".join(typed), key, accept=_is_credit)
    assert token in [r.edit.digits for r in found]
    ledger = search_typos("".join(typed), key, accept=_is_credit, shortlist={token})
    assert [r.edit.digits for r in ledger] == [token]
    assert ledger[0].edit.positions == tuple(sorted(p + 1 for p in positions)) or (
        ledger[0].edit.typo is TypoClass.ADJACENT_SWAP
    )


def test_nothing_is_found_for_a_foreign_token() -> None:
    mine = sts.DecoderKey(bytes(8), sts.EncryptionAlgorithm.STA)
    other = sts.DecoderKey(bytes(range(8)), sts.EncryptionAlgorithm.STA)
    token = sts.encode(sts.ElectricityCredit(tid=5, amount=Decimal("1.0"), rnd=0), other)
    assert search_typos(token, mine, accept=_is_credit, shortlist=set()) == []


def test_ambiguous_result_lists_every_candidate() -> None:
    """Without plausibility checks, a two-digit search can meet a CRC collision: list both."""
    key = sts.DecoderKey(bytes.fromhex("e653341f9d5bf36f"), sts.EncryptionAlgorithm.STA)
    token = sts.encode(sts.ElectricityCredit(tid=7_000_011, amount=Decimal("50.0"), rnd=5), key)
    assert token == "20457242165499104512"
    typed = "20407242165499154512"  # positions 4 and 16 wrong
    found = search_typos(typed, key)
    assert [(r.edit.digits, r.edit.positions) for r in found] == [
        ("20457242165499104512", (4, 16)),
        ("20407242165490124512", (14, 16)),  # decodes to a ClearCredit: CRC passes by chance
    ]
    assert isinstance(found[1].token, sts.ClearCredit)
    # the customer-token plausibility check alone already removes the stray one
    assert [r.edit.digits for r in search_typos(typed, key, accept=_is_credit)] == [token]
