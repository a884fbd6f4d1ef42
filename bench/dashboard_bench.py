"""How long do the dashboard's series take on a big ledger, next to the cheapest possible scan?

    PRABAYAR_DATABASE_URL=postgresql+psycopg://.../db .venv/bin/python bench/dashboard_bench.py [DAYS ...]

For each range (default 7 and 31 days, ending at the newest sale) it times
``Dashboard.sales(day)``, ``sales(hour)`` (at most 14 days), ``causes_by_day``, ``tickets`` and
the weekly summary, best of 3, and in the SAME run the reference: ``SELECT count(*)`` over the
same purchases range (the least work any per-day sales figure needs). The ratio is what to read;
absolute times depend on the machine and its load. Also prints whether PostgreSQL prunes the
monthly partitions (EXPLAIN of the daily sales query).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text

from prabayar.config import get_settings
from prabayar.support.dashboard import Dashboard, DateRange
from prabayar.support.present import WIB
from prabayar.vending.db import create_engine_for
from prabayar.vending.models import Purchase


def best(fn: Callable[[], Any], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str]) -> int:
    engine = create_engine_for(get_settings().resolved_database_url())
    dash = Dashboard(engine)
    with engine.connect() as conn:
        newest = conn.scalar(select(func.max(Purchase.created_at)))
        total = conn.scalar(select(func.count()).select_from(Purchase))
    if newest is None:
        print("no purchases")
        return 1
    last = newest.astimezone(WIB).date()
    print(f"{engine.dialect.name}: {total:,} purchases, newest {newest:%Y-%m-%d %H:%M} UTC")
    for days in [int(a) for a in argv] or [7, 31]:
        r = DateRange(last - timedelta(days=days - 1), last)
        with engine.connect() as conn:
            in_range = conn.scalar(
                select(func.count())
                .select_from(Purchase)
                .where(Purchase.created_at >= r.start_utc, Purchase.created_at < r.end_utc)
            )

        def reference(r: DateRange = r) -> None:
            with engine.connect() as conn:
                conn.scalar(
                    select(func.count())
                    .select_from(Purchase)
                    .where(Purchase.created_at >= r.start_utc, Purchase.created_at < r.end_utc)
                )

        ref = best(reference)
        hours = DateRange(max(r.first, r.last - timedelta(days=13)), r.last)
        rows = [
            ("sales per day", best(lambda r=r: dash.sales(r, "day"))),
            (f"sales per hour ({hours.days} d)", best(lambda h=hours: dash.sales(h, "hour"))),
            ("causes per day", best(lambda r=r: dash.causes_by_day(r))),
            ("tickets per day", best(lambda r=r: dash.tickets(r))),
        ]
        print(f"\n{days} days: {in_range:,} purchases in range; reference count(*) {ref * 1000:.1f} ms")
        for name, secs in rows:
            print(f"  {name:28s} {secs * 1000:8.1f} ms  = {secs / ref:5.2f} x reference")
    if engine.dialect.name == "postgresql":
        r = DateRange(last - timedelta(days=6), last)
        with engine.connect() as conn:
            plan = conn.execute(
                text(
                    "EXPLAIN SELECT date_trunc('day', timezone('Asia/Jakarta', created_at)) b, count(*) "
                    "FROM purchases WHERE created_at >= :s AND created_at < :e GROUP BY b"
                ),
                {"s": r.start_utc, "e": r.end_utc},
            ).scalars()
            scanned = sorted({line.split(" on ")[1].split()[0] for line in plan if " on purchases" in line})
        print(f"\nEXPLAIN (7 days): partitions scanned: {', '.join(scanned) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
