"""Fields 48, 62 and 63 of ISO8583.md §5: request layouts read, response layouts built.

Pure functions over strings; every builder returns exactly the profile's length or raises
``ValueError`` (a value that does not fit is an error, never silently cut; names excepted).
"""

from __future__ import annotations

import re
import secrets
import string
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from prabayar.digits import is_digits
from prabayar.vending.service import WIB

INQUIRY_48 = 31
INQUIRY_ANSWER_48 = 144
PURCHASE_48 = 145
ADVICE_48 = (95, 145)
SALE_ANSWER_48 = 241
FIELD_62 = 50
FOOTER = "Informasi Hubungi Call Center 123 Atau hubungi PLN Terdekat  Download PLN Mobile"
REVERSAL_REFUSED = "TOKEN PRABAYAR TIDAK DAPAT DIBATALKAN, KIRIM ADVICE"
SERVICE_PHONE = "123"
_SRN = re.compile(r"[0-9A-Za-z._:-]{1,32}")
_REF_ALPHABET = string.digits + string.ascii_uppercase


class LayoutError(ValueError):
    """Field 48 breaks its §5 layout (RC 0030)."""


@dataclass(frozen=True)
class Request48:
    """What the host reads from a request's field 48."""

    switcher_id: str
    meter_number: str
    idpel: str
    flag: str
    srn_slot: str = ""  # off 63 len 32 as received (2200/2220/2221/2400/2401)
    buying_option: str = ""

    @property
    def identifier(self) -> str:
        """The identifier the flag selects."""
        return self.meter_number if self.flag == "0" else self.idpel

    @property
    def srn(self) -> str:
        """The SRN: the slot without trailing spaces."""
        return self.srn_slot.rstrip(" ")


def _digits(text: str) -> bool:
    return is_digits(text)


def _common(value: str) -> Request48:
    flag = value[30]
    if flag not in "01":
        raise LayoutError(f"flag {flag!r} at off 30 is neither 0 (meter) nor 1 (IDPEL)")
    meter, idpel = value[7:18], value[18:30]
    if flag == "0" and not _digits(meter):
        raise LayoutError("the meter number at off 7 has 11 digits")
    if flag == "1" and not _digits(idpel):
        raise LayoutError("the IDPEL at off 18 has 12 digits")
    return Request48(switcher_id=value[0:7], meter_number=meter, idpel=idpel, flag=flag)


def parse_inquiry(value: str) -> Request48:
    """§5.1: 31 characters."""
    if len(value) != INQUIRY_48:
        raise LayoutError(f"field 48 of a 2100 has {INQUIRY_48} characters, not {len(value)}")
    return _common(value)


def parse_purchase(value: str) -> Request48:
    """§5.3: 145 characters, buying option 0."""
    if len(value) != PURCHASE_48:
        raise LayoutError(f"field 48 of a 2200 has {PURCHASE_48} characters, not {len(value)}")
    common = _common(value)
    option = value[144]
    if option != "0":
        raise LayoutError(f"buying option {option!r}: only 0 (a new token) is supported")
    return Request48(common.switcher_id, common.meter_number, common.idpel, common.flag, value[63:95], option)


def parse_advice(value: str) -> Request48:
    """§5.4: 95 or 145 characters (off 95-144 ignored)."""
    if len(value) not in ADVICE_48:
        raise LayoutError(f"field 48 of an advice or reversal has 95 or 145 characters, not {len(value)}")
    common = _common(value)
    return Request48(common.switcher_id, common.meter_number, common.idpel, common.flag, value[63:95])


def valid_srn(srn: str) -> bool:
    """§6.3: [0-9A-Za-z._:-]{1,32}, not only zeros."""
    return bool(_SRN.fullmatch(srn)) and set(srn) != {"0"}


def text_value(value: str, width: int) -> str:
    """§5.8: upper case, accents removed, other non-printables '?', cut and space-padded."""
    decomposed = unicodedata.normalize("NFKD", value.upper())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    clean = "".join(c if 0x20 <= ord(c) <= 0x7E else "?" for c in plain)
    return clean[:width].ljust(width)


def reason_text(value: str) -> str:
    """Field 63 reason: printable ASCII, at most 200 characters."""
    return text_value(value, 200).rstrip() or "GAGAL"


def _n(value: int, width: int) -> str:
    text = str(value)
    if value < 0 or len(text) > width:
        raise ValueError(f"{value} does not fit {width} digits")
    return text.zfill(width)


def _ans(value: str, width: int) -> str:
    if len(value) > width or not all(0x20 <= ord(c) <= 0x7E for c in value):
        raise ValueError(f"{value!r} does not fit {width} printable characters")
    return value.ljust(width)


def minor2(amount: int | Decimal, width: int) -> str:
    """'2' + value x 100, zero-padded to ``width`` digits (§2 amounts inside field 48)."""
    hundredths = Decimal(amount) * 100
    if hundredths != hundredths.to_integral_value():
        raise ValueError(f"{amount} has more than 2 decimals")
    return "2" + _n(int(hundredths), width)


def new_reference(unit_code: str, now: datetime) -> str:
    """32 x [0-9A-Z]: unit code (2) + WIB date YYMMDD + 24 random (§5.2)."""
    prefix = unit_code[:2].rjust(2, "0") + now.astimezone(WIB).strftime("%y%m%d")
    return prefix + "".join(secrets.choice(_REF_ALPHABET) for _ in range(32 - len(prefix)))


@dataclass(frozen=True)
class Customer48:
    meter_number: str
    idpel: str
    name: str
    tariff_code: str
    va: int


def inquiry_answer(req: Request48, who: Customer48, admin_fee: int, now: datetime, unit_code: str) -> str:
    """§5.2: 144 characters."""
    value = (
        req.switcher_id
        + _n(int(who.meter_number), 11)
        + _n(int(who.idpel), 12)
        + req.flag
        + new_reference(unit_code, now)
        + new_reference(unit_code, now)
        + text_value(who.name, 25)
        + _ans(who.tariff_code, 4)
        + _n(who.va, 9)
        + minor2(admin_fee, 10)
    )
    assert len(value) == INQUIRY_ANSWER_48
    return value


@dataclass(frozen=True)
class Sale48:
    """What a 2210/2230/2231 field 48 shows of a sale."""

    meter_number: str
    idpel: str
    reference_number: str
    tid: int
    name: str
    tariff_code: str
    va: int
    admin_fee: int
    meterai: int
    ppn: int
    pbjt: int
    angsuran: int
    stroom: int
    kwh: Decimal
    token: str


def sale_answer(req: Request48, sale: Sale48) -> str:
    """§5.5: 241 characters; off 63 is the SRN slot exactly as received."""
    if len(sale.meter_number) != 11:
        raise ValueError("a meter number of 13 digits does not fit field 48")
    value = (
        req.switcher_id
        + _n(int(sale.meter_number), 11)
        + _n(int(sale.idpel), 12)
        + req.flag
        + _ans(sale.reference_number, 32)
        + req.srn_slot
        + _n(sale.tid, 8)
        + text_value(sale.name, 25)
        + _ans(sale.tariff_code, 4)
        + _n(sale.va, 9)
        + "0"
        + minor2(sale.admin_fee, 10)
        + minor2(sale.meterai, 10)
        + minor2(sale.ppn, 10)
        + minor2(sale.pbjt, 10)
        + minor2(sale.angsuran, 10)
        + minor2(sale.stroom, 12)
        + minor2(sale.kwh, 10)
        + _n(int(sale.token), 20)
    )
    assert len(value) == SALE_ANSWER_48
    return value


def mask_sale_answer(value: str) -> str:
    """Field 48 of a 2210/2230/2231 for a DEBUG log: token and name masked (§8)."""
    if len(value) != SALE_ANSWER_48:
        return value
    return value[:103] + "*" * 25 + value[128:221] + "*" * 16 + value[237:]


def mask_token(token: str) -> str:
    """****************5098"""
    return "*" * (len(token) - 4) + token[-4:]


def field62(unit_code: str, kwh_left: Decimal, unsold_amounts: list[int]) -> str:
    """§5.6: 50 characters; ``unsold_amounts`` newest first (at most 2 are shown)."""
    shown = unsold_amounts[:2]
    left = max(0, min(99_999, int(kwh_left // 1)))
    value = (
        _ans(unit_code[:2], 2)
        + _ans(unit_code[:5], 5)
        + _ans(SERVICE_PHONE, 15)
        + _n(left, 5)
        + str(len(shown))
        + "".join(_n(a, 11) for a in shown)
        + "0" * 11 * (2 - len(shown))
    )
    assert len(value) == FIELD_62
    return value
