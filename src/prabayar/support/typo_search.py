"""Find the token a customer meant from the digits they typed, using the meter's key.

A candidate counts only if it decrypts under the meter's decoder key with a good CRC and the
caller's ``accept`` check (ledger and TID memory consistency) agrees. Cheap checks come first:
the typo generators drop values >= 2**66 and unexpected class bits; with a ``shortlist`` (the
ledger's tokens for this meter) only shortlisted strings are decrypted at all.

The candidates of a typo class are decrypted and CRC-checked together by the batch engine
(``prabayar.sts.batch.screen``); only the few that pass are decoded by the per-token engine and
shown to ``accept``. Results and counts are those of decoding every candidate one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from prabayar.sts import DecoderKey, StsError, Token, decode
from prabayar.sts.batch import BAD, screen
from prabayar.support.typos import (
    CUSTOMER_CLASSES,
    SearchStats,
    TypoClass,
    TypoEdit,
    candidate_lists,
)

Acceptor = Callable[[str, Token], bool]

# Typo classes of equal cost are searched together; a cheaper tier that finds something wins.
_TIER = {
    TypoClass.WRONG_DIGIT: 1,
    TypoClass.ADJACENT_SWAP: 1,
    TypoClass.MISSING_DIGIT: 1,
    TypoClass.EXTRA_DIGIT: 1,
    TypoClass.TWO_WRONG_DIGITS: 2,
}


@dataclass(frozen=True)
class Recovered:
    """A candidate that decrypts, passes its CRC and is consistent with what we know."""

    edit: TypoEdit
    token: Token


def _accept_all(digits: str, token: Token) -> bool:
    return True


def search_typos(
    typed: str,
    key: DecoderKey,
    *,
    accept: Acceptor = _accept_all,
    shortlist: Collection[str] | None = None,
    classes: frozenset[int] = CUSTOMER_CLASSES,
    two_wrong: bool = True,
    stats: dict[TypoClass, SearchStats] | None = None,
) -> list[Recovered]:
    """Candidates for ``typed`` (19, 20 or 21 digits) in the cheapest tier that has any.

    ``shortlist``: if given, only these token strings can be the answer (ledger mode).
    """
    stats = {} if stats is None else stats
    found: dict[str, Recovered] = {}
    tier_found: int | None = None
    for kind, make in candidate_lists(typed, classes, two_wrong=two_wrong, stats=stats):
        tier = _TIER[kind]
        if tier_found is not None and tier > tier_found:
            break
        st = stats.setdefault(kind, SearchStats())
        candidates = make()
        order: Sequence[int] = range(len(candidates.digits))
        pool = candidates.digits
        if shortlist is not None:
            order = [i for i, d in enumerate(pool) if d in shortlist]
            pool = [pool[i] for i in order]
        marks = screen(pool, key)
        # a BAD candidate fails decode, so it was never accepted into ``found`` either
        st.decrypted += marks.count(BAD)
        for i, mark in zip(order, marks, strict=True):
            if mark == BAD:
                continue
            digits = candidates.digits[i]
            if digits in found:
                continue
            st.decrypted += 1
            try:
                token = decode(digits, key)
            except StsError:
                continue
            st.crc_ok += 1
            if accept(digits, token):
                st.accepted += 1
                found[digits] = Recovered(candidates.edit(i), token)
                tier_found = tier
    return list(found.values())
