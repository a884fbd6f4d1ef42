"""The diagnosis' technical English (evidence lines, candidate descriptions, STS token class
names) in the page's language, so an Indonesian page reads Indonesian throughout.

Support keeps its evidence as short English facts (they are for engineers and logs); the web
renders them through :func:`evidence_words`, a table of patterns over those facts. A fact no
pattern knows is shown as it is (with its source in words), never dropped: a test runs every
fact the engine writes in the web tests through it, so a new fact without words is noticed.
"""

# ruff: noqa: E501  (a table of long text patterns reads best one rule per line)
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")

#: STS token classes (prabayar.sts.tokens ``name``) in words: (Indonesian, English)
TOKEN_CLASSES: dict[str, tuple[str, str]] = {
    "TransferElectricityCredit": ("token listrik (kredit)", "electricity credit token"),
    "TransferWaterCredit": ("token air (kredit)", "water credit token"),
    "TransferGasCredit": ("token gas (kredit)", "gas credit token"),
    "TransferTimeCredit": ("token waktu (kredit)", "time credit token"),
    "TransferElectricityCurrencyCredit": ("token listrik (rupiah)", "electricity currency credit token"),
    "TransferWaterCurrencyCredit": ("token air (rupiah)", "water currency credit token"),
    "TransferGasCurrencyCredit": ("token gas (rupiah)", "gas currency credit token"),
    "TransferTimeCurrencyCredit": ("token waktu (rupiah)", "time currency credit token"),
    "InitiateMeterTestOrDisplay": ("token uji/tampilan meter", "meter test/display token"),
    "SetMaximumPowerLimit": ("token batas daya", "power limit token"),
    "ClearCredit": ("token hapus kredit", "clear credit token"),
    "SetTariffRate": ("token tarif", "tariff rate token"),
    "ClearTamperCondition": ("token clear tamper", "clear tamper token"),
    "SetMaximumPhasePowerUnbalanceLimit": ("token batas ketidakseimbangan fasa", "phase unbalance limit token"),
    "SetWaterMeterFactor": ("token faktor meter air", "water meter factor token"),
    "Set1stSectionDecoderKey": ("token ganti kunci (KCT) bagian 1", "key change token (KCT) part 1"),
    "Set2ndSectionDecoderKey": ("token ganti kunci (KCT) bagian 2", "key change token (KCT) part 2"),
    "Set3rdSectionDecoderKey": ("token ganti kunci (KCT) bagian 3", "key change token (KCT) part 3"),
    "Set4thSectionDecoderKey": ("token ganti kunci (KCT) bagian 4", "key change token (KCT) part 4"),
}

SOURCES: dict[str, tuple[str, str]] = {
    "ledger": ("catatan penjualan", "sales ledger"),
    "meter": ("meter", "meter"),
    "key": ("kunci meter", "meter key"),
    "input": ("masukan pelanggan", "customer input"),
    "campaign": ("kampanye ganti kunci", "key change campaign"),
}

TYPO_CLASSES: dict[str, tuple[str, str]] = {
    "substitution": ("satu angka salah", "one digit wrong"),
    "transposition": ("dua angka tertukar", "two digits swapped"),
    "omission": ("satu angka terlewat", "one digit left out"),
    "insertion": ("satu angka berlebih", "one digit too many"),
    "shift": ("urutan bergeser", "digits shifted"),
}


#: The token engine's own refusals that appear inside evidence facts ({e}), in words.
STS_ERRORS: dict[str, tuple[str, str]] = {
    "the token fails its check (CRC): it was made for another meter or key, or a digit was typed wrong": (
        "token gagal diperiksa (CRC): dibuat untuk meter atau kunci lain, atau ada angka yang salah ketik",
        "the token fails its check (CRC): it was made for another meter or key, or a digit was typed wrong",
    ),
}


def _error(text: str, lang: str) -> str:
    pair = STS_ERRORS.get(text)
    if pair is not None:
        return _pick(pair, lang)
    if text.startswith("cannot read") and lang != "en":
        return "bukan token yang dapat dibaca"
    return text


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def token_class(name: str, lang: str) -> str:
    pair = TOKEN_CLASSES.get(name)
    return _pick(pair, lang) if pair else name


def _when(iso: str, lang: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        return iso
    return moment.astimezone(WIB).strftime("%d-%m-%Y %H:%M WIB")


def _typo(name: str, lang: str) -> str:
    key = name.split(".")[-1].lower()
    pair = TYPO_CLASSES.get(key)
    return _pick(pair, lang) if pair else name


def _positions(text: str) -> str:
    return ", ".join(re.findall(r"\d+", text))


def _num(text: str, lang: str) -> str:
    return text.replace(".", ",") if lang == "id" else text


def source_words(source: str, lang: str) -> str:
    pair = SOURCES.get(source)
    return _pick(pair, lang) if pair else source


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str], str], str]]


def _rule(pattern: str, ind: str, eng: str) -> _Rule:
    """A fact pattern and its two renderings (``{name}`` fields are the pattern's groups, with
    ``{when}``-like groups formatted by the helpers below)."""
    compiled = re.compile(pattern + r"\Z")

    def render(match: re.Match[str], lang: str) -> str:
        fields = dict(match.groupdict())
        for key, value in list(fields.items()):
            if value is None:
                fields[key] = ""
            elif key.startswith("at"):
                fields[key] = _when(value, lang)
            elif key.startswith("typo"):
                fields[key] = _typo(value, lang)
            elif key.startswith("pos"):
                fields[key] = _positions(value)
            elif key.startswith("kwh"):
                fields[key] = _num(value, lang)
            elif key.startswith("cls"):
                fields[key] = token_class(value, lang)
            elif key == "e":
                fields[key] = _error(value, lang)
        return (eng if lang == "en" else ind).format(**fields)

    return compiled, render


RULES: list[_Rule] = [
    _rule(r"meter display reported as '(?P<d>[^']*)' \((?P<h>[^)]*)\)",
          "tampilan meter dilaporkan: '{d}'", "meter display reported as '{d}'"),
    _rule(r"customer is blocked for purchases", "pelanggan diblokir untuk pembelian",
          "the customer is blocked for purchases"),
    _rule(r"keypad locked until (?P<at>\S+)", "keypad terkunci sampai {at}", "keypad locked until {at}"),
    _rule(r"a 20-digit token was taken out of a pasted message \(SMS / receipt text\)",
          "token 20 digit diambil dari pesan yang ditempel (SMS / struk)",
          "a 20-digit token was taken out of a pasted message (SMS / receipt text)"),
    _rule(r"the entry contains letters or symbols", "isian berisi huruf atau simbol",
          "the entry contains letters or symbols"),
    _rule(r"letters that look like digits \(O for 0, l or I for 1\) were read as digits",
          "huruf yang mirip angka (O untuk 0, l atau I untuk 1) dibaca sebagai angka",
          "letters that look like digits (O for 0, l or I for 1) were read as digits"),
    _rule(r"(?P<n>\d+) digits typed", "{n} angka diketik", "{n} digits typed"),
    _rule(r"meter reports a fault: (?P<f>.+)", "meter melaporkan kerusakan: {f}", "the meter reports a fault: {f}"),
    _rule(r"meter is in tamper state: (?P<f>.+)", "meter dalam keadaan tamper: {f}", "the meter is in tamper state: {f}"),
    _rule(r"the meter still has its previous key: the officer's tokens need the KCTs first",
          "meter masih memakai kunci lama: token petugas memerlukan KCT lebih dulu",
          "the meter still has its previous key: the officer's tokens need the KCTs first"),
    _rule(r"the meter's state shows no fault and no tamper \((?P<h>[^)]*) not confirmed\)",
          "keadaan meter tidak menunjukkan kerusakan maupun tamper (laporan tidak terbukti)",
          "the meter's state shows no fault and no tamper (the report is not confirmed)"),
    _rule(r"the meter's key cannot vend now: (?P<e>.+)", "kunci meter tidak dapat dipakai menjual saat ini: {e}",
          "the meter's key cannot vend now: {e}"),
    _rule(r"sale (?P<r>\S+) via (?P<c>\S+) at (?P<at>\S+) was (?P<s>not completed|not delivered)",
          "penjualan {r} lewat {c} pada {at} belum selesai/terkirim", "sale {r} via {c} at {at} was {s}"),
    _rule(r"last sale (?P<r>\S+) was delivered via (?P<c>\S+)", "penjualan terakhir {r} sudah terkirim lewat {c}",
          "last sale {r} was delivered via {c}"),
    _rule(r"no sale for this meter in the last (?P<n>\d+) days", "tidak ada penjualan untuk meter ini dalam {n} hari terakhir",
          "no sale for this meter in the last {n} days"),
    _rule(r"a token sold for this meter contains the 16 typed digits",
          "token yang dijual untuk meter ini memuat 16 angka yang diketik",
          "a token sold for this meter contains the 16 typed digits"),
    _rule(r"value is 2\*\*66 or more: no STS token has it", "nilainya 2^66 atau lebih: bukan token STS",
          "the value is 2^66 or more: no STS token has it"),
    _rule(r"token was sold for meter (?P<m>\S+) \(IDPEL (?P<i>\S+)\) at (?P<at>\S+) via (?P<c>\S+)",
          "token dijual untuk meter {m} (IDPEL {i}) pada {at} lewat {c}",
          "the token was sold for meter {m} (IDPEL {i}) at {at} via {c}"),
    _rule(r"does not open with the meter's key: (?P<e>.+)", "tidak terbuka dengan kunci meter: {e}",
          "does not open with the meter's key: {e}"),
    _rule(r"opens with the meter's key: (?P<cls>\S+)", "terbuka dengan kunci meter: {cls}",
          "opens with the meter's key: {cls}"),
    _rule(r"sold for this meter at (?P<at>\S+)", "dijual untuk meter ini pada {at}", "sold for this meter at {at}"),
    _rule(r"sold for this customer's replaced meter (?P<m>\S+)", "dijual untuk meter lama pelanggan ini ({m}, sudah diganti)",
          "sold for this customer's replaced meter {m}"),
    _rule(r"sold for this customer's other meter (?P<m>\S+)", "dijual untuk meter lain pelanggan ini ({m})",
          "sold for this customer's other meter {m}"),
    _rule(r"the meter's last-token memory holds these digits", "memori token terakhir meter memuat angka ini",
          "the meter's last-token memory holds these digits"),
    _rule(r"the meter's event log shows TID (?P<t>\d+) accepted", "catatan meter menunjukkan TID {t} diterima",
          "the meter's event log shows TID {t} accepted"),
    _rule(r"the meter took a key change at (?P<at>\S+), after the sale",
          "meter berganti kunci pada {at}, setelah penjualan", "the meter took a key change at {at}, after the sale"),
    _rule(r"key change tokens were issued at (?P<at>\S+), after the sale",
          "token ganti kunci diterbitkan pada {at}, setelah penjualan", "key change tokens were issued at {at}, after the sale"),
    _rule(r"opens with the key vending now uses, not with the meter's key",
          "terbuka dengan kunci yang kini dipakai penjualan, bukan dengan kunci meter",
          "opens with the key vending now uses, not with the meter's key"),
    _rule(r"a key change token issued for this meter; the meter no longer opens it",
          "token ganti kunci yang diterbitkan untuk meter ini; meter tidak lagi dapat membukanya",
          "a key change token issued for this meter; the meter no longer opens it"),
    _rule(r"sold for this meter; the meter still rejects it", "dijual untuk meter ini; meter tetap menolaknya",
          "sold for this meter; the meter still rejects it"),
    _rule(r"sold for this meter but does not open with its key", "dijual untuk meter ini tetapi tidak terbuka dengan kuncinya",
          "sold for this meter but does not open with its key"),
    _rule(r"the typed digits are one typing error \((?P<typo>[^,]+), positions (?P<pos>\([^)]*\)|\[[^\]]*\]|[\d, ]+)\) "
          r"away from (?P<t>\d+), sold for this meter",
          "angka yang diketik berbeda satu salah ketik ({typo}, posisi {pos}) dari {t}, yang dijual untuk meter ini",
          "the typed digits are one typing error ({typo}, positions {pos}) away from {t}, sold for this meter"),
    _rule(r"the typed digits are one typing error \((?P<typo>[^,]+), positions (?P<pos>\([^)]*\)|\[[^\]]*\]|[\d, ]+)\) "
          r"away from a token sold for meter (?P<m>\S+)",
          "angka yang diketik berbeda satu salah ketik ({typo}, posisi {pos}) dari token yang dijual untuk meter {m}",
          "the typed digits are one typing error ({typo}, positions {pos}) away from a token sold for meter {m}"),
    _rule(r"key-change campaign (?P<c>\d+): (?P<n>\d+) KCTs were handed out \((?P<v>[^)]*)\); "
          r"this token is made with the new key",
          "kampanye ganti kunci {c}: {n} KCT sudah diserahkan ({v}); token ini dibuat dengan kunci baru",
          "key-change campaign {c}: {n} KCTs were handed out ({v}); this token is made with the new key"),
    _rule(r"a class 1 test token for manufacturer (?P<m>\d+)", "token uji kelas 1 untuk pabrikan {m}",
          "a class 1 test token for manufacturer {m}"),
    _rule(r"(?P<cls>\S+): the meter cannot carry it out", "{cls}: meter tidak dapat menjalankannya",
          "{cls}: the meter cannot carry it out"),
    _rule(r"TID (?P<t>\d+) is in the meter's TID memory", "TID {t} ada di memori TID meter",
          "TID {t} is in the meter's TID memory"),
    _rule(r"TID (?P<t>\d+) is older than the oldest remembered \((?P<o>\d+)\)",
          "TID {t} lebih lama dari yang tertua diingat meter ({o})", "TID {t} is older than the oldest remembered ({o})"),
    _rule(r"(?P<n>\d+) newer tokens were sold for this meter", "{n} token yang lebih baru sudah dijual untuk meter ini",
          "{n} newer tokens were sold for this meter"),
    _rule(r"credit (?P<kwh1>\S+) \+ (?P<kwh2>\S+) kWh exceeds the register maximum (?P<kwh3>\S+)",
          "kredit {kwh1} + {kwh2} kWh melebihi batas register {kwh3}",
          "credit {kwh1} + {kwh2} kWh exceeds the register maximum {kwh3}"),
    _rule(r"typed digits are a mistyped (?P<t>\d+) \((?P<typo>[^)]*)\), which the meter already has or can no longer take",
          "angka yang diketik adalah {t} yang salah ketik ({typo}); meter sudah memilikinya atau tidak dapat menerimanya lagi",
          "the typed digits are a mistyped {t} ({typo}), which the meter already has or can no longer take"),
    _rule(r"(?P<t>\d+) opens with the meter's key \((?P<typo>[^,]+), positions (?P<pos>\([^)]*\)|\[[^\]]*\]|[\d, ]+)\)"
          r"(?P<sold> and was sold for this meter)?",
          "{t} terbuka dengan kunci meter ({typo}, posisi {pos}){sold}",
          "{t} opens with the meter's key ({typo}, positions {pos}){sold}"),
]  # fmt: skip


def evidence_words(fact: str, lang: str) -> str:
    """One evidence fact in ``lang`` (the fact itself when no pattern knows it)."""
    for pattern, render in RULES:
        match = pattern.match(fact)
        if match is not None:
            text = render(match, lang)
            if lang != "en":
                text = text.replace(" and was sold for this meter", " dan dijual untuk meter ini")
            return text
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
            out.append(("credit " if lang == "en" else "kredit ") + f"{_num(match['credit'], lang)} kWh")
        elif match["only"]:
            out.append(token_class(match["only"], lang))
        else:
            sold = "sold" if lang == "en" else "dijual"
            via = "via" if lang == "en" else "lewat"
            out.append(f"{sold} {match['when']} {via} {match['via']}")
    return ", ".join(out)
