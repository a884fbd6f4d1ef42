"""The diagnosis' technical English (evidence lines, candidate descriptions, STS token class
names) in the page's language, so an Indonesian page reads Indonesian throughout.

Support keeps its evidence as short English facts (they are for engineers and logs); the web
renders them through :func:`evidence_words`, a table of patterns over those facts, each naming
its words in the gettext catalogues (``evidence.<name>``, with ``{field}`` placeholders for the
pattern's groups; token classes ``token_class.<name>``, sources ``source.<name>``, typing-error
kinds ``typo.<kind>``). A fact no pattern knows is shown as it is (with its source in words),
never dropped: a test runs every fact the engine writes in the web tests through it, so a new
fact without words is noticed.
"""

# ruff: noqa: E501  (a table of long text patterns reads best one rule per line)
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from prabayar.web.i18n import MESSAGES, translate

WIB = timezone(timedelta(hours=7), "WIB")

#: The token engine's own refusals that appear inside evidence facts ({e}), by their words' key.
STS_ERRORS: dict[str, str] = {
    "the token fails its check (CRC): it was made for another meter or key, or a digit was typed wrong": "evidence.error.crc",
}


def _known(prefix: str, name: str, lang: str) -> str:
    """``prefix.name`` in ``lang`` when the catalogues have it, else ``name`` unchanged."""
    key = f"{prefix}.{name}"
    return translate(key, lang) if key in MESSAGES else name


def _error(text: str, lang: str) -> str:
    key = STS_ERRORS.get(text)
    if key is not None:
        return translate(key, lang)
    if text.startswith("cannot read"):
        return translate("evidence.error.unreadable", lang)
    return text


def token_class(name: str, lang: str) -> str:
    return _known("token_class", name, lang)


def _when(iso: str, lang: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        return iso
    return moment.astimezone(WIB).strftime("%d-%m-%Y %H:%M WIB")


def _typo(name: str, lang: str) -> str:
    return _known("typo", name.split(".")[-1].lower(), lang)


def _positions(text: str) -> str:
    return ", ".join(re.findall(r"\d+", text))


def _num(text: str, lang: str) -> str:
    """A decimal as the reader writes it (``number.decimal_mark``: Indonesian ``12,3``)."""
    return text.replace(".", translate("number.decimal_mark", lang))


def source_words(source: str, lang: str) -> str:
    return _known("source", source, lang)


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str], str], str]]


def _rule(pattern: str, key: str) -> _Rule:
    """A fact pattern and the catalogue key of its words (``{name}`` fields are the pattern's
    groups, with ``{at}``-like groups formatted by the helpers below)."""
    compiled = re.compile(pattern + r"\Z")

    def render(match: re.Match[str], lang: str) -> str:
        fields = dict(match.groupdict())
        for name, value in list(fields.items()):
            if value is None:
                fields[name] = ""
            elif name.startswith("at"):
                fields[name] = _when(value, lang)
            elif name.startswith("typo"):
                fields[name] = _typo(value, lang)
            elif name.startswith("pos"):
                fields[name] = _positions(value)
            elif name.startswith("kwh"):
                fields[name] = _num(value, lang)
            elif name.startswith("cls"):
                fields[name] = token_class(value, lang)
            elif name == "sold":
                fields[name] = translate("evidence.part.sold_too", lang)
            elif name == "e":
                fields[name] = _error(value, lang)
        return translate(key, lang).format(**fields)

    return compiled, render


RULES: list[_Rule] = [
    _rule(r"meter display reported as '(?P<d>[^']*)' \((?P<h>[^)]*)\)", "evidence.meter_display_reported"),
    _rule(r"customer is blocked for purchases", "evidence.customer_blocked_purchases"),
    _rule(r"keypad locked until (?P<at>\S+)", "evidence.keypad_locked_until"),
    _rule(r"a 20-digit token was taken out of a pasted message \(SMS / receipt text\)", "evidence.20_digit_token_taken"),
    _rule(r"the entry contains letters or symbols", "evidence.entry_contains_letters_or"),
    _rule(r"letters that look like digits \(O for 0, l or I for 1\) were read as digits", "evidence.letters_that_look_like"),
    _rule(r"(?P<n>\d+) digits typed", "evidence.digits_typed"),
    _rule(r"meter reports a fault: (?P<f>.+)", "evidence.meter_reports_fault"),
    _rule(r"meter is in tamper state: (?P<f>.+)", "evidence.meter_tamper_state"),
    _rule(r"the meter still has its previous key: the officer's tokens need the KCTs first", "evidence.meter_still_has_previous"),
    _rule(r"the meter's state shows no fault and no tamper \((?P<h>[^)]*) not confirmed\)", "evidence.meter_state_shows_no"),
    _rule(r"the meter's key cannot vend now: (?P<e>.+)", "evidence.meter_key_cannot_vend"),
    _rule(r"sale (?P<r>\S+) via (?P<c>\S+) at (?P<at>\S+) was (?P<s>not completed|not delivered)", "evidence.sale_via"),
    _rule(r"last sale (?P<r>\S+) was delivered via (?P<c>\S+)", "evidence.last_sale_delivered_via"),
    _rule(r"no sale for this meter in the last (?P<n>\d+) days", "evidence.no_sale_meter_last"),
    _rule(r"a token sold for this meter contains the 16 typed digits", "evidence.token_sold_meter_contains"),
    _rule(r"value is 2\*\*66 or more: no STS token has it", "evidence.value_2_66_or"),
    _rule(r"token was sold for meter (?P<m>\S+) \(IDPEL (?P<i>\S+)\) at (?P<at>\S+) via (?P<c>\S+)", "evidence.token_sold_meter_idpel"),
    _rule(r"does not open with the meter's key: (?P<e>.+)", "evidence.does_not_open_meter"),
    _rule(r"opens with the meter's key: (?P<cls>\S+)", "evidence.opens_meter_key"),
    _rule(r"sold for this meter at (?P<at>\S+)", "evidence.sold_meter_at"),
    _rule(r"sold for this customer's replaced meter (?P<m>\S+)", "evidence.sold_customer_replaced_meter"),
    _rule(r"sold for this customer's other meter (?P<m>\S+)", "evidence.sold_customer_other_meter"),
    _rule(r"the meter's last-token memory holds these digits", "evidence.meter_last_token_memory"),
    _rule(r"the meter's event log shows TID (?P<t>\d+) accepted", "evidence.meter_event_log_shows"),
    _rule(r"the meter took a key change at (?P<at>\S+), after the sale", "evidence.meter_took_key_change"),
    _rule(r"key change tokens were issued at (?P<at>\S+), after the sale", "evidence.key_change_tokens_issued"),
    _rule(r"opens with the key vending now uses, not with the meter's key", "evidence.opens_key_vending_now"),
    _rule(r"a key change token issued for this meter; the meter no longer opens it", "evidence.key_change_token_issued"),
    _rule(r"sold for this meter; the meter still rejects it", "evidence.sold_meter_meter_still"),
    _rule(r"sold for this meter but does not open with its key", "evidence.sold_meter_but_does"),
    _rule(r"the typed digits are one typing error \((?P<typo>[^,]+), positions (?P<pos>\([^)]*\)|\[[^\]]*\]|[\d, ]+)\) "
          r"away from (?P<t>\d+), sold for this meter", "evidence.typo_away_from_sold"),
    _rule(r"the typed digits are one typing error \((?P<typo>[^,]+), positions (?P<pos>\([^)]*\)|\[[^\]]*\]|[\d, ]+)\) "
          r"away from a token sold for meter (?P<m>\S+)", "evidence.typo_away_other_meter"),
    _rule(r"key-change campaign (?P<c>\d+): (?P<n>\d+) KCTs were handed out \((?P<v>[^)]*)\); "
          r"this token is made with the new key", "evidence.key_change_campaign_kcts"),
    _rule(r"a class 1 test token for manufacturer (?P<m>\d+)", "evidence.class_1_test_token"),
    _rule(r"(?P<cls>\S+): the meter cannot carry it out", "evidence.meter_cannot_carry_out"),
    _rule(r"TID (?P<t>\d+) is in the meter's TID memory", "evidence.tid_meter_tid_memory"),
    _rule(r"TID (?P<t>\d+) is older than the oldest remembered \((?P<o>\d+)\)", "evidence.tid_older_than_oldest"),
    _rule(r"(?P<n>\d+) newer tokens were sold for this meter", "evidence.newer_tokens_sold_meter"),
    _rule(r"credit (?P<kwh1>\S+) \+ (?P<kwh2>\S+) kWh exceeds the register maximum (?P<kwh3>\S+)", "evidence.credit_kwh_exceeds_register"),
    _rule(r"typed digits are a mistyped (?P<t>\d+) \((?P<typo>[^)]*)\), which the meter already has or can no longer take", "evidence.typed_digits_mistyped_which"),
    _rule(r"(?P<t>\d+) opens with the meter's key \((?P<typo>[^,]+), positions (?P<pos>\([^)]*\)|\[[^\]]*\]|[\d, ]+)\)"
          r"(?P<sold> and was sold for this meter)?", "evidence.opens_meter_key_positions"),
]  # fmt: skip


def evidence_words(fact: str, lang: str) -> str:
    """One evidence fact in ``lang`` (the fact itself when no pattern knows it)."""
    for pattern, render in RULES:
        match = pattern.match(fact)
        if match is not None:
            return render(match, lang)
    return fact


def knows(fact: str) -> bool:
    return any(pattern.match(fact) for pattern, _ in RULES)


_CANDIDATE_PART = re.compile(
    r"(?:credit (?P<credit>[0-9.]+) kWh|(?P<cls>[A-Za-z0-9]+) (?P<kwh>[0-9.]+) kWh|(?P<only>[A-Za-z0-9]+)"
    r"|sold (?P<when>.+?) via (?P<via>.+))\Z"
)


def candidate_words(description: str, lang: str) -> str:
    """A candidate token's description (``TransferElectricityCredit 12.3 kWh, sold ... via X``)."""
    out: list[str] = []
    for part in description.split(", "):
        match = _CANDIDATE_PART.match(part)
        if match is None:
            out.append(part)
        elif match["cls"]:
            out.append(f"{token_class(match['cls'], lang)} {_num(match['kwh'], lang)} kWh")
        elif match["credit"]:
            out.append(translate("candidate.credit", lang).format(kwh=_num(match["credit"], lang)))
        elif match["only"]:
            out.append(token_class(match["only"], lang))
        else:
            out.append(translate("candidate.sold", lang).format(when=match["when"], via=match["via"]))
    return ", ".join(out)
