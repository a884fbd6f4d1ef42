"""The console's campaigns page (/konsol/kampanye): progress of key-change campaigns with a
server-rendered SVG chart (no script, no CDN) and the per-unit CSV export for field teams.

Creating, approving and running are on the CLI and the API (admins; four eyes); the page shows
where each campaign stands: selected / generated / delivered / confirmed, overall and per unit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response
from markupsafe import Markup, escape

from prabayar.vending.campaigns import CampaignCounts, CampaignInfo
from prabayar.web.deps import ServicesDep
from prabayar.web.i18n import language_of, translate
from prabayar.web.pages.guards import PageOperator
from prabayar.web.pages.rendering import render

router = APIRouter(prefix="/konsol/kampanye")
CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1)]

#: (field, colour) in the order the bars are drawn; the legend says ``campaigns.<field>``.
SERIES = (
    ("selected", "#c9d3de"),
    ("generated", "#0b5394"),
    ("delivered", "#e69500"),
    ("confirmed", "#177245"),
)


def chart_svg(rows: list[tuple[str, CampaignCounts]], *, lang: str = "id", width: int = 640) -> Markup:
    """Horizontal bars per row (a campaign or a unit): for each, the four counts as bars scaled
    to the row's selected meters, with the percentage. Pure SVG, escaped labels."""
    label_w, bar_h, gap, top = 90, 9, 14, 26
    plot_w = width - label_w - 70
    height = top + len(rows) * (4 * bar_h + gap) + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="campaign-chart" font-family="sans-serif" font-size="11">'
    ]
    x = label_w
    names = {field: translate(f"campaigns.{field}", lang) for field, _ in SERIES}
    for field, colour in SERIES:
        name = names[field]
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="15">{escape(name)}</text>')  # fmt: skip
        x += 24 + 7 * len(name)
    y = top
    for label, counts in rows:
        total = max(counts.selected, 1)
        parts.append(f'<text x="0" y="{y + 2 * bar_h + 3}" font-weight="bold">{escape(label)}</text>')
        for i, (field, colour) in enumerate(SERIES):
            value = int(getattr(counts, field))
            w = round(plot_w * min(value / total, 1.0), 1)
            by = y + i * bar_h
            parts.append(f'<rect x="{label_w}" y="{by}" width="{w}" height="{bar_h - 1}" fill="{colour}">'
                         f"<title>{escape(names[field])}: {value:,}</title></rect>"
                         f'<text x="{label_w + w + 4}" y="{by + bar_h - 1}" font-size="9">'
                         f"{value:,} ({100 * value / total:.0f}%)</text>")  # fmt: skip
        y += 4 * bar_h + gap
    parts.append("</svg>")
    return Markup("".join(parts))


def _percent(info: CampaignInfo) -> int:
    c = info.counts
    return int(100 * (c.generated + c.skipped) / c.selected) if c.selected else 0


@router.get("")
def campaigns_page(request: Request, operator: PageOperator, services: ServicesDep) -> Response:
    campaigns = services.call(services.vending.campaigns)
    lang = language_of(request)
    chart = chart_svg([(f"#{c.id}", c.counts) for c in campaigns[:12]], lang=lang) if campaigns else None
    return render(request, "operator/campaigns.html",
                  {"campaigns": campaigns, "chart": chart, "percent": _percent, "detail": None})  # fmt: skip


@router.get("/{campaign_id}")
def campaign_page(request: Request, operator: PageOperator, services: ServicesDep, campaign_id: CampaignId) -> Response:
    info = services.call(services.vending.campaign, campaign_id, per_unit=True)
    lang = language_of(request)
    rows = [(translate("campaigns.all_units", lang), info.counts)] + [(u.unit_code, u.counts) for u in info.units]
    chart = chart_svg(rows, lang=lang)
    return render(request, "operator/campaigns.html",
                  {"campaigns": [], "chart": chart, "percent": _percent, "detail": info})  # fmt: skip


@router.get("/{campaign_id}/ekspor")
def campaign_export(
    operator: PageOperator, services: ServicesDep, campaign_id: CampaignId,
    unit: Annotated[str, Query(min_length=1, max_length=8)],
) -> PlainTextResponse:  # fmt: skip
    text = services.call(services.vending.export_campaign, campaign_id, unit)
    safe = "".join(ch for ch in unit if ch.isascii() and ch.isalnum())
    disposition = f'attachment; filename="kampanye-{campaign_id}-{safe}.csv"'
    return PlainTextResponse(text, media_type="text/csv", headers={"Content-Disposition": disposition})
