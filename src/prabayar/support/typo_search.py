"""Find the token a customer meant from the digits they typed, using the meter's key.

A candidate counts only if it decrypts under the meter's decoder key with a good CRC and the
caller's ``accept`` check (ledger and TID memory consistency) agrees. Cheap checks come first:
the typo generators drop values >= 2**66 and unexpected class bits; with a ``shortlist`` (the
ledger's tokens for this meter) only shortlisted strings are decrypted at all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from prabayar.sts import DecoderKey, StsError, Token, decode
from prabayar.support.typos import (
    CUSTOMER_CLASSES,
    SearchStats,
    TypoClass,
    TypoEdit,
    candidate_groups,
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
    for kind, edits in candidate_groups(typed, classes, two_wrong=two_wrong, stats=stats):
        tier = _TIER[kind]
        if tier_found is not None and tier > tier_found:
            break
        st = stats.setdefault(kind, SearchStats())
        for edit in edits:
            if edit.digits in found:
                continue
            if shortlist is not None and edit.digits not in shortlist:
                continue
            st.decrypted += 1
            try:
                token = decode(edit.digits, key)
            except StsError:
                continue
            st.crc_ok += 1
            if accept(edit.digits, token):
                st.accepted += 1
                found[edit.digits] = Recovered(edit, token)
                tier_found = tier
    return list(found.values())
