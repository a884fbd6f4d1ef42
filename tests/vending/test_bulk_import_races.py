"""Bulk import against other writers at the same time (PostgreSQL: real concurrent transactions).

A customer registered elsewhere (console, API, another import) while an import carries the same
IDPEL makes the import's INSERT hit the unique key. The batch must end in a typed outcome —
written again and compared with the other writer's row, or that row rejected with its reason —
never a traceback, never half a batch.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select, text

from prabayar.vending import VendingService, import_writer
from prabayar.vending.bulk_import import RowError
from prabayar.vending.db import reading_session
from prabayar.vending.import_writer import ACTION_UPDATED, ImportConflict, ImportSummary, _race
from prabayar.vending.models import AuditRow, Customer
from prabayar.vending.models import Meter as MeterRow
from prabayar.vending.synthetic_region import meter_number as meter

COLUMNS = "idpel,name,address,tariff,power_va,meter_number,sgc,tariff_index,krn,key_type,ea,dkga,base_date,unit,phone"


def row(serial: int) -> str:
    """A valid record, as test_bulk_import.row makes it (IDPEL 549 + serial, meter 45 + serial)."""
    return (
        f'549{serial:09d},PELANGGAN {serial},"JL. IMPOR {serial}, JAKARTA",R1,1300,{meter(serial)},'
        "123456,01,2,2,07,04,2014,54,081234567890"
    )


def idpel(serial: int) -> str:
    return f"549{serial:09d}"


def write(tmp_path: Path, records: list[str], name: str = "region.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([COLUMNS, *records]) + "\n", encoding="utf-8")
    return path


def audit_count(service: VendingService, action: str) -> int:
    with reading_session(service.engine) as s:
        return int(s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.action == action)) or 0)


POSTGRES_ONLY = pytest.mark.parametrize(
    "backend",
    [
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(
                    not os.environ.get("PRABAYAR_TEST_POSTGRES_URL"),
                    reason="needs PRABAYAR_TEST_POSTGRES_URL (concurrent transactions on PostgreSQL)",
                ),
            ],
        )
    ],
)


def register_uncommitted(conn: Connection, idpel: str, name: str) -> None:
    """Another writer's customer (no meter yet), inserted but not committed on ``conn``."""
    conn.execute(
        text(
            "INSERT INTO customers (idpel, name, address, unit_id, tariff_class_id, va, status, "
            "debt_remaining, angsuran_per_purchase) SELECT :idpel, :name, 'JL. KONSOL 1', u.id, t.id, 1300, "
            "'active', 0, 0 FROM units u, tariff_classes t WHERE u.code = '54' AND t.code = 'R1-1300'"
        ),
        {"idpel": idpel, "name": name},
    )


def wait_until_blocked(service: VendingService, holder: Connection) -> None:
    """Until a server process waits for the lock ``holder``'s transaction holds."""
    pid = holder.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    deadline = time.monotonic() + 20
    with service.engine.connect() as probe:
        while time.monotonic() < deadline:
            waiting = probe.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"), {"pid": pid}
            ).scalar_one()
            if waiting:
                return
            probe.rollback()  # (pg_stat_activity is a snapshot per transaction)
            time.sleep(0.05)
    raise AssertionError("the import never waited for the other writer")


def import_in_thread(
    service: VendingService, path: Path, **kw: object
) -> tuple[threading.Thread, list[ImportSummary], list[RowError], list[BaseException]]:
    done: list[ImportSummary] = []
    errors: list[RowError] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            done.append(service.import_customers(path, actor="operator", on_errors=errors.extend, **kw))  # type: ignore[arg-type]
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done, errors, failed


def customers_named(service: VendingService, idpel: str) -> list[tuple[str, str | None]]:
    with reading_session(service.engine) as s:
        return [
            (c.name, s.scalar(select(MeterRow.meter_number).where(MeterRow.customer_id == c.id)))
            for c in s.scalars(select(Customer).where(Customer.idpel == idpel))
        ]


@POSTGRES_ONLY
def test_a_customer_registered_during_the_import_is_then_compared(service: VendingService, tmp_path: Path) -> None:
    path = write(tmp_path, [row(i) for i in range(1, 6)])
    racer = idpel(3)
    with service.engine.connect() as other:
        other.begin()
        register_uncommitted(other, racer, "DARI KONSOL")
        thread, done, errors, failed = import_in_thread(service, path)
        wait_until_blocked(service, other)  # the import's INSERT waits on the other writer's row
        other.commit()
        thread.join(30)
    assert not failed and not errors
    # The batch was written again: the other writer's customer (no meter) got the file's meter and
    # values like any stored customer, with an audit entry; the rest were imported once.
    assert done[0].line() == "4 imported, 1 updated, 0 unchanged, 0 rejected"
    assert customers_named(service, racer) == [("PELANGGAN 3", meter(3))]
    assert audit_count(service, ACTION_UPDATED) == 1
    with reading_session(service.engine) as s:
        imported = s.scalar(select(func.count()).select_from(Customer).where(Customer.idpel.like("549%")))
    assert imported == 5


@POSTGRES_ONLY
def test_a_row_that_keeps_losing_the_race_is_rejected_with_its_reason(
    service: VendingService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_writer, "RACE_RETRIES", 0)  # no round written again: reject at once
    path = write(tmp_path, [row(i) for i in range(1, 6)])
    racer = idpel(2)
    with service.engine.connect() as other:
        other.begin()
        register_uncommitted(other, racer, "DARI KONSOL")
        thread, done, errors, failed = import_in_thread(service, path)
        wait_until_blocked(service, other)
        other.commit()
        thread.join(30)
    assert not failed
    assert done[0].line() == "4 imported, 0 updated, 0 unchanged, 1 rejected"
    assert errors == [
        RowError(3, "idpel", "another writer registered this IDPEL while the import ran; "
                 "run the import again to compare the row with it")
    ]  # fmt: skip
    assert customers_named(service, racer) == [("DARI KONSOL", None)]  # the first writer's row stands
    # The rest of that batch is in, whole; running the file again settles the rejected row.
    again = service.import_customers(path, actor="operator")
    assert again.line() == "0 imported, 1 updated, 4 unchanged, 0 rejected"


@POSTGRES_ONLY
def test_two_imports_of_overlapping_files_at_once(service: VendingService, tmp_path: Path) -> None:
    # The second file runs backwards through the overlap, so the two imports also deadlock.
    first = write(tmp_path, [row(i) for i in range(1, 401)], "a.csv")
    second = write(tmp_path, [row(i) for i in range(600, 200, -1)], "b.csv")
    a = import_in_thread(service, first, batch_size=50)
    b = import_in_thread(service, second, batch_size=50)
    for thread, *_ in (a, b):
        thread.join(120)
    assert not a[3] and not b[3], (a[3], b[3])
    assert not a[2] and not b[2]
    sa, sb = a[1][0], b[1][0]
    assert (sa.rows, sb.rows) == (400, 400)
    assert sa.imported + sb.imported == 600  # each customer was inserted by exactly one of them
    assert sa.unchanged + sb.unchanged == 200 and sa.updated == sb.updated == 0
    with reading_session(service.engine) as s:
        customers = s.scalar(select(func.count()).select_from(Customer).where(Customer.idpel.like("549%")))
        meters = s.scalar(select(func.count()).select_from(MeterRow).join(Customer).where(Customer.idpel.like("549%")))
        audits = s.scalar(
            select(func.count()).select_from(AuditRow).where(AuditRow.action == import_writer.ACTION_IMPORTED)
        )
    assert (customers, meters, audits) == (600, 600, 600)


def test_deadlocks_that_never_end_stop_the_import_with_a_typed_error() -> None:
    class Deadlock(Exception):
        sqlstate = "40P01"

    class Unique(Exception):
        sqlstate = "23505"

        class diag:
            message_detail = "Key (meter_number)=(45000000013) already exists."

    from sqlalchemy.exc import DBAPIError, IntegrityError

    assert _race(DBAPIError("INSERT", {}, Deadlock())) == ("idpel", None)
    assert _race(IntegrityError("INSERT", {}, Unique())) == ("meter_number", "45000000013")
    assert _race(DBAPIError("INSERT", {}, ValueError())) is None
    error = ImportConflict(2, 20001)
    assert "lines 2-20001" in error.message_en and "BARIS 2-20001" in error.message_id


def test_the_cli_reports_a_batch_that_kept_deadlocking_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from prabayar.cli import app
    from prabayar.config import get_settings
    from prabayar.vending.customer_import import CustomerImportUseCases

    def deadlocked(self: object, path: object, **kw: object) -> ImportSummary:
        raise ImportConflict(2, 20001)

    for name in ("PRABAYAR_DATABASE_URL", "PRABAYAR_MASTER_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PRABAYAR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setattr(CustomerImportUseCases, "import_customers", deadlocked)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        result = runner.invoke(app, ["import", "customers", str(write(tmp_path, [row(1)]))])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not the error escaping
    assert "0099" in result.output and "lines 2-20001 kept colliding" in result.output
    assert "Traceback" not in result.output
