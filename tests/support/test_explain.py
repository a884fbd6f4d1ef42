"""Wording and structure of findings that the scenario corpus cannot easily reach."""

from __future__ import annotations

from datetime import UTC, datetime

from prabayar.support import explain
from prabayar.support.entry import DisplayHint, NumberKind, identify_non_token, read_display, read_entry
from prabayar.support.present import grouped, mask_name, mask_number, wib
from prabayar.support.result import Action, Cause, Confidence, TokenCandidate
from prabayar.support.typos import TypoClass


def _cand(d: str) -> TokenCandidate:
    return TokenCandidate(d, TypoClass.TWO_WRONG_DIGITS, (4, 16), "credit", False)


def test_two_candidates_are_both_shown_and_not_guessed() -> None:
    f = explain.typo((_cand("20457242165499104512"), _cand("20407242165490124512")),
                     Confidence.POSSIBLE)  # fmt: skip
    assert f.cause is Cause.TYPO and f.confidence is Confidence.POSSIBLE
    assert "2045 7242 1654 9910 4512" in f.explanation.en
    assert "2040 7242 1654 9012 4512" in f.explanation.id
    assert f.next_steps[0].action is Action.CHOOSE_BETWEEN_CANDIDATES
    assert len(f.next_steps[0].tokens) == 2


def test_display_words_from_several_brands() -> None:
    assert read_display("  ") is None
    assert read_display("rUSAk") is DisplayHint.COVER_OPEN
    assert read_display("Reject 2") is DisplayHint.REJECTED
    assert read_display("PERIKSA") is DisplayHint.PERIKSA
    assert read_display("used") is DisplayHint.USED
    assert read_display("OVER") is DisplayHint.OVER
    assert read_display("layar mati") is DisplayHint.BLANK
    assert read_display("???") is DisplayHint.UNKNOWN


def test_entry_reading_strips_receipt_separators() -> None:
    assert read_entry("1111-2222 3333.4444 5555").digits == "11112222333344445555"
    assert read_entry("1111 2222 O333").digits is None
    assert identify_non_token("14312593289") is NumberKind.METER_NUMBER
    assert identify_non_token("14312593288") is NumberKind.OTHER  # Luhn fails
    assert identify_non_token("321203131053") is NumberKind.IDPEL
    assert identify_non_token("6281234567890") is NumberKind.PHONE


def test_presentation_helpers() -> None:
    assert wib(datetime(2026, 11, 2, 17, 30, tzinfo=UTC)) == "03-11-2026 00:30 WIB"
    assert grouped("11112222333344445555") == "1111 2222 3333 4444 5555"
    assert mask_number("14312593289") == "143*****289"
    assert mask_number("123") == "***"
    assert mask_name("BUDI SANTOSA") == "B*** S******"


def test_diagnosis_serialises_for_faces() -> None:
    f = explain.sixteen_digits(())
    assert f.cause is Cause.SIXTEEN_DIGITS and "20" in f.explanation.id
