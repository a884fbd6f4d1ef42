"""One unit's weekly summary as a one-page A4 PDF (fpdf2, core Helvetica font, no files to ship).

The same numbers as ``/konsol/dasbor/mingguan``: totals, sales per day as bars, failed-entry
causes, tickets and SLA breaches, campaign progress. Texts come from the caller (``tx`` and
``cause``), already in the page's language; everything is reduced to Latin-1 for the core font.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fpdf import FPDF


def _l1(text: object) -> str:
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _rp(value: int) -> str:
    return "Rp " + f"{int(value):,}".replace(",", ".")


def weekly_pdf_bytes(summary: Any, tx: Callable[[str], str], cause: Callable[[str], str]) -> bytes:
    s = summary
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(_l1(f"{tx('weekly')} {s.unit_code} {s.week.first.isoformat()}"))
    pdf.set_author("prabayar")
    pdf.set_creator("prabayar")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, _l1(f"{tx('weekly')} - {s.unit_code} {s.unit_name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _l1(f"{s.week.first.isoformat()} - {s.week.last.isoformat()} (WIB)"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    opened = sum(p.opened for p in s.tickets)
    resolved = sum(p.resolved for p in s.tickets)
    r1 = sum(p.response_breaches for p in s.tickets)
    r2 = sum(p.resolution_breaches for p in s.tickets)
    pdf.set_font("Helvetica", "", 11)
    for line in (
        f"{tx('sales')}: {s.total_sales}  ({_rp(s.total_amount)})",
        f"{tx('failures')}: {s.total_failures}",
        f"{tx('opened')}: {opened}   {tx('resolved')}: {resolved}",
        f"{tx('response_breaches')}: {r1}   {tx('resolution_breaches')}: {r2}",
    ):
        pdf.cell(0, 6, _l1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    # sales per day as bars
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _l1(tx("sales_day")), new_x="LMARGIN", new_y="NEXT")
    top = max((p.sales for p in s.sales), default=0) or 1
    x0, y0, height, slot = 20.0, pdf.get_y() + 2, 45.0, 24.0
    pdf.set_draw_color(156, 163, 175)
    pdf.line(x0, y0 + height, x0 + slot * len(s.sales), y0 + height)
    pdf.set_font("Helvetica", "", 8)
    for i, p in enumerate(s.sales):
        h = height * p.sales / top
        pdf.set_fill_color(31, 111, 235)
        if h > 0:
            pdf.rect(x0 + i * slot + 4, y0 + height - h, slot - 8, h, style="F")
        pdf.set_xy(x0 + i * slot, y0 + height - h - 5)
        pdf.cell(slot, 4, str(p.sales), align="C")
        pdf.set_xy(x0 + i * slot, y0 + height + 1)
        pdf.cell(slot, 4, p.bucket[8:10] + "/" + p.bucket[5:7], align="C")
    pdf.set_xy(15, y0 + height + 9)

    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _l1(tx("causes_day")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    totals = s.cause_totals()
    if not totals:
        pdf.cell(0, 6, _l1(tx("none")), new_x="LMARGIN", new_y="NEXT")
    for key, n in totals[:12]:
        pdf.cell(110, 6, _l1(cause(key)))
        pdf.cell(20, 6, str(n), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _l1(tx("campaigns")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    if not s.campaigns:
        pdf.cell(0, 6, _l1(tx("no_campaigns")), new_x="LMARGIN", new_y="NEXT")
    for c in s.campaigns[:8]:
        pdf.cell(
            0, 6,
            _l1(f"#{c.id} {c.name[:40]}: {tx('selected')} {c.selected}, {tx('generated')} {c.generated}, "
                f"{tx('delivered')} {c.delivered}, {tx('confirmed')} {c.confirmed}"),
            new_x="LMARGIN", new_y="NEXT",
        )  # fmt: skip
    return bytes(pdf.output())
