"""The struk as a PDF (fpdf2, pure Python): the receipt's own lines in PLN's order, with the
date and time of sale (WIB) and the channel's name, one narrow page like a thermal printout.

Only the core Courier font is used (no font files to ship); every text is reduced to Latin-1,
which the core fonts cover (names and addresses are upper-case ASCII in the master data).
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from fpdf import FPDF

from prabayar.vending.receipt import FOOTER, TITLE
from prabayar.web.i18n import translate

WIB = timezone(timedelta(hours=7), "WIB")
_LABEL_WIDTH = 17
_PAGE_WIDTH_MM = 100


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def receipt_lines(purchase: Any, channel_name: str, lang: str = "id") -> list[tuple[str, str]]:
    """(label, value) rows of the PDF: the struk's lines after the time of sale and the channel."""
    when, channel = translate("receipt.pdf_sold_at", lang), translate("receipt.pdf_channel", lang)
    sold = purchase.created_at.astimezone(WIB).strftime("%d-%m-%Y %H:%M:%S WIB")
    return [(when, sold), (channel, channel_name), *purchase.receipt.lines()]


def receipt_pdf_bytes(purchase: Any, channel_name: str, lang: str = "id") -> bytes:
    """The PDF document of one purchase's struk."""
    rows = receipt_lines(purchase, channel_name, lang)
    pdf = FPDF(orientation="P", unit="mm", format=(_PAGE_WIDTH_MM, 60 + 5 * (len(rows) + len(FOOTER))))
    pdf.set_title(_latin1(f"Struk {purchase.reference_number}"))
    pdf.set_author("prabayar")
    pdf.set_creator("prabayar")
    pdf.set_margins(6, 6, 6)
    pdf.set_auto_page_break(auto=True, margin=6)
    pdf.add_page()
    pdf.set_font("Courier", "B", 10)
    pdf.multi_cell(0, 5, _latin1(TITLE), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for label, value in rows:
        if label == "STROOM/TOKEN":  # the token on a line of its own, large, as keyed in
            pdf.set_font("Courier", "", 8)
            pdf.multi_cell(0, 4, _latin1(f"{label:<{_LABEL_WIDTH}}:"), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Courier", "B", 13)
            pdf.multi_cell(0, 7, _latin1(value), align="C", new_x="LMARGIN", new_y="NEXT")
            continue
        pdf.set_font("Courier", "", 8)
        pdf.multi_cell(0, 4, _latin1(f"{label:<{_LABEL_WIDTH}}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Courier", "", 7)
    for line in FOOTER:
        pdf.multi_cell(0, 3.5, _latin1(line), align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
