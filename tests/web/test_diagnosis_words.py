"""One language per page: the diagnosis' evidence lines and candidate texts read Indonesian on
an Indonesian page (support writes them in technical English)."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from prabayar.web.diagnosis_words import candidate_words, evidence_words, knows, token_class

from .conftest import BUDI_METER, signed_in
from .test_pages import buy, csrf

ENGLISH = re.compile(r"\b(the|sold|typed|opens|meter's|digits|Transfer\w+|was|with|for this)\b")


def _check(client: TestClient, token: str, display: str = "GAGAL") -> str:
    form = csrf(client.get("/token-gagal").text)
    page = client.post(
        "/token-gagal", data={"csrf_token": form, "meter_number": BUDI_METER, "token": token, "display": display}
    ).text
    return html.unescape(page)


def test_evidence_and_candidates_are_indonesian_on_an_indonesian_page(client: TestClient) -> None:
    signed_in(client, "budi")
    _, digits = buy(client, nominal=20_000)
    typo = digits[:7] + str((int(digits[7]) + 1) % 10) + digits[8:]
    pages = [_check(client, typo), _check(client, digits), _check(client, "1234567890123456"), _check(client, "12O4")]
    token = csrf(client.get(f"/meter/{BUDI_METER}").text)
    client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": digits})
    pages.append(_check(client, typo, "USED"))
    lines = [line for page in pages for line in re.findall(r'data-testid="evidence">(.*?)</li>', page, re.S)]
    words = [w for page in pages for w in re.findall(r'data-testid="candidate-words">(.*?)</td>', page, re.S)]
    assert len(lines) > 8 and words
    for line in lines + words:
        text = re.sub(r"<[^>]+>", "", line)
        assert not ENGLISH.search(text), text
    assert any("token listrik" in w for w in words)
    # the same page in English keeps English
    client.cookies.set("lang", "en")
    english = _check(client, typo)
    assert re.search(r'data-testid="candidate-words">[^<]*electricity credit token', english)


def test_every_fact_pattern_renders_in_both_languages() -> None:
    facts = [
        "20 digits typed",
        "sold for this meter at 2026-11-26T03:00:00+00:00",
        "the typed digits are one typing error (substitution, positions (8,)) away from 12345678901234567890, "
        "sold for this meter",
        "12345678901234567890 opens with the meter's key (transposition, positions (3, 4)) and was sold for this meter",
        "credit 10.5 + 20.25 kWh exceeds the register maximum 99999.99",
        "TID 123 is older than the oldest remembered (456)",
    ]
    for fact in facts:
        assert knows(fact), fact
        indonesian = evidence_words(fact, "id")
        assert not ENGLISH.search(indonesian), indonesian
    assert evidence_words("something new", "id") == "something new"  # shown, never dropped
    assert token_class("TransferElectricityCredit", "id") == "token listrik (kredit)"
    assert candidate_words("credit 12.6 kWh, sold 26-11-2026 10:00 WIB via PLNAPP", "id") == (
        "kredit 12,6 kWh, dijual 26-11-2026 10:00 WIB lewat PLNAPP"
    )
