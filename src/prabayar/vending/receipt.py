"""The struk: PLN's prepaid receipt, field for field in PLN's order (domain file 2.6).

A ``Receipt`` is a Rich renderable (``console.print(receipt)``) and also gives plain text
for a printer or an e-mail. Amounts use Indonesian formatting (dot thousands, comma
decimals); TARIF/DAYA prints the class and the power zero-padded to 9 digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

TITLE = "STRUK PEMBELIAN LISTRIK PRABAYAR"
FOOTER = (
    "Informasi Hubungi Call Center 123 Atau hubungi PLN Terdekat",
    "Download PLN Mobile",
)
_LABEL_WIDTH = 16


def group_thousands(value: int) -> str:
    """12345678 -> '12.345.678' (Indonesian grouping)."""
    sign = "-" if value < 0 else ""
    return sign + f"{abs(value):,}".replace(",", ".")


def rupiah(value: int, *, cents: bool = True) -> str:
    """Rp 23.500,00 (or Rp 3.500 without the cents, as ADMIN BANK is printed)."""
    return f"Rp {group_thousands(value)}" + (",00" if cents else "")


_TENTH = Decimal("0.1")


def kwh_text(kwh: Decimal) -> str:
    """1281.9 -> '1.281,9': the kWh as bought, with a decimal comma.

    Tokens carry 0.1 kWh, so a value read back from the database as 13.60 prints as 13,6, the
    same as on the receipt made at the sale.
    """
    exp = kwh.as_tuple().exponent
    if isinstance(exp, int) and exp < -1 and kwh == kwh.quantize(_TENTH):
        kwh = kwh.quantize(_TENTH)
    sign, _digits, exponent = kwh.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError("kWh must be a finite number")
    places = max(-exponent, 0)
    whole = int(abs(kwh))
    fraction = str(abs(kwh)).split(".")[1] if places else ""
    text = group_thousands(whole) + (f",{fraction}" if fraction else "")
    return ("-" if sign else "") + text


def tarif_daya(tariff_code: str, va: int) -> str:
    """R1/000001300VA."""
    return f"{tariff_code}/{va:09d}VA"


def group_token(token: str) -> str:
    """The 20 digits in five groups of four, as printed and keyed in."""
    return " ".join(token[i : i + 4] for i in range(0, len(token), 4))


@dataclass(frozen=True)
class Receipt:
    """Everything printed on a struk; ``total_paid`` is RP BAYAR (nominal plus admin)."""

    meter_number: str
    idpel: str
    name: str
    tariff_code: str
    va: int
    reference_number: str
    total_paid: int
    meterai: int
    ppn: int
    pbjt: int
    angsuran: int
    stroom: int
    kwh: Decimal
    token: str
    admin_fee: int
    #: Key change tokens (a key-change campaign): keyed in order BEFORE the credit token.
    key_change_tokens: tuple[str, ...] = ()

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) pairs in PLN's order; KCTs (if any) come before STROOM/TOKEN with
        the instruction to key them first."""
        kct: list[tuple[str, str]] = []
        if self.key_change_tokens:
            n = len(self.key_change_tokens)
            kct = [("PERHATIAN", f"MASUKKAN {n} TOKEN GANTI KUNCI (KCT) BERURUTAN SEBELUM STROOM/TOKEN")]
            kct += [(f"TOKEN KCT {i}/{n}", group_token(t)) for i, t in enumerate(self.key_change_tokens, 1)]
        return [
            ("NO METER", self.meter_number),
            ("IDPEL", self.idpel),
            ("NAMA", self.name),
            ("TARIF/DAYA", tarif_daya(self.tariff_code, self.va)),
            ("NO REF", self.reference_number),
            ("RP BAYAR", rupiah(self.total_paid)),
            ("METERAI", rupiah(self.meterai)),
            ("PPN", rupiah(self.ppn)),
            ("PBJT-TL", rupiah(self.pbjt)),
            ("ANGSURAN", rupiah(self.angsuran)),
            ("RP STROOM/TOKEN", rupiah(self.stroom)),
            ("JML KWH", kwh_text(self.kwh)),
            *kct,
            ("STROOM/TOKEN", group_token(self.token)),
            ("ADMIN BANK", rupiah(self.admin_fee, cents=False)),
        ]

    def text(self) -> str:
        """Plain text as a receipt printer gets it."""
        body = [f"{label:<{_LABEL_WIDTH}}: {value}" for label, value in self.lines()]
        return "\n".join([TITLE, *body, *FOOTER]) + "\n"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(no_wrap=True)
        for label, value in self.lines():
            kct = "KCT" in label or "KCT" in value
            style = "bold green" if label == "STROOM/TOKEN" else ("bold yellow" if kct else "")
            table.add_row(f"{label:<{_LABEL_WIDTH}}:", Text(value, style=style))
        footer = Text("\n".join(FOOTER), style="dim")
        yield Panel(Group(table, footer), title=TITLE, expand=False)
