"""Vending throughput: purchases per second through the use-case layer, with latency percentiles.

Runs on the embedded SQLite default and, when reachable, on PostgreSQL
(``PRABAYAR_BENCH_POSTGRES_URL``, else ``PRABAYAR_TEST_POSTGRES_URL``; a throw-away schema is
created and dropped). Every purchase is the real thing: a claim on the meter row, pricing, a
TID, key derivation (cached), STS encryption, the ledger row, monthly usage and the audit
entry in one transaction. Results are printed and written to docs/performance.md under
"## Vending" (``--no-write`` to skip).

Scenarios: one thread over many meters; 8 threads over many meters; 8 threads on one meter
(the worst case: every sale waits for the previous one); idempotent retries of sold references.
"""

from __future__ import annotations

import os
import platform
import re
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, select, text

from prabayar.vending import VendingService
from prabayar.vending.db import claiming_session, create_engine_for, upgrade
from prabayar.vending.demo import demo_meter_number, seed_demo
from prabayar.vending.keystore import MasterKey, SoftwareKeyStore
from prabayar.vending.models import Customer, Meter, TariffClass, Unit

N = int(os.environ.get("VENDING_BENCH_N", "2000"))
METERS = 500
THREADS = 8
DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
NOW = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)


@dataclass
class Outcome:
    scenario: str
    count: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def add_bench_meters(service: VendingService) -> tuple[list[str], str]:
    """500 household meters in Jakarta plus one large industrial meter (no monthly cap issue)."""
    numbers = []
    with claiming_session(service.engine) as session:
        unit = session.scalars(select(Unit).where(Unit.code == "54")).one()
        r1 = session.scalars(select(TariffClass).where(TariffClass.code == "R1-1300")).one()
        i4 = session.scalars(select(TariffClass).where(TariffClass.code == "I4")).one()
        for i in range(METERS + 1):
            big = i == METERS
            customer = Customer(
                idpel=f"5499{i:08d}", name=f"BENCH {i}", address="BENCH",
                unit_id=unit.id, tariff_class_id=(i4 if big else r1).id,
                va=30_000_000 if big else 1300, status="active",
                debt_remaining=0, angsuran_per_purchase=0,
            )  # fmt: skip
            session.add(customer)
            session.flush()
            number = demo_meter_number(20_000_000 + i)
            session.add(
                Meter(
                    meter_number=number, customer_id=customer.id, status="active",
                    key_type=2, sgc="123456", tariff_index="01", krn=2, ken=255,
                    algorithm="07", base_date="14", dkga="04", last_tid=0,
                )
            )  # fmt: skip
            numbers.append(number)
    return numbers[:-1], numbers[-1]


def timed(calls: list[Callable[[], object]], threads: int, scenario: str) -> Outcome:
    latencies: list[float] = []
    lock = threading.Lock()

    def run(call: Callable[[], object]) -> None:
        start = time.perf_counter()
        call()
        elapsed = (time.perf_counter() - start) * 1000
        with lock:
            latencies.append(elapsed)

    start = time.perf_counter()
    if threads == 1:
        for call in calls:
            run(call)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(run, calls))
    return Outcome(scenario, len(calls), time.perf_counter() - start, latencies)


def scenarios(service: VendingService) -> list[Outcome]:
    meters, big = add_bench_meters(service)
    # Warm-up: derive and cache every meter's key, as a running server would have.
    for number in meters:
        service.purchase("H2HDEMO", f"warm-{number}", number, 20_000)
    results = []
    results.append(timed(
        [(lambda i=i: service.purchase("H2HDEMO", f"s-{i}", meters[i % METERS], 20_000))
         for i in range(N)], 1, "1 thread, 500 meters",
    ))  # fmt: skip
    results.append(timed(
        [(lambda i=i: service.purchase("H2HDEMO", f"c-{i}", meters[i % METERS], 20_000))
         for i in range(N)], THREADS, f"{THREADS} threads, 500 meters",
    ))  # fmt: skip
    hot = max(N // 4, 50)
    results.append(timed(
        [(lambda i=i: service.purchase("H2HDEMO", f"h-{i}", big, 1_000_000))
         for i in range(hot)], THREADS, f"{THREADS} threads, 1 meter",
    ))  # fmt: skip
    results.append(timed(
        [(lambda i=i: service.purchase("H2HDEMO", f"s-{i}", meters[i % METERS], 20_000))
         for i in range(N // 2)], THREADS, f"{THREADS} threads, idempotent retries",
    ))  # fmt: skip
    return results


def build_service(engine: Engine) -> VendingService:
    upgrade(engine=engine)
    key_store = SoftwareKeyStore(engine, MasterKey.generate())
    service = VendingService(engine, key_store, clock=lambda: NOW)
    seed_demo(service)
    return service


@contextmanager
def sqlite_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine_for(f"sqlite:///{tmp}/bench.sqlite3")
        yield engine
        engine.dispose()


@contextmanager
def postgres_engine(url: str) -> Iterator[Engine]:
    schema = f"vending_bench_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine_for(url, schema=schema)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres_url() -> str | None:
    url = os.environ.get("PRABAYAR_BENCH_POSTGRES_URL") or os.environ.get(
        "PRABAYAR_TEST_POSTGRES_URL"
    )
    if not url:
        return None
    try:
        probe = create_engine(url)
        with probe.connect():
            pass
        probe.dispose()
    except Exception as exc:  # the benchmark reports and skips an unreachable server
        print(f"PostgreSQL not reachable ({type(exc).__name__}); skipping it", file=sys.stderr)
        return None
    return url


def table(backend: str, outcomes: list[Outcome]) -> list[str]:
    lines = [
        f"| {backend} | scenario | purchases | purchases/s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for o in outcomes:
        lines.append(
            f"| | {o.scenario} | {o.count} | {o.rate:,.0f} | {o.pct(50):.1f} | "
            f"{o.pct(95):.1f} | {o.pct(99):.1f} | {max(o.latencies_ms):.1f} |"
        )
    return lines


def write_section(body: str) -> None:
    """Replace (or append) the "## Vending" section; other sections stay as they are."""
    current = DOC.read_text() if DOC.exists() else "# Performance\n"
    section = "## Vending (`bench/vending_bench.py`)\n\n" + body.strip() + "\n"
    pattern = re.compile(r"^## Vending\b.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _m: section + "\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + section
    DOC.write_text(updated.rstrip("\n") + "\n")


def main() -> None:
    backends: list[tuple[str, Callable[[], AbstractContextManager[Engine]]]] = [
        ("SQLite (WAL)", sqlite_engine)
    ]
    url = postgres_url()
    if url:
        backends.append(("PostgreSQL 15", lambda: postgres_engine(url)))
    lines: list[str] = []
    load_before = os.getloadavg()[0]
    for name, factory in backends:
        with factory() as engine:
            outcomes = scenarios(build_service(engine))
        for o in outcomes:
            print(f"{name:14} {o.scenario:32} {o.rate:8,.0f}/s  p50 {o.pct(50):6.1f} ms  "
                  f"p95 {o.pct(95):6.1f} ms  p99 {o.pct(99):6.1f} ms")  # fmt: skip
        lines += [*table(name, outcomes), ""]
    cpu = os.cpu_count()
    load = f"{load_before:.1f} → {os.getloadavg()[0]:.1f}"
    body = "\n".join([
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, {cpu} cores, "
        f"CPython {platform.python_version()}, one process, 1-minute load average {load} "
        f"(above ~1.0 means other work shared the 2 cores); N = {N} purchases per scenario "
        "(a quarter for the hot meter). Each purchase is a full sale through "
        "`VendingService.purchase` (claim, price, TID, STS encryption, ledger, usage, audit).",
        "",
        *lines,
        "Reading: SQLite serialises all writers (one `BEGIN IMMEDIATE` at a time), so threads "
        "add latency but not throughput; PostgreSQL only serialises sales for the same meter "
        "(`SELECT … FOR UPDATE`), so independent meters run in parallel. Idempotent retries "
        "are a single indexed read. Decoder keys are cached after the first sale per meter.",
    ])  # fmt: skip
    if "--no-write" not in sys.argv:
        write_section(body)
        print(f"written to {DOC}")


if __name__ == "__main__":
    main()
