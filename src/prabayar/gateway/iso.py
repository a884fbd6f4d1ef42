"""The message layer of ISO8583.md §2–§4: the pyiso8583 spec, MTIs, field formats and presence.

``parse(message)`` turns one unframed message into a ``Parsed`` (MTI, decoded fields) or tells
what §1.5 says to do with it: close the connection (``CloseConnection``), stay silent
(``Ignore``), or answer the short 0030 (``BadMessage``, carrying the response MTI and field 11
when that field itself is well formed). ``encode(fields)`` packs a response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import iso8583
from iso8583.decoder import DecodeError

from prabayar.digits import is_digits


def _field(len_type: int, max_len: int, desc: str) -> dict[str, Any]:
    return {"data_enc": "ascii", "len_enc": "ascii", "len_type": len_type, "max_len": max_len, "desc": desc}


#: bit -> (len_type, max_len, kind, name); kind "n" = digits only, "ans" = printable ASCII (§3)
FIELDS: dict[str, tuple[int, int, str, str]] = {
    "2": (2, 19, "n", "product code"),
    "4": (0, 16, "n", "amount"),
    "7": (0, 10, "n", "transmission date/time"),
    "11": (0, 12, "n", "STAN"),
    "12": (0, 14, "n", "local date/time"),
    "15": (0, 8, "n", "settlement date"),
    "26": (0, 4, "n", "merchant category code"),
    "32": (2, 7, "ans", "bank code"),
    "33": (2, 11, "n", "partner central ID"),
    "37": (0, 12, "ans", "retrieval reference number"),
    "39": (0, 4, "n", "response code"),
    "41": (0, 16, "ans", "terminal ID"),
    "48": (3, 999, "ans", "private data"),
    "62": (3, 999, "ans", "private data 2"),
    "63": (3, 999, "ans", "info text"),
    "70": (0, 3, "n", "network management code"),
    "90": (0, 42, "n", "original data elements"),
}

#: The pyiso8583 spec mirroring §3 (§2: every field ASCII, "h" empty, bitmaps 16 hex chars).
SPEC: dict[str, dict[str, Any]] = {
    "h": _field(0, 0, "Message Header"),
    "t": _field(0, 4, "Message Type"),
    "p": _field(0, 16, "Bitmap, Primary"),
    "1": _field(0, 16, "Bitmap, Secondary"),
    **{bit: _field(lt, ml, name) for bit, (lt, ml, _kind, name) in FIELDS.items()},
}

NETWORK = "2800"
INQUIRY = "2100"
PURCHASE = "2200"
ADVICE = "2220"
ADVICE_REPEAT = "2221"
REVERSAL = "2400"
REVERSAL_REPEAT = "2401"
REQUESTS = (NETWORK, INQUIRY, PURCHASE, ADVICE, ADVICE_REPEAT, REVERSAL, REVERSAL_REPEAT)

MANDATORY, OPTIONAL, ABSENT = "M", "O", "-"
_ALL = ("2", "4", "7", "11", "12", "15", "26", "32", "33", "37", "39", "41", "48", "62", "63", "70", "90")


def _presence(**rules: str) -> dict[str, str]:
    table = dict.fromkeys(_ALL, ABSENT)
    for key, value in rules.items():
        for bit in key.lstrip("f").split("_"):
            table[bit] = value
    return table


#: §4.2: M mandatory, O optional, - must be absent.
PRESENCE: dict[str, dict[str, str]] = {
    NETWORK: _presence(f7_37=OPTIONAL, f11_12_33_70=MANDATORY),
    INQUIRY: _presence(f2_26_32_41_11_12_33_48=MANDATORY, f4_7_37=OPTIONAL),
    PURCHASE: _presence(f2_26_32_41_4_11_12_33_48=MANDATORY, f7_37_62=OPTIONAL),
    ADVICE: _presence(f2_26_32_41_4_11_12_33_48=MANDATORY, f7_37_62=OPTIONAL),
    ADVICE_REPEAT: _presence(f2_26_32_41_4_11_12_33_48=MANDATORY, f7_37_62=OPTIONAL),
    REVERSAL: _presence(f2_26_32_41_11_12_33_48=MANDATORY, f4_7_37_62_90=OPTIONAL),
    REVERSAL_REPEAT: _presence(f2_26_32_41_11_12_33_48=MANDATORY, f4_7_37_62_90=OPTIONAL),
}


def response_mti(mti: str) -> str:
    """Request MTI + 10 (2100 -> 2110, 0200 -> 0210)."""
    return f"{int(mti) + 10:04d}"


class CloseConnection(Exception):
    """§1.5: the connection is closed, nothing is answered."""


class Ignore(Exception):
    """§1.5: a response or notice MTI: no answer, the connection stays."""

    def __init__(self, mti: str) -> None:
        super().__init__(f"MTI {mti} is not a request: ignored")
        self.mti = mti


class BadMessage(Exception):
    """§1.5 short 0030: answer ``mti`` with 39 = 0030, field 11 only if well formed, 63 = reason."""

    def __init__(self, mti: str, stan: str | None, reason: str) -> None:
        super().__init__(reason)
        self.mti = mti
        self.stan = stan
        self.reason = reason


@dataclass(frozen=True)
class Parsed:
    """A decoded request that passed §4.4 steps 1 and 2."""

    mti: str
    fields: dict[str, str]

    def get(self, bit: str) -> str | None:
        return self.fields.get(bit)

    def __getitem__(self, bit: str) -> str:
        return self.fields[bit]


def _printable(value: str) -> bool:
    return all(0x20 <= ord(c) <= 0x7E for c in value)


def _well_formed(bit: str, value: str) -> bool:
    _lt, _ml, kind, _name = FIELDS[bit]
    if kind == "n":
        return is_digits(value)
    return _printable(value)


def _stan_of(fields: Mapping[str, str]) -> str | None:
    stan = fields.get("11")
    return stan if stan is not None and len(stan) == 12 and _well_formed("11", stan) else None


def _decode(message: bytes, mti: str) -> dict[str, str]:
    """pyiso8583 decode; any failure is a BadMessage carrying field 11 when it was decoded well."""
    try:
        doc, _enc = iso8583.decode(message, SPEC)
    except DecodeError as exc:
        raise BadMessage(response_mti(mti), _stan_of(exc.doc_dec), f"PESAN TIDAK VALID: {_short(exc.msg)}") from exc
    except KeyError as exc:
        raise BadMessage(response_mti(mti), None, f"PESAN TIDAK VALID: BIT {exc.args[0]} TIDAK DIDUKUNG") from exc
    bitmaps = [doc["p"]] + ([doc["1"]] if "1" in doc else [])
    if any(not all(c in "0123456789abcdefABCDEF" for c in b) for b in bitmaps):
        raise BadMessage(response_mti(mti), _stan_of(doc), "PESAN TIDAK VALID: BITMAP")
    return {k: v for k, v in doc.items() if k not in ("h", "t", "p", "1")}


def _short(text: str) -> str:
    clean = "".join(c if 0x20 <= ord(c) <= 0x7E else "?" for c in text)
    return clean[:160]


def parse(message: bytes) -> Parsed:
    """Steps 1–2 of §4.4 for one unframed message."""
    head = message[:4]
    if len(head) < 4 or not all(0x30 <= b <= 0x39 for b in head):
        raise CloseConnection("the first 4 bytes are not ASCII digits")
    mti = head.decode("ascii")
    if mti not in REQUESTS:
        if mti[2] in "02":
            try:
                fields = _decode(message, mti)
                stan = _stan_of(fields)
            except BadMessage as bad:
                stan = bad.stan
            raise BadMessage(response_mti(mti), stan, f"MTI {mti} TIDAK DIDUKUNG")
        raise Ignore(mti)
    fields = _decode(message, mti)
    stan = _stan_of(fields)
    rmti = response_mti(mti)
    for bit, value in fields.items():
        if not _well_formed(bit, value):
            raise BadMessage(rmti, stan, f"FORMAT BIT {bit} ({FIELDS[bit][3]}) TIDAK VALID")
        _lt, max_len, _kind, _name = FIELDS[bit]
        if FIELDS[bit][0] == 0 and len(value) != max_len:
            raise BadMessage(rmti, stan, f"PANJANG BIT {bit} TIDAK VALID")
    presence = PRESENCE[mti]
    for bit in _ALL:
        rule = presence[bit]
        if rule == MANDATORY and bit not in fields:
            raise BadMessage(rmti, stan, f"BIT {bit} ({FIELDS[bit][3]}) WAJIB ADA")
        if rule == ABSENT and bit in fields:
            raise BadMessage(rmti, stan, f"BIT {bit} ({FIELDS[bit][3]}) TIDAK BOLEH ADA")
    if "2" in fields and len(fields["2"]) != 5:
        raise BadMessage(rmti, stan, "BIT 2 (KODE PRODUK) HARUS 5 DIGIT")
    if "4" in fields and not fields["4"].startswith("3600"):
        raise BadMessage(rmti, stan, "BIT 4: MATA UANG HARUS 360 (IDR) DENGAN DIGIT MINOR 0")
    return Parsed(mti, fields)


def encode(mti: str, fields: Mapping[str, str]) -> bytes:
    """Pack a response; the caller gives every field already at its final length."""
    doc: dict[str, str] = {"t": mti, **fields}
    raw, _ = iso8583.encode(doc, SPEC)
    return bytes(raw)


def amount_of(field4: str) -> int:
    """Whole rupiah of a validated field 4 ('3600' + 12 digits)."""
    return int(field4[4:])


def field4_of(amount: int) -> str:
    return f"3600{amount:012d}"
