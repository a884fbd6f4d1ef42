"""Pure checks of master-data fields, shared by the use cases, the faces and the bulk import.

Every function takes text as a person or a CSV file spells it and returns the stored form, or
raises :class:`InvalidField` naming the field (``.field``) with an Indonesian and an English
message. Nothing here touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol, TypeVar

from prabayar import sts
from prabayar.digits import is_digits
from prabayar.sts import BaseDate, Dkga, EncryptionAlgorithm, KeyParameters, KeyType
from prabayar.vending.errors import InvalidRequest

_PHONE = re.compile(r"\+?[0-9]{8,15}")
_BASE_DATES = {"1993": BaseDate.Y1993, "2014": BaseDate.Y2014, "2035": BaseDate.Y2035,
               "93": BaseDate.Y1993, "14": BaseDate.Y2014, "35": BaseDate.Y2035}  # fmt: skip


class InvalidField(InvalidRequest):
    """One field of a master-data request is wrong; ``field`` names it (e.g. ``"idpel"``)."""

    def __init__(self, field: str, message_id: str, message_en: str) -> None:
        self.field = field
        super().__init__(message_id, message_en)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else str(value).strip() if value is not None else ""


def idpel(value: object) -> str:
    """A 12-digit IDPEL (ID pelanggan); spaces are ignored."""
    text = _text(value).replace(" ", "")
    if len(text) != 12 or not is_digits(text):
        raise InvalidField("idpel", "ID PELANGGAN HARUS 12 DIGIT ANGKA", f"an IDPEL has 12 digits, got {text!r}")
    return text


def meter_number(value: object) -> str:
    """An 11- or 13-digit meter number whose last digit is its Luhn check digit."""
    text = _text(value)
    try:
        return str(sts.meter_number.validate(text))
    except sts.StsError as exc:
        raise InvalidField("meter_number", "NOMOR METER TIDAK VALID", f"invalid meter number {text!r}: {exc}") from exc


def name(value: object) -> str:
    """The customer's name as printed on the struk: 1 to 25 characters, upper case."""
    text = " ".join(_text(value).split()).upper()
    if not 1 <= len(text) <= 25:
        raise InvalidField("name", "NAMA HARUS 1-25 KARAKTER", "a name has 1 to 25 characters")
    return text


def address(value: object) -> str:
    """1 to 120 characters, upper case."""
    text = " ".join(_text(value).split()).upper()
    if not 1 <= len(text) <= 120:
        raise InvalidField("address", "ALAMAT HARUS 1-120 KARAKTER", "an address has 1 to 120 characters")
    return text


def phone(value: object) -> str | None:
    """An optional phone number: 8 to 15 digits, optionally with a leading '+'."""
    text = _text(value).replace(" ", "").replace("-", "")
    if not text:
        return None
    if not _PHONE.fullmatch(text):
        raise InvalidField("phone", "NOMOR TELEPON TIDAK VALID", f"a phone number has 8-15 digits, got {text!r}")
    return text


def power_va(value: object) -> int:
    """The contracted power in VA (a whole number, 1 VA to 100 MVA)."""
    text = _text(value).replace(".", "").replace(",", "")
    if not is_digits(text) or not 0 < int(text) <= 100_000_000:
        raise InvalidField("power_va", "DAYA (VA) TIDAK VALID", f"the power is a whole number of VA, got {text!r}")
    return int(text)


def reason(value: object) -> str:
    """Why a change is made: at least 3 characters (it goes into the audit log)."""
    text = _text(value)
    if len(text) < 3:
        raise InvalidField("reason", "ALASAN WAJIB DIISI", "a reason (at least 3 characters) is required")
    return text[:500]


def key_parameters(
    *,
    sgc: object,
    tariff_index: object,
    krn: object,
    key_type: object,
    ea: object,
    dkga: object,
    base_date: object,
    ken: object = 255,
) -> KeyParameters:
    """A meter's STS key parameters as the CSV / forms spell them.

    ``sgc`` 6 digits, ``tariff_index`` 2 digits, ``krn`` 1-9, ``key_type`` 0-3, ``ea`` 07/09/11,
    ``dkga`` 02/04, ``base_date`` 1993/2014/2035 (or 93/14/35); EA 11 (MISTY1) needs DKGA04.
    """
    sgc_text = _text(sgc)
    if len(sgc_text) != 6 or not is_digits(sgc_text):
        raise InvalidField("sgc", "SGC HARUS 6 DIGIT", f"a supply group code has 6 digits, got {sgc_text!r}")
    ti = _text(tariff_index)
    if len(ti) != 2 or not is_digits(ti):
        raise InvalidField("tariff_index", "INDEKS TARIF HARUS 2 DIGIT", f"a tariff index has 2 digits, got {ti!r}")
    krn_text = _text(krn)
    if len(krn_text) != 1 or krn_text not in "123456789":
        raise InvalidField("krn", "KRN HARUS 1-9", f"a key revision number is 1..9, got {krn_text!r}")
    kt = _text(key_type)
    if len(kt) != 1 or kt not in "0123":
        raise InvalidField("key_type", "JENIS KUNCI HARUS 0-3", f"a key type is 0..3, got {kt!r}")
    ea_text = _text(ea).zfill(2)
    try:
        algorithm = EncryptionAlgorithm(ea_text)
    except ValueError:
        raise InvalidField(
            "ea", "ALGORITMA (EA) HARUS 07, 09 ATAU 11", f"EA is 07, 09 or 11, got {ea_text!r}"
        ) from None
    dkga_text = _text(dkga).zfill(2)
    if dkga_text not in ("02", "04"):
        raise InvalidField("dkga", "DKGA HARUS 02 ATAU 04", f"DKGA is 02 or 04, got {dkga_text!r}")
    base = _BASE_DATES.get(_text(base_date))
    if base is None:
        raise InvalidField("base_date", "TANGGAL DASAR HARUS 1993, 2014 ATAU 2035",
                           f"the base date is 1993, 2014 or 2035, got {_text(base_date)!r}")  # fmt: skip
    ken_text = _text(ken)
    if not is_digits(ken_text) or not 0 <= int(ken_text) <= 255:
        raise InvalidField("ken", "KEN HARUS 0-255", f"a key expiry number is 0..255, got {ken_text!r}")
    if algorithm is EncryptionAlgorithm.MISTY1 and dkga_text != "04":
        raise InvalidField("dkga", "EA 11 (MISTY1) MEMERLUKAN DKGA04", "EA 11 (MISTY1) needs DKGA 04")
    try:
        return KeyParameters(
            key_type=KeyType(int(kt)),
            sgc=sgc_text,
            tariff_index=ti,
            krn=int(krn_text),
            ken=int(ken_text),
            algorithm=algorithm,
            base_date=base,
            dkga=Dkga(dkga_text),
        )
    except sts.StsError as exc:
        raise InvalidField("key_type", "PARAMETER KUNCI TIDAK VALID", str(exc)) from exc


class TariffLike(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def print_code(self) -> str: ...
    @property
    def va_min(self) -> int: ...
    @property
    def va_max(self) -> int | None: ...
    @property
    def subsidised(self) -> bool: ...


T = TypeVar("T", bound=TariffLike)


def resolve_tariff(classes: Iterable[T], tariff: object, va: int, *, subsidised: bool | None = None) -> T:
    """The tariff class for a code as written (``R1``, ``R2``, ``B2``, or an exact class code
    such as ``R1-900``) and a power in VA.

    A print code picks the class whose power band holds ``va``; when two fit (R1 at 900 VA:
    subsidised R1-900 and R1-900RTM) the non-subsidised one is chosen unless ``subsidised`` says
    otherwise; an exact class code is taken as is if the power is in its band.
    """
    code = _text(tariff).upper().replace("/", "-")
    candidates = list(classes)
    exact = [c for c in candidates if c.code.upper() == code]
    fitting = exact or [c for c in candidates if c.print_code.upper() == code]
    if not fitting:
        raise InvalidField("tariff", f"GOLONGAN TARIF {code} TIDAK DIKENAL", f"unknown tariff class {code!r}")
    in_band = [c for c in fitting if c.va_min <= va and (c.va_max is None or va <= c.va_max)]
    if not in_band:
        raise InvalidField("power_va", f"DAYA {va} VA TIDAK SESUAI GOLONGAN {code}",
                           f"{va} VA is not a power of tariff {code}")  # fmt: skip
    if subsidised is not None:
        preferred = [c for c in in_band if c.subsidised == subsidised]
        in_band = preferred or in_band
    in_band.sort(key=lambda c: (c.subsidised, c.code))
    return in_band[0]
