"""The struk in PLN's field order and Indonesian formats (PLN.md 2.6)."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console

from prabayar.vending.receipt import (
    Receipt,
    group_thousands,
    group_token,
    kwh_text,
    rupiah,
    tarif_daya,
)

F1 = Receipt(
    meter_number="14300000001",
    idpel="231000000001",
    name="BUDI SANTOSA WIJAYA",
    tariff_code="R1",
    va=1300,
    reference_number="11002500AAA1A1111AA111AA1111AA11",
    total_paid=23_500,
    meterai=0,
    ppn=0,
    pbjt=1_819,
    angsuran=0,
    stroom=18_181,
    kwh=Decimal("12.6"),
    token="11112222333344445555",
    admin_fee=3_500,
)

EXPECTED = """\
STRUK PEMBELIAN LISTRIK PRABAYAR
NO METER        : 14300000001
IDPEL           : 231000000001
NAMA            : BUDI SANTOSA WIJAYA
TARIF/DAYA      : R1/000001300VA
NO REF          : 11002500AAA1A1111AA111AA1111AA11
RP BAYAR        : Rp 23.500,00
METERAI         : Rp 0,00
PPN             : Rp 0,00
PBJT-TL         : Rp 1.819,00
ANGSURAN        : Rp 0,00
RP STROOM/TOKEN : Rp 18.181,00
JML KWH         : 12,6
STROOM/TOKEN    : 1111 2222 3333 4444 5555
ADMIN BANK      : Rp 3.500
Informasi Hubungi Call Center 123 Atau hubungi PLN Terdekat
Download PLN Mobile
"""


def test_plain_text_matches_the_anonymised_real_receipt() -> None:
    assert F1.text() == EXPECTED


def test_field_order() -> None:
    assert [label for label, _ in F1.lines()] == [
        "NO METER", "IDPEL", "NAMA", "TARIF/DAYA", "NO REF", "RP BAYAR", "METERAI", "PPN",
        "PBJT-TL", "ANGSURAN", "RP STROOM/TOKEN", "JML KWH", "STROOM/TOKEN", "ADMIN BANK",
    ]  # fmt: skip


def test_rich_rendering_shows_every_field() -> None:
    console = Console(record=True, width=100)
    console.print(F1)
    out = console.export_text()
    for _, value in F1.lines():
        assert value in out
    assert "STRUK PEMBELIAN LISTRIK PRABAYAR" in out


def test_formats() -> None:
    assert group_thousands(1_234_567) == "1.234.567"
    assert group_thousands(-5_000) == "-5.000"
    assert rupiah(0) == "Rp 0,00"
    assert rupiah(3_500, cents=False) == "Rp 3.500"
    assert kwh_text(Decimal("1281.9")) == "1.281,9"
    assert kwh_text(Decimal("936")) == "936"
    assert kwh_text(Decimal("0.00")) == "0,0"
    # read back from the database with two places, printed at the token's 0.1 kWh resolution
    assert kwh_text(Decimal("13.60")) == "13,6"
    assert kwh_text(Decimal("0.05")) == "0,05"
    assert tarif_daya("R3", 13_200) == "R3/000013200VA"
    assert group_token("01234567890123456789") == "0123 4567 8901 2345 6789"
