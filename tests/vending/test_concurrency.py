"""Exactly-once sales under concurrency, and all-or-nothing commits (SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prabayar.vending import ReferenceConflict, VendingService
from prabayar.vending.db import create_engine_for
from prabayar.vending.demo import DEMO_CUSTOMERS
from prabayar.vending.keystore import MasterKey
from prabayar.vending.models import AuditRow, Meter, MonthlyUsage, Purchase

BUDI, SITI = DEMO_CUSTOMERS[0], DEMO_CUSTOMERS[1]
THREADS = 32
T = TypeVar("T")


def _all_at_once(calls: list[Callable[[], T]]) -> list[T | BaseException]:
    """Run the calls on their own threads, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T | BaseException:
        barrier.wait()
        try:
            return call()
        except Exception as exc:  # collected and asserted on by the test
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _count(service: VendingService, stmt: object) -> int:
    with Session(service.engine) as session:
        return int(session.scalar(stmt) or 0)  # type: ignore[call-overload]


def test_same_channel_reference_sells_once(service: VendingService) -> None:
    results = _all_at_once([lambda: service.purchase("BANKDEMO", "SAME-REF", BUDI.meter_number, 50_000)] * THREADS)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    tokens = {r.token for r in results}  # type: ignore[union-attr]
    assert len(tokens) == 1
    assert sum(not r.replayed for r in results) == 1  # type: ignore[union-attr]
    assert _count(service, select(func.count()).select_from(Purchase)) == 1
    purchases = select(func.count()).select_from(AuditRow).where(AuditRow.action == "purchase")
    assert _count(service, purchases) == 1
    assert service.inquiry(BUDI.meter_number).kwh_this_month == results[0].kwh  # type: ignore[union-attr]


def test_same_reference_racing_for_two_meters(service: VendingService) -> None:
    """The unique (channel, reference) constraint decides; the loser sees a conflict."""
    calls = [
        (lambda m=m: service.purchase("BANKDEMO", "RACE", m, 20_000))
        for m in [BUDI.meter_number, SITI.meter_number] * 8
    ]
    results = _all_at_once(calls)
    sold = [r for r in results if not isinstance(r, BaseException) and not r.replayed]
    assert len(sold) == 1
    winner = sold[0].meter_number
    for r in results:
        if isinstance(r, BaseException):
            assert isinstance(r, ReferenceConflict)
        else:
            assert r.meter_number == winner and r.token == sold[0].token
    assert _count(service, select(func.count()).select_from(Purchase)) == 1


def test_one_meter_many_buyers_distinct_increasing_tids(service: VendingService) -> None:
    calls = [(lambda i=i: service.purchase("H2HDEMO", f"P-{i}", BUDI.meter_number, 20_000)) for i in range(THREADS)]
    results = _all_at_once(calls)
    assert [r for r in results if isinstance(r, BaseException)] == []
    tids = [r.tid for r in results]  # type: ignore[union-attr]
    assert len(set(tids)) == THREADS
    with Session(service.engine) as session:
        in_commit_order = session.scalars(select(Purchase.tid).order_by(Purchase.id)).all()
        last_tid = session.scalar(select(Meter.last_tid).where(Meter.meter_number == BUDI.meter_number))
    assert list(in_commit_order) == sorted(in_commit_order)
    assert len(set(in_commit_order)) == THREADS
    assert last_tid == max(tids)
    total = sum((r.kwh for r in results), start=results[0].kwh * 0)  # type: ignore[union-attr]
    assert service.inquiry(BUDI.meter_number).kwh_this_month == total


def test_failure_between_token_and_commit_leaves_no_trace(
    service: VendingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def _meter_state() -> tuple[int | None, int, int, int]:
        with Session(service.engine) as session:
            return (
                session.scalar(select(Meter.last_tid).where(Meter.meter_number == BUDI.meter_number)),
                int(session.scalar(select(func.count()).select_from(Purchase)) or 0),
                int(session.scalar(select(func.count()).select_from(MonthlyUsage)) or 0),
                int(session.scalar(select(func.count()).select_from(AuditRow)) or 0),
            )

    before = _meter_state()
    original = VendingService._write

    def crash(self: VendingService, *args: object) -> None:
        original(self, *args)  # every row of the sale written, the token signed ...
        raise RuntimeError("power cut after the token was signed")  # ... and no commit

    monkeypatch.setattr(VendingService, "_write", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        service.purchase("BANKDEMO", "CRASH-1", BUDI.meter_number, 20_000)
    assert _meter_state() == before
    assert service.unsold_tokens(BUDI.meter_number) == []
    monkeypatch.setattr(VendingService, "_write", original)
    retry = service.purchase("BANKDEMO", "CRASH-1", BUDI.meter_number, 20_000)
    assert not retry.replayed
    assert _meter_state()[1] == before[1] + 1


def test_busy_database_answers_in_process(
    service: VendingService, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sale that cannot get its meter in time says 0099 (send advice), it does not hang."""
    from sqlalchemy import text

    from prabayar.vending import InProcess
    from prabayar.vending import db as vending_db

    if backend == "sqlite":
        monkeypatch.setattr(vending_db, "SQLITE_BUSY_TIMEOUT_MS", 100)
        busy = service
        holder = vending_db.claiming_session(service.engine)
    else:
        with service.engine.connect() as conn:
            schema = conn.execute(text("SHOW search_path")).scalar()
        url = service.engine.url.render_as_string(hide_password=False)
        busy = VendingService(
            vending_db.create_engine_for(url, schema=str(schema), lock_timeout_ms=100),
            service.key_store,
        )
        holder = vending_db.claiming_session(service.engine)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with holder as session:
            session.execute(select(Meter).where(Meter.meter_number == BUDI.meter_number).with_for_update()).all()
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(InProcess) as exc:
            busy.purchase("BANKDEMO", "BUSY-1", BUDI.meter_number, 20_000)
        assert exc.value.code == "0099"
    finally:
        release.set()
        thread.join()
    assert busy.purchase("BANKDEMO", "BUSY-1", BUDI.meter_number, 20_000).tid > 0
    if busy is not service:
        busy.engine.dispose()


_BUYER = """
import sys
from datetime import UTC, datetime
from prabayar.vending import VendingService
from prabayar.vending.db import create_engine_for
from prabayar.vending.keystore import MasterKey, SoftwareKeyStore
url, key, meter, prefix = sys.argv[1:5]
engine = create_engine_for(url)
clock = lambda: datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
service = VendingService(engine, SoftwareKeyStore(engine, MasterKey.from_base64(key)), clock=clock)
for i in range(12):
    service.purchase("H2HDEMO", f"{prefix}-{i}", meter, 20_000)
engine.dispose()
"""


def test_two_processes_on_one_sqlite_file(seeded_sqlite: Path, master_key: MasterKey, tmp_path: Path) -> None:
    """Across processes only SQLite's own lock (BEGIN IMMEDIATE + busy timeout) serialises."""
    target = tmp_path / "shared.sqlite3"
    shutil.copyfile(seeded_sqlite, target)
    url = f"sqlite:///{target}"
    buyers = [
        subprocess.Popen([sys.executable, "-c", _BUYER, url, master_key.to_base64(), BUDI.meter_number, name])
        for name in ("A", "B")
    ]
    assert [b.wait(timeout=120) for b in buyers] == [0, 0]
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            tids = session.scalars(select(Purchase.tid).order_by(Purchase.id)).all()
        assert len(tids) == 24 and list(tids) == sorted(set(tids))
    finally:
        engine.dispose()
