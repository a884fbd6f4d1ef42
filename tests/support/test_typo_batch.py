"""The batch typo search against the one-by-one search it replaced: same results, same counts."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prabayar import sts
from prabayar.sts import DecoderKey, EncryptionAlgorithm, StsError, batch, decode
from prabayar.support.typo_search import Acceptor, Recovered, search_typos
from prabayar.support.typos import (
    CUSTOMER_CLASSES,
    SearchStats,
    TypoClass,
    candidate_groups,
    two_wrong_digits,
)

_TIER = {kind: 2 if kind is TypoClass.TWO_WRONG_DIGITS else 1 for kind in TypoClass}
KEYS = [
    DecoderKey(bytes.fromhex("e653341f9d5bf36f"), EncryptionAlgorithm.STA),
    DecoderKey(bytes.fromhex("f94b6ed353c3bfdb113e2d3a7ea3c41d"), EncryptionAlgorithm.MISTY1),
    DecoderKey(bytes.fromhex("133457799bbcdff1"), EncryptionAlgorithm.DEA),
]


def one_by_one(
    typed: str,
    key: DecoderKey,
    *,
    accept: Acceptor,
    shortlist: Collection[str] | None = None,
    two_wrong: bool = True,
    stats: dict[TypoClass, SearchStats],
) -> list[Recovered]:
    """The search as it was before the batch engine: every candidate decoded on its own."""
    found: dict[str, Recovered] = {}
    tier_found: int | None = None
    for kind, edits in candidate_groups(typed, CUSTOMER_CLASSES, two_wrong=two_wrong, stats=stats):
        tier = _TIER[kind]
        if tier_found is not None and tier > tier_found:
            break
        st_ = stats.setdefault(kind, SearchStats())
        for edit in edits:
            if edit.digits in found or (shortlist is not None and edit.digits not in shortlist):
                continue
            st_.decrypted += 1
            try:
                token = decode(edit.digits, key)
            except StsError:
                continue
            st_.crc_ok += 1
            if accept(edit.digits, token):
                st_.accepted += 1
                found[edit.digits] = Recovered(edit, token)
                tier_found = tier
    return list(found.values())


def _credit_only(digits: str, token: sts.Token) -> bool:
    return isinstance(token, sts.ElectricityCredit)


def _anything(digits: str, token: sts.Token) -> bool:
    return True


@pytest.mark.parametrize("use_c", [True, False])
@settings(max_examples=40)
@given(
    key=st.sampled_from(KEYS),
    tid=st.integers(0, sts.TID_MAX),
    rnd=st.integers(0, 15),
    edits=st.lists(st.tuples(st.integers(0, 20), st.integers(0, 9)), min_size=1, max_size=2),
    shape=st.sampled_from(["replace", "insert", "delete", "swap"]),
    ledger=st.booleans(),
    accept_any=st.booleans(),
)
def test_batch_search_is_the_one_by_one_search(
    use_c: bool, key: DecoderKey, tid: int, rnd: int, edits: list[tuple[int, int]], shape: str, ledger: bool,
    accept_any: bool,
) -> None:  # fmt: skip
    token = sts.encode(sts.ElectricityCredit(tid=tid, amount=Decimal("12.5"), rnd=rnd), key)
    typed = list(token)
    for pos, digit in edits:
        pos = min(pos, len(typed) - 1)
        if shape == "replace":
            typed[pos] = str(digit)
        elif shape == "insert":
            typed.insert(pos, str(digit))
            break
        elif shape == "delete":
            del typed[pos]
            break
        elif pos < len(typed) - 1:
            typed[pos], typed[pos + 1] = typed[pos + 1], typed[pos]
    text = "".join(typed)
    shortlist = {token, sts.encode(sts.ElectricityCredit(tid=tid ^ 1, amount=Decimal(1)), key)} if ledger else None
    accept = _anything if accept_any else _credit_only
    saved = batch._c
    try:
        if not use_c:
            batch._c = None
            batch._told = True
        got_stats: dict[TypoClass, SearchStats] = {}
        got = search_typos(text, key, accept=accept, shortlist=shortlist, stats=got_stats)
    finally:
        batch._c = saved
    want_stats: dict[TypoClass, SearchStats] = {}
    want = one_by_one(text, key, accept=accept, shortlist=shortlist, stats=want_stats)
    assert got == want
    assert got_stats == want_stats


@pytest.mark.parametrize("use_c", [True, False])
@settings(max_examples=15)
@given(
    typed=st.integers(0, 10**20 - 1).map(lambda v: f"{v:020d}"),
    classes=st.sampled_from([CUSTOMER_CLASSES, frozenset({0, 1, 2, 3}), frozenset({1})]),
    key=st.sampled_from([None, *KEYS]),
)
def test_two_digit_variants_are_the_generator(
    use_c: bool, typed: str, classes: frozenset[int], key: DecoderKey | None
) -> None:
    stats = SearchStats()
    edits = list(two_wrong_digits(typed, classes, stats))
    saved = batch._c
    try:
        if not use_c:
            batch._c = None
            batch._told = True
        generated, plausible, good = batch.two_digit_variants(typed, key, classes)
    finally:
        batch._c = saved
    assert (generated, plausible) == (stats.generated, stats.plausible) == (15_390, len(edits))
    if key is None:
        assert good == []
        return
    marks = batch.screen([e.digits for e in edits], key)
    want = [(e.digits, *e.positions) for e, m in zip(edits, marks, strict=True) if m == batch.GOOD]
    assert good == want
    for digits, _, _ in good:  # a good CRC: decode succeeds unless the subclass is reserved
        try:
            decode(digits, key)
        except StsError as exc:
            assert isinstance(exc, sts.UnsupportedToken)
