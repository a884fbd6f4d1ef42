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

from collections.abc import Callable, Collection
from dataclasses import dataclass

from prabayar.sts import DecoderKey, StsError, Token, decode
from prabayar.sts.batch import BAD, screen, two_digit_variants
from prabayar.support.typos import (
    CUSTOMER_CLASSES,
    SearchStats,
    TypoClass,
    TypoEdit,
    candidate_groups,
    is_plausible,
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
        if kind is TypoClass.TWO_WRONG_DIGITS and typed.isascii() and typed.isdigit():
            # ``edits`` is dropped unread (it counts only when read to the end): the batch engine
            # enumerates the same 15,390 candidates in the same order and counts them into ``st``
            candidates, looked_at = _two_wrong(typed, key, classes, shortlist, st)
        else:
            candidates, looked_at = _screened(list(edits), key, shortlist)
        # every candidate looked at counts as decrypted; one screened out fails ``decode`` and so
        # was never accepted into ``found`` (which the loop below checks for the others)
        st.decrypted += looked_at - len(candidates)
        for edit in candidates:
            if edit.digits in found:
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


def _screened(edits: list[TypoEdit], key: DecoderKey, shortlist: Collection[str] | None) -> tuple[list[TypoEdit], int]:
    """The candidates worth decoding (in order), and how many were looked at."""
    if shortlist is not None:
        edits = [e for e in edits if e.digits in shortlist]
    marks = screen([e.digits for e in edits], key)
    return [e for e, mark in zip(edits, marks, strict=True) if mark != BAD], len(edits)


def _two_apart(typed: str, digits: str) -> tuple[int, int] | None:
    """The two 0-based positions where ``digits`` differs from ``typed``, if exactly two."""
    if not (type(digits) is str and len(digits) == len(typed) and digits.isascii() and digits.isdigit()):
        return None
    where = [i for i, (a, b) in enumerate(zip(typed, digits, strict=True)) if a != b]
    return (where[0], where[1]) if len(where) == 2 else None


def _two_wrong(
    typed: str, key: DecoderKey, classes: frozenset[int], shortlist: Collection[str] | None, st: SearchStats
) -> tuple[list[TypoEdit], int]:
    """``_screened`` for two wrong digits without building the 15,390 candidates in Python."""
    kind = TypoClass.TWO_WRONG_DIGITS
    generated, plausible, good = two_digit_variants(typed, key if shortlist is None else None, classes)
    st.generated += generated
    st.plausible += plausible
    if shortlist is None:
        return [TypoEdit(digits, kind, (p, q)) for digits, p, q in good], plausible
    # with a ledger only its tokens can be the answer: find those two digits away from ``typed``
    hits: list[tuple[tuple[int, str, int, str], str]] = []
    for digits in set(shortlist):
        where = _two_apart(typed, digits)
        if where is not None and is_plausible(int(digits), classes):
            p, q = where
            hits.append(((p, digits[p], q, digits[q]), digits))
    hits.sort()  # the order in which the candidates are enumerated
    return [TypoEdit(digits, kind, (k[0] + 1, k[2] + 1)) for k, digits in hits], len(hits)
