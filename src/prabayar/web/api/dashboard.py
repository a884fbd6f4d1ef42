"""The dashboard's numbers on the API (operators and admins): the same series the console draws.

Dates are WIB calendar days, ``from``..``to`` inclusive (default: the last 7 days). Hourly
sales cover at most 14 days, every other series at most 92 (422 beyond). See
``docs/dashboard.md``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from prabayar.support.dashboard import MAX_DAILY_DAYS, DateRange
from prabayar.web.api.schemas import error_responses
from prabayar.web.deps import CurrentOperator, ServicesDep
from prabayar.web.pages.dashboard import checked, dashboard_of

router = APIRouter(prefix="/operator/dashboard", tags=["dashboard"])
_ERRORS = error_responses(401, 403, 422, 429, 503)

From = Annotated[date | None, Query(alias="from", description="first WIB day (default: 6 days before `to`)")]
To = Annotated[date | None, Query(alias="to", description="last WIB day, inclusive (default: today)")]
UnitCode = Annotated[str | None, Query(max_length=8, pattern=r"^[0-9A-Za-z]+$", description="a unit code")]


class RangeOut(BaseModel):
    first: date
    last: date
    unit: str | None


class SalesPointOut(BaseModel):
    bucket: str = Field(description="WIB day (YYYY-MM-DD) or hour (YYYY-MM-DD HH:00)")
    sales: int
    amount: int = Field(description="sum of the nominal, Rp")
    kwh: str = Field(description="sum of kWh, decimal")


class SalesOut(RangeOut):
    bucket: Literal["hour", "day"]
    points: list[SalesPointOut]


class CausePointOut(BaseModel):
    bucket: str = Field(description="WIB day, or the unit code when grouped by unit")
    key: str = Field(description="the diagnosis cause (wrong_meter, typo, already_used, ...)")
    count: int


class CausesOut(RangeOut):
    by: Literal["day", "unit"]
    points: list[CausePointOut]


class TicketPointOut(BaseModel):
    day: str
    opened: int
    resolved: int
    response_breaches: int
    resolution_breaches: int


class TicketsOut(RangeOut):
    points: list[TicketPointOut]


class CampaignProgressOut(BaseModel):
    id: int
    name: str
    status: str
    selected: int
    generated: int
    delivered: int
    confirmed: int
    skipped: int
    stale: int
    chunks_total: int
    chunks_done: int


class CampaignsOut(BaseModel):
    unit: str | None
    campaigns: list[CampaignProgressOut]


class WeeklyOut(BaseModel):
    unit: str
    unit_name: str
    first: date
    last: date
    total_sales: int
    total_amount: int
    total_failures: int
    causes: list[CausePointOut] = Field(description="per cause, over the week, most frequent first")
    sales: list[SalesPointOut]
    tickets: list[TicketPointOut]
    campaigns: list[CampaignProgressOut]


def _range(services: object, first: date | None, last: date | None, cap: int = MAX_DAILY_DAYS) -> DateRange:
    dash = dashboard_of(services)
    end = last or dash.today()
    start = first or date.fromordinal(max(end.toordinal() - 6, 1))
    days: DateRange = checked(lambda: DateRange(start, end).check(cap))
    return days


@router.get("/sales", response_model=SalesOut, responses=_ERRORS, summary="Sales per WIB hour or day")
def sales(
    operator: CurrentOperator,
    services: ServicesDep,
    first: From = None,
    last: To = None,
    bucket: Annotated[Literal["hour", "day"], Query()] = "day",
    unit: UnitCode = None,
) -> SalesOut:
    days = _range(services, first, last)
    points = checked(lambda: dashboard_of(services).sales(days, bucket, unit))
    return SalesOut(
        first=days.first, last=days.last, unit=unit, bucket=bucket,
        points=[SalesPointOut(**asdict(p)) for p in points],
    )  # fmt: skip


@router.get("/causes", response_model=CausesOut, responses=_ERRORS,
            summary="Failed-entry causes (diagnosis runs) per WIB day or per unit")  # fmt: skip
def causes(
    operator: CurrentOperator,
    services: ServicesDep,
    first: From = None,
    last: To = None,
    by: Annotated[Literal["day", "unit"], Query()] = "day",
    unit: UnitCode = None,
) -> CausesOut:
    days = _range(services, first, last)
    dash = dashboard_of(services)
    points = dash.causes_by_unit(days) if by == "unit" else dash.causes_by_day(days, unit)
    return CausesOut(
        first=days.first, last=days.last, unit=unit, by=by, points=[CausePointOut(**asdict(p)) for p in points]
    )


@router.get("/tickets", response_model=TicketsOut, responses=_ERRORS,
            summary="Tickets opened per WIB day, resolved, and SLA breaches")  # fmt: skip
def tickets(
    operator: CurrentOperator,
    services: ServicesDep,
    first: From = None,
    last: To = None,
    unit: UnitCode = None,
) -> TicketsOut:
    days = _range(services, first, last)
    points = dashboard_of(services).tickets(days, unit)
    return TicketsOut(first=days.first, last=days.last, unit=unit, points=[TicketPointOut(**asdict(p)) for p in points])


@router.get("/campaigns", response_model=CampaignsOut, responses=_ERRORS,
            summary="Key-change campaigns' progress (newest first)")  # fmt: skip
def campaigns(operator: CurrentOperator, services: ServicesDep, unit: UnitCode = None) -> CampaignsOut:
    found = services.call(dashboard_of(services).campaigns, unit=unit)
    return CampaignsOut(unit=unit, campaigns=[CampaignProgressOut(**asdict(c)) for c in found])


@router.get("/weekly", response_model=WeeklyOut, responses=error_responses(401, 403, 404, 422, 429, 503),
            summary="One unit's week (Monday to Sunday, WIB): the printable summary's numbers")  # fmt: skip
def weekly(
    operator: CurrentOperator,
    services: ServicesDep,
    unit: Annotated[str, Query(min_length=1, max_length=8, pattern=r"^[0-9A-Za-z]+$")],
    week: Annotated[date | None, Query(description="any day of the week (default: this week)")] = None,
) -> WeeklyOut:
    s = checked(lambda: dashboard_of(services).weekly_summary(unit, week))
    return WeeklyOut(
        unit=s.unit_code, unit_name=s.unit_name, first=s.week.first, last=s.week.last,
        total_sales=s.total_sales, total_amount=s.total_amount, total_failures=s.total_failures,
        causes=[CausePointOut(bucket=s.unit_code, key=k, count=n) for k, n in s.cause_totals()],
        sales=[SalesPointOut(**asdict(p)) for p in s.sales],
        tickets=[TicketPointOut(**asdict(p)) for p in s.tickets],
        campaigns=[CampaignProgressOut(**asdict(c)) for c in s.campaigns],
    )  # fmt: skip
