"""The utility's dashboard in the console (operators and admins): pictures, CSV, a weekly page.

``/konsol/dasbor`` draws sales per hour and per day, failed-entry causes per day and per unit,
ticket volume with SLA breaches and key-change campaign progress as server-rendered SVG
(``prabayar.web.charts``: no script, no CDN). Each series downloads as CSV
(``/konsol/dasbor/csv/<series>``); ``/konsol/dasbor/mingguan`` is one unit's week on one
printable page. The numbers come from ``prabayar.support.dashboard.Dashboard`` (read-only,
grouped queries over bounded ranges).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from prabayar.support.dashboard import (
    MAX_DAILY_DAYS,
    MAX_HOURLY_DAYS,
    Dashboard,
    DashboardRangeError,
    DateRange,
    UnknownUnit,
    rows_for_csv,
)
from prabayar.web.charts import PALETTE, Progress, Series, bar_chart, progress_chart
from prabayar.web.deps import ServicesDep
from prabayar.web.errors import InvalidRequest, NotFound, WebError
from prabayar.web.i18n import labeller, language_of, translate
from prabayar.web.pages.guards import PageOperator
from prabayar.web.pages.rendering import render
from prabayar.web.weekly_pdf import weekly_pdf_bytes

router = APIRouter(prefix="/konsol/dasbor")

SeriesName = Literal["sales-hour", "sales-day", "causes-day", "causes-unit", "tickets", "campaigns"]
SERIES: tuple[str, ...] = ("sales-hour", "sales-day", "causes-day", "causes-unit", "tickets", "campaigns")
#: hourly sales are drawn for the last days of the range only (a week of hours is 168 bars)
HOURLY_DAYS_SHOWN = 7


def texts(lang: str) -> Any:
    """``tx(key)``: the dashboard's text ``dashboard.<key>`` from the gettext catalogues
    (``web/locale/{id,en}/LC_MESSAGES/messages.po``) in the page's language."""

    def tx(key: str) -> str:
        return translate(f"dashboard.{key}", lang)

    return tx


def dashboard_of(services: Any) -> Dashboard:
    vending = services.vending
    return Dashboard(vending.engine, vending=vending, clock=getattr(vending, "now", None))


def _parse_day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(
            f"Tanggal {name} tidak valid (TTTT-BB-HH).", f"The {name} date is not valid (YYYY-MM-DD)."
        ) from None


def date_range(dash: Dashboard, dari: str, sampai: str) -> DateRange:
    """The range asked for (default: the last 7 days, WIB), checked against the daily cap."""
    last = _parse_day(sampai, "sampai") or dash.today()
    first = _parse_day(dari, "dari") or date.fromordinal(max(last.toordinal() - 6, 1))
    days: DateRange = checked(lambda: DateRange(first, last).check(MAX_DAILY_DAYS))
    return days


def checked(call: Any) -> Any:
    """Run a dashboard query; its range error becomes the web's 422."""
    try:
        return call()
    except UnknownUnit as exc:
        raise NotFound(exc.message.id, exc.message.en) from exc
    except DashboardRangeError as exc:
        raise InvalidRequest(exc.message.id, exc.message.en) from exc


def hourly_range(days: DateRange) -> DateRange:
    shown = min(days.days, HOURLY_DAYS_SHOWN, MAX_HOURLY_DAYS)
    return DateRange(days.last - timedelta(days=shown - 1), days.last)


def _colours(keys: list[str]) -> dict[str, str]:
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(keys)}


def _short_day(day: str) -> str:
    return day[8:10] + "/" + day[5:7]


def charts(dash: Dashboard, days: DateRange, unit: str | None, lang: str) -> dict[str, Any]:
    """Every chart of the dashboard page, with the series behind them (for the tables)."""
    tx = texts(lang)
    label = labeller(lang)
    sales_day = checked(lambda: dash.sales(days, "day", unit))
    hours = hourly_range(days)
    sales_hour = checked(lambda: dash.sales(hours, "hour", unit))
    causes_day = checked(lambda: dash.causes_by_day(days, unit))
    causes_unit = checked(lambda: dash.causes_by_unit(days))
    tickets = checked(lambda: dash.tickets(days, unit))
    campaigns = dash.campaigns(unit=unit)

    day_labels = [_short_day(p.bucket) for p in sales_day]
    every_day = max(1, len(day_labels) // 16)
    cause_keys = sorted({p.key for p in causes_day} | {p.key for p in causes_unit})
    colour = _colours(cause_keys)

    def cause_series(points: list[Any], buckets: list[str]) -> list[Series]:
        table = {(p.bucket, p.key): p.count for p in points}
        return [
            Series(label("cause", k), [table.get((b, k), 0) for b in buckets], colour[k])
            for k in cause_keys
            if any(table.get((b, k), 0) for b in buckets)
        ]

    days_list = [p.bucket for p in sales_day]
    units_list = sorted({p.bucket for p in causes_unit})
    return {
        "sales_day": sales_day,
        "sales_hour": sales_hour,
        "causes_day": causes_day,
        "causes_unit": causes_unit,
        "tickets": tickets,
        "campaigns": campaigns,
        "chart_sales_day": bar_chart(
            day_labels, [Series(tx("sales"), [p.sales for p in sales_day], PALETTE[0])],
            title=tx("sales_day"), label_every=every_day, test_id="chart-sales-day",
        ),
        "chart_sales_hour": bar_chart(
            [p.bucket[8:10] + " " + p.bucket[11:13] for p in sales_hour],
            [Series(tx("sales"), [p.sales for p in sales_hour], PALETTE[2])],
            title=tx("sales_hour"), label_every=12 if hours.days > 1 else 2, test_id="chart-sales-hour",
        ),
        "chart_causes_day": bar_chart(
            day_labels, cause_series(causes_day, days_list), title=tx("causes_day"),
            label_every=every_day, test_id="chart-causes-day",
        ),
        "chart_causes_unit": bar_chart(
            units_list, cause_series(causes_unit, units_list), title=tx("causes_unit"),
            test_id="chart-causes-unit",
        ),
        "chart_tickets": bar_chart(
            day_labels,
            [
                Series(tx("opened"), [p.opened for p in tickets], PALETTE[0]),
                Series(tx("response_breaches"), [p.response_breaches for p in tickets], PALETTE[1]),
                Series(tx("resolution_breaches"), [p.resolution_breaches for p in tickets], PALETTE[3]),
            ],
            title=tx("tickets"), stacked=False, label_every=every_day, test_id="chart-tickets",
        ),
        "chart_campaigns": progress_chart(
            [
                Progress(f"#{c.id} {c.name} ({c.status})", c.selected, [
                    (tx("confirmed"), c.confirmed, PALETTE[2]),
                    (tx("delivered"), c.delivered - c.confirmed, PALETTE[0]),
                    (tx("generated"), max(c.generated - c.delivered, 0), "#93c5fd"),
                ])
                for c in campaigns
            ],
            title=tx("campaigns"),
        ),
    }  # fmt: skip


def series_points(dash: Dashboard, series: str, days: DateRange, unit: str | None) -> list[Any]:
    """The points of one named series (what the CSV export and the API return)."""
    if series == "sales-hour":
        return checked(lambda: dash.sales(days, "hour", unit))  # type: ignore[no-any-return]
    if series == "sales-day":
        return checked(lambda: dash.sales(days, "day", unit))  # type: ignore[no-any-return]
    if series == "causes-day":
        return checked(lambda: dash.causes_by_day(days, unit))  # type: ignore[no-any-return]
    if series == "causes-unit":
        return checked(lambda: dash.causes_by_unit(days))  # type: ignore[no-any-return]
    if series == "tickets":
        return checked(lambda: dash.tickets(days, unit))  # type: ignore[no-any-return]
    return dash.campaigns(unit=unit)


def csv_text(points: list[Any]) -> str:
    header, rows = rows_for_csv(points)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(header)
        writer.writerows(rows)
    return out.getvalue()


UnitQuery = Annotated[str, Query(max_length=8, pattern=r"^[0-9A-Za-z]*$")]
DayQuery = Annotated[str, Query(max_length=10)]


@router.get("")
def dashboard_page(
    request: Request,
    operator: PageOperator,
    services: ServicesDep,
    dari: DayQuery = "",
    sampai: DayQuery = "",
    unit: UnitQuery = "",
) -> Response:
    lang = language_of(request)
    dash = dashboard_of(services)
    try:
        days = date_range(dash, dari, sampai)
    except WebError as exc:
        days = dash.default_range()
        request.session["flash"] = {"kind": "error", "id": exc.message_id, "en": exc.message_en}
    context = charts(dash, days, unit or None, lang)
    query = f"dari={days.first.isoformat()}&sampai={days.last.isoformat()}" + (f"&unit={unit}" if unit else "")
    return render(
        request,
        "operator/dashboard.html",
        {
            **context,
            "tx": texts(lang),
            "days": days,
            "hours": hourly_range(days),
            "unit": unit,
            "units": dash.units(),
            "query": query,
            "series_names": SERIES,
        },
    )


@router.get("/csv/{series}")
def dashboard_csv(
    request: Request,
    operator: PageOperator,
    services: ServicesDep,
    series: Annotated[SeriesName, Path()],
    dari: DayQuery = "",
    sampai: DayQuery = "",
    unit: UnitQuery = "",
) -> Response:
    dash = dashboard_of(services)
    days = date_range(dash, dari, sampai)
    if series == "sales-hour":
        days = hourly_range(days)
    body = csv_text(series_points(dash, series, days, unit or None))
    name = f"prabayar-{series}-{days.first.isoformat()}-{days.last.isoformat()}{'-' + unit if unit else ''}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/mingguan")
def weekly_page(
    request: Request,
    operator: PageOperator,
    services: ServicesDep,
    unit: UnitQuery = "",
    minggu: DayQuery = "",
) -> Response:
    lang = language_of(request)
    dash = dashboard_of(services)
    units = dash.units()
    code = unit or (units[0][0] if units else "")
    week_of = _parse_day(minggu, "minggu")
    summary = checked(lambda: dash.weekly_summary(code, week_of))
    tx = texts(lang)
    label = labeller(lang)
    days_list = [p.bucket for p in summary.sales]
    cause_keys = [k for k, _ in summary.cause_totals()]
    colour = _colours(cause_keys)
    table = {(p.bucket, p.key): p.count for p in summary.causes}
    labels = [_short_day(d) for d in days_list]
    prev_week = (summary.week.first - timedelta(days=7)).isoformat()
    next_week = (summary.week.first + timedelta(days=7)).isoformat()
    return render(
        request,
        "operator/dashboard_week.html",
        {
            "tx": tx,
            "s": summary,
            "units": units,
            "unit": code,
            "prev_week": prev_week,
            "next_week": next_week,
            "chart_sales": bar_chart(
                labels, [Series(tx("sales"), [p.sales for p in summary.sales], PALETTE[0])],
                title=tx("sales_day"), height=200, test_id="chart-week-sales",
            ),
            "chart_causes": bar_chart(
                labels,
                [Series(label("cause", k), [table.get((d, k), 0) for d in days_list], colour[k]) for k in cause_keys],
                title=tx("causes_day"), height=200, test_id="chart-week-causes",
            ),
            "opened": sum(p.opened for p in summary.tickets),
            "resolved": sum(p.resolved for p in summary.tickets),
            "response_breaches": sum(p.response_breaches for p in summary.tickets),
            "resolution_breaches": sum(p.resolution_breaches for p in summary.tickets),
        },
    )  # fmt: skip


@router.get("/mingguan.pdf")
def weekly_pdf(
    request: Request,
    operator: PageOperator,
    services: ServicesDep,
    unit: UnitQuery = "",
    minggu: DayQuery = "",
) -> Response:
    """The weekly summary as a one-page A4 PDF (fpdf2)."""
    lang = language_of(request)
    dash = dashboard_of(services)
    units = dash.units()
    code = unit or (units[0][0] if units else "")
    week_of = _parse_day(minggu, "minggu")
    summary = checked(lambda: dash.weekly_summary(code, week_of))
    label = labeller(lang)
    body = weekly_pdf_bytes(summary, texts(lang), lambda key: label("cause", key))
    name = f"prabayar-mingguan-{summary.unit_code}-{summary.week.first.isoformat()}.pdf"
    return Response(
        body, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
