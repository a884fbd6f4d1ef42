"""Bulk import benchmark: ``prabayar import customers`` on PostgreSQL and SQLite.

Usage::

    .venv/bin/python bench/import_bench.py [--rows 1000000] [--small 100000] [--sqlite-rows 100000]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/prabayar_import] [--skip-rerun]

Each import runs in a child process (so its peak RSS is its own) against a fresh schema
(PostgreSQL) or file (SQLite) holding only the reference data. The ceiling is measured in the
same run, on the same machine state:

* ``copy-file``: the CSV file's bytes ``COPY``-ed into an untyped table (no Python at all);
* ``copy-tables``: the same rows ``COPY``-ed straight into ``customers`` and ``meters`` of an
  empty schema (their indexes and foreign keys, but no validation, no staging, no audit rows);
* ``parse``: Python reading and validating the file without a database.

The machine is shared (other engineers' test suites run on the same 2 cores), so read the
results as ratios to the ceiling; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PRABAYAR_BENCH_DIR", "/tmp/prabayar-import-bench"))


def region_csv(rows: int) -> Path:
    from prabayar.vending.synthetic_region import write_region_csv

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"region-{rows}.csv"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        write_region_csv(tmp, rows)
        tmp.rename(path)
    return path


def _engine(url: str, schema: str | None) -> Any:
    from prabayar.vending.db import create_engine_for

    return create_engine_for(url, schema=schema) if schema else create_engine_for(url)


def prepare(url: str, schema: str | None) -> None:
    """An empty migrated database with the reference data only."""
    from sqlalchemy import create_engine, text

    from prabayar.vending.db import upgrade
    from prabayar.vending.keystore import MasterKey, SoftwareKeyStore
    from prabayar.vending.reference import seed_reference
    from prabayar.vending.service import VendingService

    if schema:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
    engine = _engine(url, schema)
    upgrade(engine=engine)
    seed_reference(VendingService(engine, SoftwareKeyStore(engine, MasterKey.generate())))
    engine.dispose()


def child(url: str, schema: str | None, path: Path, batch_size: int, writers: int | None) -> dict[str, Any]:
    """One import in this process; returns time, counts and peak RSS."""
    from prabayar.vending.keystore import MasterKey, SoftwareKeyStore
    from prabayar.vending.service import VendingService

    engine = _engine(url, schema)
    service = VendingService(engine, SoftwareKeyStore(engine, MasterKey.generate()))
    start = time.perf_counter()
    summary = service.import_customers(path, actor="bench", server=True, batch_size=batch_size, writers=writers)
    seconds = time.perf_counter() - start
    engine.dispose()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "summary": summary.line(), "rows": summary.rows, "max_rss_mib": rss_kib / 1024}


def run_child(url: str, schema: str | None, path: Path, batch_size: int, writers: int | None) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", "--url", url, "--file", str(path), "--batch-size", str(batch_size)]
    if writers:
        args += ["--writers", str(writers)]
    if schema:
        args += ["--schema", schema]
    out = subprocess.run(args, check=True, capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def parse_only(path: Path) -> float:
    """Read and validate the whole file in Python (no database): the Python floor."""
    from prabayar.vending.bulk_import import ReferenceData, RowValidator, TariffRef, read_records, validate_stream
    from prabayar.vending.reference import TARIFFS

    ref = ReferenceData(
        tuple(TariffRef(i, t.code, t.print_code, t.va_min, t.va_max, t.subsidised) for i, t in enumerate(TARIFFS)),
        {"54": 1, "51": 2},
        "54",
    )
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as f:
        header, records = read_records(f)
        for _ in validate_stream(records, RowValidator(header, ref)):
            pass
    return time.perf_counter() - start


def copy_ceilings(url: str, path: Path, rows: int) -> dict[str, float]:
    """COPY the file's bytes into an untyped table, and the rows straight into the real tables."""
    import psycopg

    from prabayar.vending.bulk_import import ReferenceData, RowValidator, TariffRef, read_records, validate_stream

    schema = "import_bench_ceiling"
    prepare(url, schema)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    result: dict[str, float] = {}
    with psycopg.connect(dsn, options=f"-csearch_path={schema}") as conn:
        conn.execute("CREATE TEMP TABLE raw_lines (" + ", ".join(f"c{i} text" for i in range(15)) + ")")
        start = time.perf_counter()
        with (
            conn.cursor().copy("COPY raw_lines FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as f,
        ):
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        result["copy_file_s"] = time.perf_counter() - start
        tariffs = conn.execute("SELECT id, code, print_code, va_min, va_max, subsidised FROM tariff_classes").fetchall()
        units: dict[str, int] = dict(conn.execute("SELECT code, id FROM units").fetchall())
        ref = ReferenceData(tuple(TariffRef(*t) for t in tariffs), units, "54")
        # The validated rows are written out in COPY's text format first (streaming): only the
        # database's part is timed.
        customers, meters = DATA / "ceiling-customers.tsv", DATA / "ceiling-meters.tsv"
        with path.open(encoding="utf-8", newline="") as f, customers.open("w") as c_out, meters.open("w") as m_out:
            header, records = read_records(f)
            i = 0
            for r in validate_stream(records, RowValidator(header, ref)):
                if isinstance(r, tuple):
                    i += 1
                    phone = r[7] if r[7] is not None else "\\N"
                    c_out.write(f"{i}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t{r[6]}\t{phone}\tactive\t0\t0\n")
                    m_out.write(
                        f"{r[8]}\t{i}\tactive\t{r[9]}\t{r[10]}\t{r[11]}\t{r[12]}\t255\t{r[13]}\t{r[14]}\t{r[15]}\t0\n"
                    )
        start = time.perf_counter()
        for table, columns, source in (
            ("customers", "id, idpel, name, address, unit_id, tariff_class_id, va, phone, status, debt_remaining, "
             "angsuran_per_purchase", customers),
            ("meters", "meter_number, customer_id, status, key_type, sgc, tariff_index, krn, ken, algorithm, "
             "base_date, dkga, last_tid", meters),
        ):  # fmt: skip
            with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy, source.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
        conn.commit()
        result["copy_tables_s"] = time.perf_counter() - start
        customers.unlink()
        meters.unlink()
    drop_schema(url, schema)
    return result


def drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="second PostgreSQL size for the RSS comparison")
    parser.add_argument("--sqlite-rows", type=int, default=100_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/prabayar_import")
    parser.add_argument("--batch-size", type=int, default=20_000)
    parser.add_argument("--writers", type=int, help="batch writers on PostgreSQL (default: the import's own)")
    parser.add_argument("--skip-rerun", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.url, args.schema, Path(args.file), args.batch_size, args.writers)))
        return

    report: dict[str, Any] = {"load_avg_start": os.getloadavg()}
    big, small = region_csv(args.rows), region_csv(args.small)
    report["parse_only_s"] = {args.small: parse_only(small)}
    if args.pg_url:
        schema = "import_bench"
        report["ceiling"] = copy_ceilings(args.pg_url, big, args.rows)
        prepare(args.pg_url, schema)
        report["pg_fresh"] = run_child(args.pg_url, schema, big, args.batch_size, args.writers)
        if not args.skip_rerun:
            report["pg_rerun"] = run_child(args.pg_url, schema, big, args.batch_size, args.writers)
        prepare(args.pg_url, schema)
        report["pg_small_fresh"] = run_child(args.pg_url, schema, small, args.batch_size, args.writers)
        drop_schema(args.pg_url, schema)
    sqlite_file = DATA / f"bench-{secrets.token_hex(4)}.sqlite3"
    url = f"sqlite:///{sqlite_file}"
    prepare(url, None)
    sqlite_csv = region_csv(args.sqlite_rows)
    report["sqlite_fresh"] = run_child(url, None, sqlite_csv, args.batch_size, None)
    report["sqlite_rerun"] = run_child(url, None, sqlite_csv, args.batch_size, None)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
    (sqlite_file.parent / "prabayar.masterkey").unlink(missing_ok=True)
    report["load_avg_end"] = os.getloadavg()
    for key in ("pg_fresh", "pg_rerun", "pg_small_fresh", "sqlite_fresh", "sqlite_rerun"):
        if key in report:
            r = report[key]
            r["rows_per_s"] = round(r["rows"] / r["seconds"])
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
