"""The utility's dashboard counts exactly what was sold, diagnosed and complained about
(SQLite always; PostgreSQL when PRABAYAR_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from prabayar.meter import ManualClock
from prabayar.support.dashboard import (
    MAX_HOURLY_DAYS,
    Dashboard,
    DashboardRangeError,
    DateRange,
    DiagnosisLogRow,
    LoggedDiagnosisEngine,
)
from prabayar.support.engine import DiagnosisRequest
from prabayar.vending import SoftwareKeyStore, VendingService
from prabayar.vending.db import create_engine_for, upgrade
from prabayar.vending.demo import seed_demo
from prabayar.vending.models import Purchase

from .conftest import BUDI, MASTER, SITI, START, World, mistype

POSTGRES_URL = os.environ.get("PRABAYAR_TEST_POSTGRES_URL")
DAY = date(2026, 11, 2)  # START is 10:00 WIB on this day


@pytest.fixture(params=["sqlite", "postgresql"])
def any_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "sqlite":
        yield request.getfixturevalue("world")
        return
    if not POSTGRES_URL:
        pytest.skip("needs PRABAYAR_TEST_POSTGRES_URL")
    schema = f"dash_test_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine_for(POSTGRES_URL, schema=schema)
    try:
        upgrade(engine=engine)
        clock = ManualClock(START)
        service = VendingService(engine, SoftwareKeyStore(engine, MASTER), clock=clock.now)
        seed_demo(service)
        yield World(service, clock, tmp_path)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _dashboard(world: World) -> Dashboard:
    return Dashboard(world.service.engine, vending=world.service, clock=world.clock.now)


def _logged(world: World) -> LoggedDiagnosisEngine:
    return LoggedDiagnosisEngine(world.sources(), clock=world.clock.now, log_engine=world.service.engine, source="test")


def test_sales_causes_and_tickets_equal_what_happened(any_world: World) -> None:
    w = any_world
    dash = _dashboard(w)
    week = DateRange(DAY - timedelta(days=1), DAY + timedelta(days=1))
    before_day = {p.bucket: p for p in dash.sales(week, "day")}
    with Session(w.service.engine) as s:
        seeded_today = s.scalar(select(func.count()).select_from(Purchase)) or 0

    w.meter(BUDI.meter_number)
    sales = [w.buy(BUDI.meter_number, 100_000), w.buy(BUDI.meter_number, 50_000), w.buy(SITI.meter_number, 20_000)]
    w.clock.advance(timedelta(hours=2))  # 12:06 WIB
    sales.append(w.buy(BUDI.meter_number, 20_000))

    day = {p.bucket: p for p in dash.sales(week, "day")}
    assert day[DAY.isoformat()].sales - before_day[DAY.isoformat()].sales == 4
    assert day[DAY.isoformat()].amount - before_day[DAY.isoformat()].amount == 190_000
    assert [p.bucket for p in dash.sales(week, "day")] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    with Session(w.service.engine) as s:
        assert s.scalar(select(func.count()).select_from(Purchase)) == seeded_today + 4
    hour = {p.bucket: p for p in dash.sales(DateRange(DAY, DAY), "hour")}
    assert len(hour) == 24
    assert hour["2026-11-02 10:00"].sales >= 3  # 10:02, 10:04, 10:06 WIB
    assert hour["2026-11-02 12:00"].sales >= 1
    # by unit: Budi's unit counts Budi's sales only
    budi_unit = dash.sales(DateRange(DAY, DAY), "day", unit=BUDI.unit)[0]
    assert budi_unit.sales >= 3

    # diagnoses: two typos and one "already used", each logged with Budi's unit
    engine = _logged(w)
    d1 = engine.diagnose(DiagnosisRequest(BUDI.meter_number, mistype(sales[0].token, 3)))
    d2 = engine.diagnose(DiagnosisRequest(BUDI.meter_number, mistype(sales[1].token, 5)))
    assert d1.cause.value == d2.cause.value == "typo"
    assert w.meters[BUDI.meter_number].enter_token(sales[0].token).kind.accepted
    d3 = engine.diagnose(DiagnosisRequest(BUDI.meter_number, sales[0].token))
    with Session(w.service.engine) as s:
        logged = s.scalars(select(DiagnosisLogRow).order_by(DiagnosisLogRow.id)).all()
        assert [r.cause for r in logged] == ["typo", "typo", d3.cause.value]
        assert {r.unit_code for r in logged} == {BUDI.unit}
        assert {r.source for r in logged} == {"test"}
    by_day = {(p.bucket, p.key): p.count for p in dash.causes_by_day(week)}
    assert by_day[(DAY.isoformat(), "typo")] == 2
    if d3.cause.value != "no_fault_found":
        assert by_day[(DAY.isoformat(), d3.cause.value)] == 1
    by_unit = {(p.bucket, p.key): p.count for p in dash.causes_by_unit(week)}
    assert by_unit[(BUDI.unit, "typo")] == 2
    assert dash.causes_by_day(week, unit="NOPE") == []

    # tickets: one opened; past its response deadline without being taken up it is a breach
    tickets = w.tickets()
    t = tickets.open(channel="cc123", identifier=BUDI.idpel, actor="agent", diagnosis=d1)
    points = {p.day: p for p in dash.tickets(week)}
    assert points[DAY.isoformat()].opened == 1 and points[DAY.isoformat()].response_breaches == 0
    w.clock.advance(t.response_due - w.clock.now() + timedelta(minutes=1))
    points = {p.day: p for p in dash.tickets(week)}
    assert points[DAY.isoformat()].response_breaches == 1
    assert dash.tickets(week, unit=BUDI.unit)[1].opened == 1

    summary = dash.weekly_summary(BUDI.unit, DAY)
    assert summary.week.first.weekday() == 0 and summary.week.days == 7
    assert summary.total_failures == 2 + (0 if d3.cause.value == "no_fault_found" else 1)
    assert summary.cause_totals()[0] == ("typo", 2)
    assert sum(p.opened for p in summary.tickets) == 1


def test_ranges_are_capped_and_checked(world: World) -> None:
    dash = _dashboard(world)
    with pytest.raises(DashboardRangeError):
        dash.sales(DateRange(DAY, DAY + timedelta(days=MAX_HOURLY_DAYS)), "hour")
    with pytest.raises(DashboardRangeError):
        dash.sales(DateRange(DAY, DAY - timedelta(days=1)), "day")
    with pytest.raises(DashboardRangeError):
        dash.sales(DateRange(DAY, DAY), "minute")
    with pytest.raises(DashboardRangeError):
        dash.weekly_summary("99999", DAY)


def test_a_failing_log_never_fails_the_diagnosis(world: World) -> None:
    world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    with world.service.engine.begin() as conn:
        conn.execute(text("DROP TABLE support_diagnosis_log"))
    d = _logged(world).diagnose(DiagnosisRequest(BUDI.meter_number, mistype(sale.token, 4)))
    assert d.cause.value == "typo"


def test_campaign_progress_comes_from_the_campaign_use_cases_and_per_unit(world: World) -> None:
    from types import SimpleNamespace as NS

    counts = NS(selected=10, generated=8, delivered=5, confirmed=2, skipped=1, stale=0)
    unit_counts = NS(selected=4, generated=4, delivered=3, confirmed=1, skipped=0, stale=0)
    info = NS(id=7, name="KRN 3", status="running", counts=counts, chunks_total=2, chunks_done=1, units=())
    detailed = NS(**{**info.__dict__, "units": (NS(unit_code="54", counts=unit_counts),)})
    vending = NS(campaigns=lambda limit: [info], campaign=lambda cid, per_unit: detailed)
    dash = Dashboard(world.service.engine, vending=vending, clock=world.clock.now)
    (all_units,) = dash.campaigns()
    assert (all_units.selected, all_units.delivered, all_units.confirmed, all_units.chunks_done) == (10, 5, 2, 1)
    (unit,) = dash.campaigns(unit="54")
    assert (unit.selected, unit.delivered, unit.confirmed) == (4, 3, 1)
    assert dash.campaigns(unit="51") == []


def test_charts_escape_labels_and_draw_one_bar_per_value() -> None:
    from prabayar.web.charts import Progress, Series, bar_chart, progress_chart

    svg = str(bar_chart(["<b>x</b>", "y"], [Series("<script>", [3, 0], "#000")], title="t & u"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
    assert svg.count('class="bar"') == 1 and "t &amp; u" in svg
    grouped = str(bar_chart(["a"], [Series("o", [2], "#111"), Series("b", [1], "#222")], title="g", stacked=False))
    assert grouped.count('class="bar"') == 2
    progress = str(progress_chart([Progress("#1 c", 10, [("done", 4, "#0f0"), ("sent", 3, "#00f")])], title="p"))
    assert progress.count('class="bar"') == 2 and "4 / 10" in progress
