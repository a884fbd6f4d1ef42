"""Server-rendered SVG charts for the dashboard: no JavaScript, no CDN, no inline style.

Each function returns inline ``<svg>`` markup (``markupsafe.Markup``) built from numbers and
escaped labels. Colours are SVG presentation attributes (``fill=...``), which the strict
Content-Security-Policy allows (it forbids ``style=`` attributes and scripts, not these). Every
bar carries a ``<title>`` (the browser's tooltip and what a screen reader reads), and each
chart has ``role="img"`` with an ``aria-label``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = (
    "#1f6feb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#ca8a04",
    "#db2777", "#4b5563", "#65a30d", "#9333ea", "#0f766e", "#b45309", "#475569",
)  # fmt: skip

WIDTH = 960
LEFT = 56
RIGHT = 12
TOP = 12
BOTTOM = 56


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    color: str


def _nice_max(value: float) -> float:
    if value <= 4:
        return 4.0  # counts: whole-number grid lines
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if top >= value:
            return float(top)
    return float(10 * magnitude)


def _num(value: float) -> str:
    return f"{int(value):,}".replace(",", ".") if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    stacked: bool = True,
    height: int = 260,
    label_every: int = 1,
    test_id: str = "chart",
) -> Markup:
    """Vertical bars per label: stacked (causes per day) or side by side (opened vs breached)."""
    n = max(len(labels), 1)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = height - TOP - BOTTOM
    if stacked:
        peak = max((sum(s.values[i] for s in series) for i in range(len(labels))), default=0)
    else:
        peak = max((v for s in series for v in s.values), default=0)
    top = _nice_max(float(peak))
    slot = plot_w / n
    parts = [
        f'<svg class="chart" data-testid="{escape(test_id)}" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for k in range(5):  # grid and y axis labels
        v = top * k / 4
        y = TOP + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#4b5563">{_num(v)}</text>'
        )
    groups = max(len(series), 1)
    for i, label in enumerate(labels):
        x0 = LEFT + slot * i
        base = float(TOP + plot_h)
        if stacked:
            width = min(max(slot * 0.8, 1.0), 64.0)
            for s in series:
                v = float(s.values[i])
                if v <= 0:
                    continue
                h = plot_h * v / top
                base -= h
                parts.append(
                    f'<rect class="bar" x="{x0 + (slot - width) / 2:.1f}" y="{base:.1f}" '
                    f'width="{width:.1f}" height="{h:.1f}" '
                    f'fill="{s.color}"><title>{escape(label)} · {escape(s.name)}: {_num(v)}</title></rect>'
                )
        else:
            width = min(max(slot * 0.8 / groups, 1.0), 32.0)
            for g, s in enumerate(series):
                v = float(s.values[i])
                if v <= 0:
                    continue
                h = plot_h * v / top
                parts.append(
                    f'<rect class="bar" x="{x0 + (slot - groups * width) / 2 + g * width:.1f}" y="{base - h:.1f}" '
                    f'width="{width:.1f}" height="{h:.1f}" fill="{s.color}">'
                    f"<title>{escape(label)} · {escape(s.name)}: {_num(v)}</title></rect>"
                )
        if i % label_every == 0:
            cx = x0 + slot / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{TOP + plot_h + 14}" text-anchor="middle" font-size="10" '
                f'fill="#374151">{escape(label)}</text>'
            )
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#9ca3af"/>')
    x = LEFT
    for s in series:  # legend
        y = height - 16
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{s.color}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}" font-size="11" fill="#111827">{escape(s.name)}</text>')
        x += 24 + 7 * len(s.name)
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Progress:
    label: str
    total: int
    parts: Sequence[tuple[str, int, str]]  # (name, count, colour), drawn left to right


def progress_chart(rows: Sequence[Progress], *, title: str, test_id: str = "chart-campaigns") -> Markup:
    """One horizontal bar per row (a campaign): its parts as shares of the total."""
    row_h = 34
    height = TOP + row_h * max(len(rows), 1) + 30
    plot_w = WIDTH - 260 - RIGHT
    out = [
        f'<svg class="chart" data-testid="{escape(test_id)}" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, row in enumerate(rows):
        y = TOP + i * row_h
        out.append(f'<text x="0" y="{y + 16}" font-size="12" fill="#111827">{escape(row.label[:34])}</text>')
        out.append(f'<rect x="250" y="{y + 4}" width="{plot_w}" height="16" fill="#f3f4f6"/>')
        x = 250.0
        total = max(row.total, 1)
        for name, count, colour in row.parts:
            w = plot_w * min(count, total) / total
            if w <= 0:
                continue
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="16" fill="{colour}">'
                f"<title>{escape(row.label)} · {escape(name)}: {_num(count)} / {_num(row.total)}</title></rect>"
            )
            x += w
        shown = ", ".join(f"{escape(name)} {_num(count)}" for name, count, _ in row.parts)
        out.append(f'<text x="250" y="{y + 32}" font-size="10" fill="#4b5563">{shown} / {_num(row.total)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
