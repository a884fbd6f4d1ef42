"""Typo candidate generation: counts, positions and the cheap 66-bit / class-bit filters."""

from __future__ import annotations

from prabayar.support.typos import (
    TOKEN_LIMIT,
    SearchStats,
    TypoClass,
    adjacent_swaps,
    candidate_groups,
    extra_digit,
    is_plausible,
    missing_digit,
    one_wrong_digit,
    token_class_of,
    two_wrong_digits,
)

TOKEN = "23716100501183194197"  # SPEC.md section 11 worked example (class 0)
ALL = frozenset({0, 1, 2, 3})


def test_one_wrong_digit_enumerates_180_edits_without_filter() -> None:
    stats = SearchStats()
    edits = list(one_wrong_digit(TOKEN, ALL, stats))
    assert stats.generated == 180
    # the leading digit 2 may only become 0..7 below 2**66 (7 * 10**19 < 2**66 < 8 * 10**19)
    assert len(edits) == 180 - 2
    assert all(sum(a != b for a, b in zip(e.digits, TOKEN, strict=True)) == 1 for e in edits)
    first = [e for e in edits if e.positions == (1,)]
    assert {e.digits[0] for e in first} == set("0134567")


def test_class_filter_keeps_only_requested_classes() -> None:
    for edit in one_wrong_digit(TOKEN):
        assert token_class_of(int(edit.digits)) in {0, 2}
    assert not is_plausible(TOKEN_LIMIT)
    assert not is_plausible(-1)


def test_adjacent_swaps_skip_equal_neighbours_and_report_both_positions() -> None:
    edits = list(adjacent_swaps("11112222333344445555", ALL))
    assert [e.positions for e in edits] == [(4, 5), (8, 9), (12, 13), (16, 17)]
    assert edits[0].digits == "11121222333344445555"
    assert all(e.typo is TypoClass.ADJACENT_SWAP for e in edits)


def test_missing_digit_recovers_every_deletion_once() -> None:
    for pos in range(20):
        typed = TOKEN[:pos] + TOKEN[pos + 1 :]
        digits = [e.digits for e in missing_digit(typed, ALL)]
        assert TOKEN in digits
        assert len(digits) == len(set(digits))


def test_extra_digit_recovers_doubled_and_stray_keys() -> None:
    doubled = TOKEN[:5] + TOKEN[4] + TOKEN[5:]
    assert TOKEN in [e.digits for e in extra_digit(doubled, ALL)]
    stray = TOKEN[:10] + "9" + TOKEN[10:]
    hits = [e for e in extra_digit(stray, ALL) if e.digits == TOKEN]
    assert hits and hits[0].positions == (11,)


def test_two_wrong_digits_generates_15390_candidates() -> None:
    stats = SearchStats()
    edits = list(two_wrong_digits(TOKEN, ALL, stats))
    assert stats.generated == 15_390
    assert len(edits) == stats.plausible
    assert len(edits) < 15_390  # some exceed 2**66
    sample = edits[1234]
    diff = [i + 1 for i, (a, b) in enumerate(zip(sample.digits, TOKEN, strict=True)) if a != b]
    assert tuple(diff) == sample.positions


def test_two_wrong_digits_class_filter_roughly_halves_the_work() -> None:
    stats = SearchStats()
    kept = sum(1 for _ in two_wrong_digits(TOKEN, frozenset({0, 2}), stats))
    assert 0.3 * 15_390 < kept < 0.6 * 15_390


def test_candidate_groups_follow_typed_length() -> None:
    assert [k for k, _ in candidate_groups(TOKEN)] == [
        TypoClass.WRONG_DIGIT,
        TypoClass.ADJACENT_SWAP,
        TypoClass.TWO_WRONG_DIGITS,
    ]
    assert [k for k, _ in candidate_groups(TOKEN, two_wrong=False)] == [
        TypoClass.WRONG_DIGIT,
        TypoClass.ADJACENT_SWAP,
    ]
    assert [k for k, _ in candidate_groups(TOKEN[:-1])] == [TypoClass.MISSING_DIGIT]
    assert [k for k, _ in candidate_groups(TOKEN + "0")] == [TypoClass.EXTRA_DIGIT]
    assert list(candidate_groups(TOKEN[:16])) == []
