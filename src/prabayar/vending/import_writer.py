"""The batch writer of the bulk import: set-based merges, one transaction per batch.

Each batch of validated rows (:mod:`prabayar.vending.bulk_import`) whose keys no earlier row
of the file claimed (:mod:`prabayar.vending.import_claims`: the first row wins) is loaded into a
temporary staging table — with ``COPY`` on PostgreSQL (psycopg 3 ``cursor.copy``), with one
``executemany`` on SQLite — and merged with a handful of set-based statements:

1. rows whose customer and meter are both unknown are *fresh*: ``INSERT … SELECT`` into
   ``customers``, ``meters`` and ``audit_log`` (one audit row per new customer/meter);
2. the others are read back with what is stored and classified in Python: equal → unchanged,
   different → updated (one audit row with the old and new values), inconsistent (meter on
   another customer, meter replaced, customer already has another meter) → rejected.

The batch commits as a whole: a row is either completely in or completely out. When another
writer takes one of its keys meanwhile, the batch is rolled back and written again
(:meth:`BatchWriter._write_racing`). On PostgreSQL two writers merge batches at once
(:func:`run_batches`).
"""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.exc import DBAPIError

from prabayar.vending.bulk_import import ROW_FIELDS, RowError, ValidRow
from prabayar.vending.db import CLAIM, SQLITE_BUSY_TIMEOUT_MS, WriterBusy, _sqlite_writer_lock
from prabayar.vending.errors import VendingError
from prabayar.vending.import_claims import KeyClaims, close_dropping, drop_temp_tables
from prabayar.vending.models import CustomerStatus, MeterStatus
from prabayar.vending.onboarding import STOCK_IN
from prabayar.vending.types import UTCDateTime

DEFAULT_BATCH_SIZE = 20_000
#: Batch writers merging at once on PostgreSQL (each its own connection and server process).
WRITERS_POSTGRES = 2
#: Rounds a batch is written again from the start when another writer took one of its keys.
RACE_RETRIES = 3
#: Further rounds for deadlocks (which name no row to leave out) before the import stops.
MAX_DEADLOCK_ROUNDS = 10
ACTION_IMPORTED = "customer.import"
ACTION_UPDATED = "customer.import_update"

_CUSTOMER_FIELDS = ("name", "address", "unit_id", "tariff_class_id", "va", "phone")
_METER_FIELDS = ("key_type", "sgc", "tariff_index", "krn", "algorithm", "base_date", "dkga")
_IX = {name: i for i, name in enumerate(ROW_FIELDS)}

_STAGING_COLUMNS = (
    "line BIGINT NOT NULL, idpel VARCHAR(12) NOT NULL, name VARCHAR(25) NOT NULL, "
    "address VARCHAR(120) NOT NULL, unit_id INTEGER NOT NULL, tariff_class_id INTEGER NOT NULL, "
    "va BIGINT NOT NULL, phone VARCHAR(20), meter_number VARCHAR(13) NOT NULL, "
    "key_type INTEGER NOT NULL, sgc VARCHAR(6) NOT NULL, tariff_index VARCHAR(2) NOT NULL, "
    "krn INTEGER NOT NULL, algorithm VARCHAR(2) NOT NULL, base_date VARCHAR(2) NOT NULL, "
    "dkga VARCHAR(2) NOT NULL, fresh INTEGER NOT NULL DEFAULT 1"
)
_COLUMN_LIST = ", ".join(ROW_FIELDS)


@dataclass
class ImportSummary:
    """What an import did; ``imported + updated + unchanged + rejected == rows read``."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    @property
    def rows(self) -> int:
        return self.imported + self.updated + self.unchanged + self.rejected

    def add(self, other: ImportSummary) -> None:
        self.imported += other.imported
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected

    def line(self) -> str:
        """The CLI's last line, exactly ``N imported, U updated, M unchanged, K rejected``."""
        return f"{self.imported} imported, {self.updated} updated, {self.unchanged} unchanged, {self.rejected} rejected"


@dataclass
class Batch:
    """Validated rows and the rejections of the same stretch of the file (in file order)."""

    rows: list[ValidRow]
    rejected: list[RowError]
    rejected_rows: int
    position: int = 0


@dataclass(frozen=True)
class BatchOutcome:
    summary: ImportSummary
    errors: list[RowError]


class BatchWriter:
    """Writes batches over one connection; use as a context manager (temp tables live on it)."""

    def __init__(
        self,
        engine: Engine,
        *,
        actor: str,
        reason: str,
        at: datetime,
        source: str,
        has_phone: bool,
        dry_run: bool = False,
        retries: int | None = None,
    ) -> None:
        self.engine = engine
        self.retries = RACE_RETRIES if retries is None else retries
        self.actor = actor
        self.at = at
        self.dry_run = dry_run
        self.has_phone = has_phone
        self.postgres = engine.dialect.name == "postgresql"
        self._reason = reason
        self._source = source
        # The audit detail of a fresh row is built by the database: this is its JSON tail.
        self._detail_tail = f', "reason": {json.dumps(reason)}, "source": {json.dumps(source)}}}'

        self._conn: Connection | None = None
        self._lock: threading.RLock | None = None

    # -- connection and temporary tables -------------------------------------------------
    def __enter__(self) -> BatchWriter:
        self._conn = self.engine.connect()
        temp = "TEMPORARY" if self.postgres else "TEMP"
        with self._conn.begin():
            self._drop_staging(self._conn)
            # On PostgreSQL the batch table empties itself at each commit (cheaper than DELETE).
            tail = " ON COMMIT DELETE ROWS" if self.postgres else ""
            self._conn.exec_driver_sql(f"CREATE {temp} TABLE imp_batch ({_STAGING_COLUMNS}){tail}")
        if not self.postgres:
            self._lock = _sqlite_writer_lock(self.engine)
        return self

    def __exit__(self, *exc: object) -> None:
        conn, self._conn = self._conn, None
        close_dropping(conn, self.postgres, ("imp_batch",))

    def _drop_staging(self, conn: Connection) -> None:
        drop_temp_tables(conn, self.postgres, ("imp_batch",))

    # -- one batch -------------------------------------------------------------------------
    def write(self, rows: list[ValidRow]) -> BatchOutcome:
        """Merge one batch (its rows are unique within the batch) in one transaction."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("use the BatchWriter as a context manager")
        if self._lock is not None and not self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise WriterBusy("no write slot on the SQLite database within the busy timeout")
        try:
            return self._write_racing(conn.execution_options(**{CLAIM: True}), rows)
        finally:
            if self._lock is not None:
                self._lock.release()

    def _write_racing(self, conn: Connection, rows: list[ValidRow]) -> BatchOutcome:
        """``_write`` in a transaction, again when another writer raced it.

        A customer or meter registered by someone else (the console, the API, another import)
        after this batch compared its rows with what is stored makes the INSERT fail on the
        unique key (or deadlock with another import). The batch is rolled back whole and
        written again: now the other writer's row is stored, and this row is compared with it
        like any stored row — the outcome of the two writers one after the other, the first
        one's insert standing. After ``self.retries`` such rounds a row that still collides
        is rejected with the reason instead (each round then removes one row, so it ends).
        """
        raced: list[RowError] = []
        rounds = 0
        first, last = rows[0][0], rows[-1][0]
        while True:
            try:
                with conn.begin():
                    outcome = self._write(conn, rows)
                break
            except DBAPIError as exc:
                race = _race(exc)
                if race is None:
                    raise
                rounds += 1
                column, value = race
                culprit = next((r for r in rows if value is not None and r[_IX[column]] == value), None)
                if rounds <= self.retries or culprit is None:
                    if rounds > self.retries + MAX_DEADLOCK_ROUNDS:
                        raise ImportConflict(first, last) from exc
                    continue
                what = "IDPEL" if column == "idpel" else "meter number"
                raced.append(
                    RowError(
                        culprit[0], column,
                        f"another writer registered this {what} while the import ran; "
                        "run the import again to compare the row with it",
                    )
                )  # fmt: skip
                rows = [r for r in rows if r is not culprit]
        if raced:
            outcome.summary.rejected += len(raced)
            outcome.errors.extend(raced)
            outcome.errors.sort(key=lambda e: e.line)
        return outcome

    def _write(self, conn: Connection, rows: list[ValidRow]) -> BatchOutcome:
        summary = ImportSummary()
        errors: list[RowError] = []
        if self.postgres:
            # While a region loads, the statistics of customers/meters are those of a nearly
            # empty table, and the planner would hash or merge them whole for every batch
            # (quadratic time). Nested loops probing their unique indexes are always right for
            # a batch against a big table; JIT compilation costs more than these plans gain.
            # (Turning sequential scans off as well made the foreign-key checks twice as slow.)
            for setting in ("enable_hashjoin", "enable_mergejoin", "jit"):
                conn.exec_driver_sql(f"SET LOCAL {setting} = off")
        if not self.postgres:  # (on PostgreSQL the table empties itself at each commit)
            conn.exec_driver_sql("DELETE FROM imp_batch")
        self._load(conn, rows)
        by_line = {row[0]: row for row in rows}
        fresh = len(rows)
        # Meters registered in stock (not yet installed) are installed from it when their key
        # parameters agree; a broken one or one with other parameters is refused. (An empty
        # stock, the usual case while a region loads, saves a probe per row.)
        in_stock: Sequence[Any] = ()
        if conn.exec_driver_sql("SELECT 1 FROM meter_stock LIMIT 1").first() is not None:
            in_stock = conn.exec_driver_sql(
                "SELECT b.line, s.status, s.key_type, s.sgc, s.tariff_index, s.krn, s.algorithm, s.base_date, "
                "s.dkga FROM imp_batch b JOIN meter_stock s ON s.meter_number = b.meter_number"
            ).all()
        from_stock: set[str] = set()
        if in_stock:
            refused: list[int] = []
            for st in in_stock:
                row = by_line[st[0]]
                if st[1] != STOCK_IN:
                    errors.append(RowError(row[0], "meter_number", f"this meter is in stock marked {st[1]}"))
                elif tuple(st[2:]) != tuple(row[_IX[f]] for f in _METER_FIELDS):
                    errors.append(RowError(row[0], "meter_number", "this meter is in stock with other key parameters"))
                else:
                    from_stock.add(row[8])
                    continue
                refused.append(row[0])
            if refused:
                summary.rejected += len(refused)
                fresh -= len(refused)
                conn.execute(text("DELETE FROM imp_batch WHERE line IN :lines").bindparams(
                    bindparam("lines", expanding=True)), {"lines": refused})  # fmt: skip
        # 2. Rows that touch a stored customer or meter: compare them with what is stored.
        stored = conn.exec_driver_sql(
            "SELECT b.line, c.id, c.name, c.address, c.unit_id, c.tariff_class_id, c.va, c.phone, "
            "m.id, m.customer_id, m.status, m.replaced_by, m.key_type, m.sgc, m.tariff_index, "
            "m.krn, m.algorithm, m.base_date, m.dkga, mc.idpel, "
            "CASE WHEN m.id IS NULL THEN (SELECT o.meter_number FROM meters o WHERE o.customer_id = c.id "
            f" AND o.status IN ('{MeterStatus.ACTIVE.value}', '{MeterStatus.BLOCKED.value}') LIMIT 1) END, c.status "
            "FROM imp_batch b LEFT JOIN customers c ON c.idpel = b.idpel "
            "LEFT JOIN meters m ON m.meter_number = b.meter_number "
            "LEFT JOIN customers mc ON mc.id = m.customer_id WHERE c.id IS NOT NULL OR m.id IS NOT NULL ORDER BY b.line"
        ).all()
        if stored:  # 3. the others are fresh (in a first load: every row, nothing to mark)
            conn.exec_driver_sql(
                "UPDATE imp_batch SET fresh = 0 WHERE "
                "EXISTS (SELECT 1 FROM customers c WHERE c.idpel = imp_batch.idpel) OR "
                "EXISTS (SELECT 1 FROM meters m WHERE m.meter_number = imp_batch.meter_number)"
            )
        changes: list[tuple[ValidRow, int, int | None, dict[str, list[Any]]]] = []
        for s in stored:
            row = by_line[s[0]]
            verdict = self._classify(row, s)
            if isinstance(verdict, RowError):
                errors.append(verdict)
                summary.rejected += 1
            elif verdict is None:
                summary.unchanged += 1
            else:
                changes.append((row, s[1], s[8], verdict))
                summary.updated += 1
        fresh -= len(stored)
        summary.imported = fresh
        if not self.dry_run:
            if fresh:
                self._insert_fresh(conn, fresh)
            if changes:
                self._apply_changes(conn, changes)
            if from_stock:
                installed = conn.execute(
                    text("SELECT meter_number FROM meters WHERE meter_number IN :numbers").bindparams(
                        bindparam("numbers", expanding=True)
                    ),
                    {"numbers": sorted(from_stock)},
                ).scalars()
                conn.execute(
                    text("DELETE FROM meter_stock WHERE meter_number IN :numbers").bindparams(
                        bindparam("numbers", expanding=True)
                    ),
                    {"numbers": sorted(installed)},
                )
        errors.sort(key=lambda e: e.line)
        return BatchOutcome(summary, errors)

    def _load(self, conn: Connection, rows: list[ValidRow]) -> None:
        if self.postgres:
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cur, cur.copy(f"COPY imp_batch ({_COLUMN_LIST}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in ROW_FIELDS)
            conn.exec_driver_sql(f"INSERT INTO imp_batch ({_COLUMN_LIST}) VALUES ({marks})", rows)

    def _classify(self, row: ValidRow, s: Any) -> RowError | dict[str, list[Any]] | None:
        """None = unchanged; a dict of field -> [old, new] = update; RowError = rejected."""
        line = row[0]
        customer_id, meter_id = s[1], s[8]
        if meter_id is not None:
            if s[10] == MeterStatus.REPLACED.value:
                replaced_by = f" by {s[11]}" if s[11] else ""
                return RowError(
                    line, "meter_number", f"this meter was replaced{replaced_by}; it cannot be installed again"
                )
            if s[10] == MeterStatus.REMOVED.value:
                return RowError(
                    line, "meter_number", "this meter was removed; install it again with `prabayar meters install`"
                )
            if customer_id is None or s[9] != customer_id:
                return RowError(line, "meter_number", f"this meter is installed on IDPEL {s[19]}")
        elif s[21] == CustomerStatus.CLOSED.value:
            return RowError(line, "idpel", "this customer is closed (berhenti langganan)")
        elif s[20] is not None:
            return RowError(
                line, "idpel",
                f"this customer already has meter {s[20]}; a different meter is a meter replacement",
            )  # fmt: skip
        diff: dict[str, list[Any]] = {}
        stored_customer = s[2:8]
        for i, name in enumerate(_CUSTOMER_FIELDS):
            if name == "phone" and not self.has_phone:
                continue
            new = row[_IX[name]]
            if stored_customer[i] != new:
                diff[name] = [stored_customer[i], new]
        if meter_id is None:
            diff["meter_number"] = [None, row[_IX["meter_number"]]]
        else:
            stored_meter = s[12:19]
            for i, name in enumerate(_METER_FIELDS):
                new = row[_IX[name]]
                if stored_meter[i] != new:
                    diff[name] = [stored_meter[i], new]
        return diff or None

    def _insert_fresh(self, conn: Connection, expected: int) -> None:
        phone = "phone" if self.has_phone else "NULL"
        inserted = conn.exec_driver_sql(
            "INSERT INTO customers (idpel, name, address, unit_id, tariff_class_id, va, phone, "
            "status, debt_remaining, angsuran_per_purchase) "
            f"SELECT idpel, name, address, unit_id, tariff_class_id, va, {phone}, "
            f"'{CustomerStatus.ACTIVE.value}', 0, 0 FROM imp_batch WHERE fresh = 1 ORDER BY line"
        ).rowcount
        if inserted != expected:  # pragma: no cover - another writer raced this batch
            raise RuntimeError(f"expected to insert {expected} customers, inserted {inserted}")
        conn.exec_driver_sql(
            "INSERT INTO meters (meter_number, customer_id, status, replaced_by, key_type, sgc, "
            "tariff_index, krn, ken, algorithm, base_date, dkga, last_tid) "
            f"SELECT b.meter_number, c.id, '{MeterStatus.ACTIVE.value}', NULL, b.key_type, b.sgc, "
            "b.tariff_index, b.krn, 255, b.algorithm, b.base_date, b.dkga, 0 "
            "FROM imp_batch b JOIN customers c ON c.idpel = b.idpel WHERE b.fresh = 1 ORDER BY b.line"
        )
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, meter_number, detail) "
                "SELECT :at, :actor, :action, meter_number, "
                ":head || idpel || :mid || CAST(line AS VARCHAR(20)) || :tail "
                "FROM imp_batch WHERE fresh = 1 ORDER BY line"
            ).bindparams(bindparam("at", type_=UTCDateTime())),
            {
                "at": self.at,
                "actor": self.actor,
                "action": ACTION_IMPORTED,
                "head": '{"idpel": "',
                "mid": '", "line": ',
                "tail": self._detail_tail,
            },
        )

    def _apply_changes(
        self, conn: Connection, changes: list[tuple[ValidRow, int, int | None, dict[str, list[Any]]]]
    ) -> None:
        customer_updates: list[dict[str, Any]] = []
        meter_updates: list[dict[str, Any]] = []
        installs: list[dict[str, Any]] = []
        audits: list[dict[str, Any]] = []
        for row, customer_id, meter_id, diff in changes:
            values = dict(zip(ROW_FIELDS, row, strict=True))
            if any(f in diff for f in _CUSTOMER_FIELDS):
                customer_updates.append({**values, "id": customer_id})
            if meter_id is None:
                installs.append({**values, "customer_id": customer_id})
            elif any(f in diff for f in _METER_FIELDS):
                meter_updates.append({**values, "id": meter_id})
            audits.append(
                {
                    "at": self.at,
                    "actor": self.actor,
                    "action": ACTION_UPDATED,
                    "meter_number": values["meter_number"],
                    "detail": json.dumps(
                        {
                            "changes": diff,
                            "idpel": values["idpel"],
                            "line": values["line"],
                            "reason": self._reason,
                            "source": self._source,
                        },
                        sort_keys=True,
                    ),
                }
            )
        if customer_updates:
            phone = ", phone = :phone" if self.has_phone else ""
            conn.execute(
                text(
                    "UPDATE customers SET name = :name, address = :address, unit_id = :unit_id, "
                    f"tariff_class_id = :tariff_class_id, va = :va{phone} WHERE id = :id"
                ),
                customer_updates,
            )
        if meter_updates:
            conn.execute(
                text(
                    "UPDATE meters SET key_type = :key_type, sgc = :sgc, tariff_index = :tariff_index, "
                    "krn = :krn, algorithm = :algorithm, base_date = :base_date, dkga = :dkga "
                    "WHERE id = :id"
                ),
                meter_updates,
            )
        if installs:
            conn.execute(
                text(
                    "INSERT INTO meters (meter_number, customer_id, status, replaced_by, key_type, "
                    "sgc, tariff_index, krn, ken, algorithm, base_date, dkga, last_tid) VALUES "
                    f"(:meter_number, :customer_id, '{MeterStatus.ACTIVE.value}', NULL, :key_type, "
                    ":sgc, :tariff_index, :krn, 255, :algorithm, :base_date, :dkga, 0)"
                ),
                installs,
            )
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, meter_number, detail) "
                "VALUES (:at, :actor, :action, :meter_number, :detail)"
            ).bindparams(bindparam("at", type_=UTCDateTime())),
            audits,
        )


class ImportConflict(VendingError):
    """A batch kept colliding with other writers (deadlocks): nothing of it was written."""

    code = "0099"

    def __init__(self, first_line: int, last_line: int) -> None:
        self.first_line, self.last_line = first_line, last_line
        super().__init__(
            f"IMPOR BERHENTI: BARIS {first_line}-{last_line} TERUS BENTROK DENGAN PENULIS LAIN, "
            "TIDAK ADA YANG DITULIS DARI BARIS ITU; JALANKAN IMPOR LAGI",
            f"import stopped: lines {first_line}-{last_line} kept colliding with other writers "
            "(deadlocks); none of them was written; run the import again",
        )


_UNIQUE_KEY = re.compile(r"Key \((idpel|meter_number)\)=\((\d+)\) already exists")


def _race(exc: DBAPIError) -> tuple[str, str | None] | None:
    """("idpel" | "meter_number", the key) when another writer took a key of the batch,
    (column, None) on a deadlock or lock timeout, None for any other error."""
    state = getattr(exc.orig, "sqlstate", None)
    if state in ("40P01", "40001", "55P03"):  # deadlock, serialization failure, lock timeout
        return ("idpel", None)
    if state != "23505":  # unique violation
        return None
    diag = getattr(exc.orig, "diag", None)
    match = _UNIQUE_KEY.search(getattr(diag, "message_detail", None) or "")
    if match is None:
        return None
    return (match[1], match[2])


def batches(
    results: Iterable[ValidRow | list[RowError]],
    *,
    size: int = DEFAULT_BATCH_SIZE,
    position: Callable[[], int] | None = None,
) -> Iterator[Batch]:
    """Group validated rows into batches; a row repeating an IDPEL or meter number already in
    the same batch is rejected here (earlier batches are checked by the writer)."""
    rows: list[ValidRow] = []
    rejected: list[RowError] = []
    rejected_rows = 0
    idpels: dict[str, int] = {}
    meters: dict[str, int] = {}
    for item in results:
        if isinstance(item, list):
            rejected.extend(item)
            rejected_rows += 1
        else:
            line, idpel, meter = item[0], item[1], item[8]
            first = idpels.get(idpel)
            if first is not None:
                rejected.append(RowError(line, "idpel", f"the same IDPEL is on line {first}; the first row wins"))
                rejected_rows += 1
            else:
                first = meters.get(meter)
                if first is not None:
                    rejected.append(
                        RowError(line, "meter_number", f"the same meter number is on line {first}; the first row wins")
                    )
                    rejected_rows += 1
                else:
                    idpels[idpel] = line
                    meters[meter] = line
                    rows.append(item)
        if len(rows) >= size or len(rejected) >= size:
            yield Batch(rows, rejected, rejected_rows, position() if position else 0)
            rows, rejected, rejected_rows = [], [], 0
            idpels.clear()
            meters.clear()
    if rows or rejected:
        yield Batch(rows, rejected, rejected_rows, position() if position else 0)


def run_batches(
    writer: BatchWriter | Sequence[BatchWriter],
    source: Iterable[Batch],
    *,
    claims: KeyClaims | None = None,
    on_errors: Callable[[list[RowError]], None] | None = None,
    on_progress: Callable[[ImportSummary, int], None] | None = None,
    pipelined: bool = True,
) -> ImportSummary:
    """Write every batch; outcomes are reported (``on_errors``, ``on_progress``) in file order.

    ``claims`` rejects the rows whose keys an earlier batch claimed; it runs in this thread,
    batch after batch, so "the first row wins" holds however the writers overlap. With
    ``pipelined`` the next batch is read and validated while the writers merge earlier ones,
    each writer a thread with its own connection (the database does most of the work, and
    two writers keep both cores of a small server busy; their batches never share a key).
    At most one batch waits between the reader and the writers.
    """
    writers = [writer] if isinstance(writer, BatchWriter) else list(writer)
    total = ImportSummary()

    def claimed(batch: Batch) -> Batch:
        if claims is not None and batch.rows:
            kept, duplicates = claims.claim(batch.rows)
            if duplicates:
                batch.rows = kept
                batch.rejected = sorted([*batch.rejected, *duplicates], key=lambda e: e.line)
                batch.rejected_rows += len(duplicates)
        return batch

    def merge(w: BatchWriter, batch: Batch) -> BatchOutcome:
        outcome = w.write(batch.rows) if batch.rows else BatchOutcome(ImportSummary(), [])
        outcome.summary.rejected += batch.rejected_rows
        batch.rows = []  # (only the rejections are kept until the batch is reported)
        return outcome

    def report(batch: Batch, outcome: BatchOutcome) -> None:
        total.add(outcome.summary)
        if on_errors is not None:
            errors = sorted([*batch.rejected, *outcome.errors], key=lambda e: e.line)
            if errors:
                on_errors(errors)
        if on_progress is not None:
            on_progress(total, batch.position)

    if not pipelined:
        for batch in source:
            report(batch, merge(writers[0], claimed(batch)))
        return total

    handoff: queue.Queue[tuple[int, Batch] | None] = queue.Queue(maxsize=1)
    failure: list[BaseException] = []
    finished: dict[int, tuple[Batch, BatchOutcome]] = {}
    reported = [0]  # the sequence number of the next batch to report
    in_order = threading.Lock()

    def consume(w: BatchWriter) -> None:
        try:
            while (item := handoff.get()) is not None:
                if failure:
                    continue
                seq, batch = item
                outcome = merge(w, batch)
                with in_order:
                    finished[seq] = (batch, outcome)
                    while reported[0] in finished:
                        report(*finished.pop(reported[0]))
                        reported[0] += 1
        except BaseException as exc:  # re-raised in the calling thread
            failure.append(exc)
            while handoff.get() is not None:
                pass

    threads = [
        threading.Thread(target=consume, args=(w,), name=f"prabayar-import-writer-{i}", daemon=True)
        for i, w in enumerate(writers)
    ]
    for t in threads:
        t.start()
    try:
        for seq, batch in enumerate(source):
            if failure:
                break
            handoff.put((seq, claimed(batch)))
    finally:
        for _ in threads:
            handoff.put(None)
        for t in threads:
            t.join()
    if failure:
        raise failure[0]
    return total
