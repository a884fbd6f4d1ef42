"""The utility's dashboard: read-only series over the ledger, the diagnosis log and the tickets.

Every series is ONE grouped query over a bounded time range (``GROUP BY`` the hour or day in
WIB: ``date_trunc`` on PostgreSQL, ``strftime`` on SQLite), so the cost follows the rows in the
range, not the size of the region: ``purchases`` is range-partitioned by month on PostgreSQL
(the range prunes partitions), ``support_diagnosis_log`` has ``(at)`` and ``(unit_code, at)``
indexes, tickets are few. Ranges are capped (:data:`MAX_HOURLY_DAYS`, :data:`MAX_DAILY_DAYS`).

Diagnoses are logged by :class:`LoggedDiagnosisEngine` (the faces' engine): one row per run with
the cause, confidence, meter and the meter's unit (table ``support_diagnosis_log``, migration
``d001_dashboard``). The diagnosis stays read-only on the ledger; a failure to log never fails it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Engine, Index, Integer, String, and_, func, literal, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from prabayar.support.engine import DiagnosisEngine, DiagnosisRequest
from prabayar.support.errors import SupportError
from prabayar.support.models import TicketRow
from prabayar.support.present import WIB
from prabayar.support.result import Cause, Diagnosis
from prabayar.support.text import Text
from prabayar.vending.models import Base, Customer, Meter, Purchase, Unit
from prabayar.vending.types import UTCDateTime

log = logging.getLogger("prabayar.support.dashboard")

MAX_HOURLY_DAYS = 14
MAX_DAILY_DAYS = 92
#: causes that are not a failed entry's fault (kept in the log, left out of "failed-entry causes")
NOT_FAILURES = frozenset({Cause.NO_FAULT_FOUND.value})


class DiagnosisLogRow(Base):
    """One diagnosis run: when, what it concluded, for which meter and unit."""

    __tablename__ = "support_diagnosis_log"
    __table_args__ = (
        Index("ix_support_diagnosis_log_at", "at"),
        Index("ix_support_diagnosis_log_unit_at", "unit_code", "at"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    cause: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[str] = mapped_column(String(12))
    meter_number: Mapped[str | None] = mapped_column(String(13))
    unit_code: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))


class DashboardRangeError(SupportError):
    """A range that is empty, reversed or longer than the cap."""


class UnknownUnit(DashboardRangeError):
    """A weekly summary asked for a unit code that does not exist."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


# -- logging the diagnosis ----------------------------------------------------------------------


def record_diagnosis(engine: Engine, diagnosis: Diagnosis, *, source: str, at: datetime | None = None) -> None:
    """Log one diagnosis (cause, confidence, meter, the meter's unit). Never raises."""
    try:
        with Session(engine) as session, session.begin():
            unit = None
            if diagnosis.meter_number:
                unit = session.scalar(
                    select(Unit.code)
                    .join(Customer, Customer.unit_id == Unit.id)
                    .join(Meter, Meter.customer_id == Customer.id)
                    .where(Meter.meter_number == diagnosis.meter_number)
                )
            session.add(
                DiagnosisLogRow(
                    at=(at or _utcnow()).astimezone(UTC),
                    cause=diagnosis.cause.value,
                    confidence=diagnosis.confidence.value,
                    meter_number=diagnosis.meter_number,
                    unit_code=unit,
                    source=source[:16],
                )
            )
    except Exception:  # the log is a by-product: the customer still gets the diagnosis
        log.warning("could not log a diagnosis for the dashboard", exc_info=True)


class LoggedDiagnosisEngine(DiagnosisEngine):
    """The diagnosis engine that also logs each result for the dashboard."""

    def __init__(self, *args: Any, log_engine: Engine, source: str = "web", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log_engine = log_engine
        self.source = source

    def diagnose(self, request: DiagnosisRequest) -> Diagnosis:
        result = super().diagnose(request)
        record_diagnosis(self.log_engine, result, source=self.source, at=self.clock())
        return result


# -- series ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    """Whole WIB days ``first`` .. ``last`` (inclusive)."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.first, time(), WIB).astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), WIB).astimezone(UTC)

    def check(self, cap: int) -> DateRange:
        if not (2000 <= self.first.year <= 2199 and 2000 <= self.last.year <= 2199):
            raise DashboardRangeError(Text("Tanggal di luar 2000-2199.", "Dates must lie in 2000-2199."))
        if self.last < self.first:
            raise DashboardRangeError(
                Text("Tanggal akhir sebelum tanggal awal.", "The end date is before the start date.")
            )
        if self.days > cap:
            raise DashboardRangeError(Text(f"Rentang paling lama {cap} hari.", f"The range is at most {cap} days."))
        return self

    def buckets(self, bucket: str) -> list[str]:
        if bucket == "day":
            return [(self.first + timedelta(days=i)).isoformat() for i in range(self.days)]
        start = datetime.combine(self.first, time())
        return [(start + timedelta(hours=h)).strftime("%Y-%m-%d %H:00") for h in range(self.days * 24)]


@dataclass(frozen=True)
class SalesPoint:
    bucket: str  # "YYYY-MM-DD" or "YYYY-MM-DD HH:00", WIB
    sales: int
    amount: int  # sum of nominal (Rp)
    kwh: str  # sum of kWh, as a decimal string


@dataclass(frozen=True)
class CountPoint:
    bucket: str  # day (WIB) or unit code
    key: str  # the cause
    count: int


@dataclass(frozen=True)
class TicketPoint:
    day: str
    opened: int
    resolved: int
    response_breaches: int  # not taken up before response_due
    resolution_breaches: int  # not resolved before resolution_due


@dataclass(frozen=True)
class CampaignProgress:
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


@dataclass(frozen=True)
class WeeklySummary:
    unit_code: str
    unit_name: str
    week: DateRange
    sales: list[SalesPoint]
    causes: list[CountPoint]
    tickets: list[TicketPoint]
    campaigns: list[CampaignProgress] = field(default_factory=list)

    @property
    def total_sales(self) -> int:
        return sum(p.sales for p in self.sales)

    @property
    def total_amount(self) -> int:
        return sum(p.amount for p in self.sales)

    @property
    def total_failures(self) -> int:
        return sum(p.count for p in self.causes)

    def cause_totals(self) -> list[tuple[str, int]]:
        totals: dict[str, int] = {}
        for p in self.causes:
            totals[p.key] = totals.get(p.key, 0) + p.count
        return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def _bucket_expr(engine: Engine, column: Any, bucket: str) -> ColumnElement[Any]:
    """The WIB hour/day of a UTC timestamp column, as the database computes it."""
    if engine.dialect.name == "postgresql":
        local = func.timezone("Asia/Jakarta", column)
        return func.date_trunc(literal(bucket), local)
    fmt = "%Y-%m-%d %H:00" if bucket == "hour" else "%Y-%m-%d"
    return func.strftime(fmt, column, "+7 hours")


def _bucket_key(value: Any, bucket: str) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:00") if bucket == "hour" else value.date().isoformat()
    return str(value)


def _unit_filter(unit: str | None) -> ColumnElement[bool] | None:
    if not unit:
        return None
    return Customer.unit_id == select(Unit.id).where(Unit.code == unit).scalar_subquery()


class Dashboard:
    """Read-only queries for the utility's pictures (the faces render and export them)."""

    def __init__(self, engine: Engine, *, vending: Any | None = None, clock: Callable[[], datetime] | None = None):
        self.engine = engine
        self.vending = vending
        self.clock = clock or _utcnow

    def today(self) -> date:
        return self.clock().astimezone(WIB).date()

    def default_range(self, days: int = 7) -> DateRange:
        last = self.today()
        return DateRange(last - timedelta(days=days - 1), last)

    def units(self) -> list[tuple[str, str]]:
        with Session(self.engine) as session:
            return [(c, n) for c, n in session.execute(select(Unit.code, Unit.up3_name).order_by(Unit.code))]

    # ---------------------------------------------------------------------------------------------
    def sales(self, days: DateRange, bucket: str = "day", unit: str | None = None) -> list[SalesPoint]:
        """Sales (count, Rp nominal, kWh) per WIB hour or day, zero-filled."""
        if bucket not in ("hour", "day"):
            raise DashboardRangeError(Text("Satuan waktu: hour atau day.", "The bucket is hour or day."))
        days.check(MAX_HOURLY_DAYS if bucket == "hour" else MAX_DAILY_DAYS)
        b = _bucket_expr(self.engine, Purchase.created_at, bucket).label("b")
        query = select(b, func.count(), func.coalesce(func.sum(Purchase.nominal), 0), func.sum(Purchase.kwh)).where(
            Purchase.created_at >= days.start_utc, Purchase.created_at < days.end_utc
        )
        unit_cond = _unit_filter(unit)
        if unit_cond is not None:
            query = query.join(Customer, Customer.idpel == Purchase.idpel).where(unit_cond)
        found: dict[str, tuple[int, int, Any]] = {}
        with Session(self.engine) as session:
            for bval, n, amount, kwh in session.execute(query.group_by(b)):
                found[_bucket_key(bval, bucket)] = (int(n), int(amount or 0), kwh)
        points = []
        for key in days.buckets(bucket):
            n, amount, kwh = found.get(key, (0, 0, None))
            # kWh are stored in hundredths: the SUM of the scaled column, read back exactly
            points.append(SalesPoint(key, n, amount, _kwh_text(kwh)))
        return points

    def causes_by_day(self, days: DateRange, unit: str | None = None) -> list[CountPoint]:
        """Failed-entry causes (diagnosis runs) per WIB day."""
        days.check(MAX_DAILY_DAYS)
        b = _bucket_expr(self.engine, DiagnosisLogRow.at, "day").label("b")
        query = select(b, DiagnosisLogRow.cause, func.count()).where(*self._log_range(days, unit))
        with Session(self.engine) as session:
            rows = session.execute(query.group_by(b, DiagnosisLogRow.cause)).all()
        return sorted(
            (CountPoint(_bucket_key(bv, "day"), c, int(n)) for bv, c, n in rows), key=lambda p: (p.bucket, p.key)
        )

    def causes_by_unit(self, days: DateRange) -> list[CountPoint]:
        """Failed-entry causes per unit over the range (unit "-": meter unknown to the ledger)."""
        days.check(MAX_DAILY_DAYS)
        query = select(DiagnosisLogRow.unit_code, DiagnosisLogRow.cause, func.count()).where(
            *self._log_range(days, None)
        )
        with Session(self.engine) as session:
            rows = session.execute(query.group_by(DiagnosisLogRow.unit_code, DiagnosisLogRow.cause)).all()
        return sorted((CountPoint(u or "-", c, int(n)) for u, c, n in rows), key=lambda p: (p.bucket, p.key))

    @staticmethod
    def _log_range(days: DateRange, unit: str | None) -> list[ColumnElement[bool]]:
        conds = [
            DiagnosisLogRow.at >= days.start_utc,
            DiagnosisLogRow.at < days.end_utc,
            DiagnosisLogRow.cause.not_in(sorted(NOT_FAILURES)),
        ]
        if unit:
            conds.append(DiagnosisLogRow.unit_code == unit)
        return conds

    def tickets(self, days: DateRange, unit: str | None = None) -> list[TicketPoint]:
        """Tickets opened per WIB day; of those, how many are resolved and how many broke an SLA
        (response: not taken up by ``response_due``; resolution: not resolved by ``resolution_due``,
        counting open tickets whose deadline has passed)."""
        days.check(MAX_DAILY_DAYS)
        now = self.clock().astimezone(UTC)
        b = _bucket_expr(self.engine, TicketRow.created_at, "day").label("b")
        response_breach = or_(
            TicketRow.assigned_at > TicketRow.response_due,
            and_(TicketRow.assigned_at.is_(None), TicketRow.response_due < now),
        )
        resolution_breach = or_(
            TicketRow.resolved_at > TicketRow.resolution_due,
            and_(TicketRow.resolved_at.is_(None), TicketRow.resolution_due < now),
        )
        query = select(
            b,
            func.count(),
            func.count(TicketRow.resolved_at),
            func.count().filter(response_breach),
            func.count().filter(resolution_breach),
        ).where(TicketRow.created_at >= days.start_utc, TicketRow.created_at < days.end_utc)
        unit_cond = _unit_filter(unit)
        if unit_cond is not None:
            query = query.join(Customer, Customer.idpel == TicketRow.idpel).where(unit_cond)
        found: dict[str, tuple[int, int, int, int]] = {}
        with Session(self.engine) as session:
            for bv, opened, resolved, r1, r2 in session.execute(query.group_by(b)):
                found[_bucket_key(bv, "day")] = (int(opened), int(resolved), int(r1), int(r2))
        return [TicketPoint(d, *found.get(d, (0, 0, 0, 0))) for d in days.buckets("day")]

    def campaigns(self, *, limit: int = 20, unit: str | None = None) -> list[CampaignProgress]:
        """Key-change campaigns' progress (newest first), from the campaign use cases."""
        if self.vending is None or not hasattr(self.vending, "campaigns"):
            return []
        out = []
        infos = self.vending.campaigns(limit=limit)
        for info in infos:
            counts = info.counts
            if unit:
                info = self.vending.campaign(info.id, per_unit=True)
                match = [u.counts for u in info.units if u.unit_code == unit]
                if not match:
                    continue
                counts = match[0]
            out.append(
                CampaignProgress(
                    id=info.id, name=info.name, status=info.status, selected=counts.selected,
                    generated=counts.generated, delivered=counts.delivered, confirmed=counts.confirmed,
                    skipped=counts.skipped, stale=counts.stale, chunks_total=info.chunks_total,
                    chunks_done=info.chunks_done,
                )
            )  # fmt: skip
        return out

    def weekly_summary(self, unit: str, week_of: date | None = None) -> WeeklySummary:
        """One unit's week (Monday..Sunday, WIB) on one page: sales, causes, tickets, campaigns."""
        with Session(self.engine) as session:
            name = session.scalar(select(Unit.up3_name).where(Unit.code == unit))
        if name is None:
            raise UnknownUnit(Text(f"Unit {unit} tidak dikenal.", f"Unknown unit {unit}."))
        day = week_of or self.today()
        if not 2000 <= day.year <= 2199:
            raise DashboardRangeError(Text("Tanggal di luar 2000-2199.", "Dates must lie in 2000-2199."))
        monday = day - timedelta(days=day.weekday())
        week = DateRange(monday, monday + timedelta(days=6))
        return WeeklySummary(
            unit_code=unit,
            unit_name=name,
            week=week,
            sales=self.sales(week, "day", unit),
            causes=self.causes_by_day(week, unit),
            tickets=self.tickets(week, unit),
            campaigns=self.campaigns(unit=unit),
        )


def _kwh_text(value: Any) -> str:
    """A SUM over the scaled kWh column comes back as hundredths (int) or a Decimal already."""
    from decimal import Decimal

    if value is None:
        return "0.00"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return f"{Decimal(int(value)) / 100:.2f}"


def rows_for_csv(points: Iterable[Any]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a list of series points (dataclasses), for CSV export."""
    items = list(points)
    if not items:
        return [], []
    names = list(items[0].__dataclass_fields__)
    return names, [[getattr(p, n) for n in names] for p in items]
