"""The message catalogue: both languages for every key, Indonesian by default."""

from __future__ import annotations

from prabayar.web.i18n import MESSAGES, pick, translate


def test_every_message_has_both_languages() -> None:
    for key, (indonesian, english) in MESSAGES.items():
        assert indonesian.strip(), key
        assert english.strip(), key


def test_translate_defaults_to_indonesian_and_shows_missing_keys() -> None:
    assert translate("nav.buy", "id") == "Beli token"
    assert translate("nav.buy", "en") == "Buy a token"
    assert translate("nav.buy", "xx") == "Beli token"
    assert translate("no.such.key", "en") == "no.such.key"
    assert pick("en", "satu", "one") == "one"
    assert pick("id", "satu", "one") == "satu"


def test_every_diagnosis_cause_confidence_and_ticket_status_has_a_label() -> None:
    from prabayar.support.result import Cause, Confidence
    from prabayar.support.tickets import TicketStatus

    for cause in Cause:
        assert f"cause.{cause.value}" in MESSAGES, cause
    for confidence in Confidence:
        assert f"confidence.{confidence.value}" in MESSAGES, confidence
    for status in TicketStatus:
        assert f"ticket.{status.value}" in MESSAGES, status
