"""Load benchmark: purchases/s over HTTP on PostgreSQL, side by side with the database ceiling.

What it does, the way an operator would:

1. creates the database if needed, ``prabayar db upgrade``, ``prabayar seed --demo`` and
   ``prabayar seed --synthetic-meters N [--synthetic-purchases M]`` (a region's data);
2. starts ``prabayar serve --workers W`` on one port and waits for ``/api/v1/health``;
3. drives ``POST /api/v1/channel/purchase`` with **wrk** (C, epoll; a Lua script picks a
   random meter and a fresh channel reference per request) at 1, 8, 32 and 64 connections;
4. runs **pgbench** with the same transaction shape as the lean purchase path (claim the
   meter row with everything a sale reads, then one statement writing purchase, reference,
   TID, monthly usage and audit row, one commit) at the same client counts;
5. prints purchases/s, p50/p95/p99 and errors per level, and the ratio HTTP / pgbench.

The machine is shared and noisy: read the ratio, not the absolute numbers, and compare
runs made the same way. Needs ``wrk`` and ``pgbench`` on PATH (Debian: ``apt-get install
wrk postgresql-client``).

    .venv/bin/python bench/load_bench.py --workers 2 --duration 10
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PRABAYAR = str(BIN / "prabayar")
#: a fixed, public bench master key (the bench database holds only demo and synthetic keys)
BENCH_MASTER_KEY = base64.b64encode(b"prabayar-load-bench-master-key!!").decode()


def sh(cmd: list[str], env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, check=True, text=True, capture_output=True, **kw)  # type: ignore[call-overload, no-any-return]


def libpq_dsn(url: str) -> str:
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url)


def ensure_database(url: str) -> None:
    import psycopg

    dsn = libpq_dsn(url)
    name = dsn.rsplit("/", 1)[1].split("?")[0]
    admin = dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("server did not become ready")


def vacuum(url: str) -> None:
    """VACUUM ANALYZE what a sale touches, as autovacuum would on a running system (some
    servers, this machine's included, run with ``autovacuum = off``: every earlier run's
    updates of ``meters`` then stay as dead rows and slow the next run and its ceiling alike)."""
    import psycopg

    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        setting = conn.execute("SHOW autovacuum").fetchone()
        conn.execute("VACUUM (ANALYZE) meters, monthly_usage, customers, purchase_refs, audit_log")
        conn.execute("CHECKPOINT")
    print(f"# vacuumed meters, monthly_usage, customers, purchase_refs, audit_log (autovacuum: "
          f"{setting[0] if setting else '?'})", flush=True)  # fmt: skip


def run_wrk(base: str, clients: int, duration: int, lua_args: list[str]) -> dict[str, float]:
    threads = max(1, min(2, clients))
    run = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{duration}s", "--timeout", "10s",
         "-s", str(HERE / "wrk_purchase.lua"), base, "--", *lua_args],
        check=True, text=True, capture_output=True,
    )  # fmt: skip
    out = run.stdout
    for line in run.stderr.splitlines():
        if line.startswith("NON200 "):
            print("   ", line, flush=True)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    r = json.loads(line[len("RESULT ") :])
    seconds = r["duration_us"] / 1e6
    errors = r["status_errors"] + r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
    return {
        "rate": (r["requests"] - errors) / seconds,
        "requests": r["requests"],
        "errors": errors,
        "p50": r["p50_us"] / 1000,
        "p95": r["p95_us"] / 1000,
        "p99": r["p99_us"] / 1000,
    }


PGBENCH_SCRIPT = """\
\\set mid random({first_id}, {last_id})
\\set ref random(1, 9000000000000000)
BEGIN;
SELECT m.id, m.meter_number, m.status, m.last_tid, m.sgc, m.krn, m.base_date, c.id, c.idpel, c.name,
       c.status, c.va, c.debt_remaining, c.angsuran_per_purchase, t.print_code, t.rp_per_kwh,
       t.household, u.code, r.pbjt_rate, mu.kwh
  FROM meters m JOIN customers c ON c.id = m.customer_id
  JOIN tariff_classes t ON t.id = c.tariff_class_id JOIN units u ON u.id = c.unit_id
  LEFT JOIN unit_tax_rates r ON r.unit_id = c.unit_id AND r.tariff_class_id = c.tariff_class_id
  LEFT JOIN monthly_usage mu ON mu.meter_number = m.meter_number AND mu.month = to_char(now(), 'YYYY-MM')
 WHERE m.id = :mid FOR UPDATE OF m;
{write}
COMMIT;
"""


def pgbench_script(url: str) -> str:
    import psycopg

    from prabayar.vending.synthetic import METER_PREFIX

    with psycopg.connect(libpq_dsn(url)) as conn:
        first_id, last_id = conn.execute(
            "SELECT min(id), max(id) FROM meters WHERE meter_number LIKE %s", (METER_PREFIX + "%",)
        ).fetchone()  # type: ignore[misc]
        channel_id = conn.execute("SELECT max(id) FROM channels WHERE code LIKE 'LOAD%%'").fetchone()[0]  # type: ignore[index]
    try:
        from prabayar.vending.fastpath import pgbench_write_statement

        write = pgbench_write_statement(channel_id)
    except ImportError:  # before the lean path existed: the same writes as separate statements
        write = (
            "INSERT INTO purchases (reference_number, channel_id, channel_reference, meter_number, idpel,"
            " customer_name, tariff_code, va, nominal, admin_fee, meterai, ppn, pbjt, angsuran, stroom, kwh,"
            " tariff_rp_per_kwh, pbjt_rate, tid, token, created_at) SELECT 'PGB' || :ref || '-' || :client_id,"
            f" {channel_id}, 'PGB-' || :ref || '-' || :client_id, m.meter_number, '541000000001', 'X', 'R1', 1300,"
            " 20000, 2000, 0, 0, 460, 0, 19540, 1352, 144470, 24000, m.last_tid + 1, '12345678901234567890', now()"
            " FROM meters m WHERE m.id = :mid;\n"
            "UPDATE meters SET last_tid = last_tid + 1 WHERE id = :mid;\n"
            "INSERT INTO monthly_usage (meter_number, month, kwh) SELECT meter_number, to_char(now(), 'YYYY-MM'),"
            " 1352 FROM meters WHERE id = :mid ON CONFLICT (meter_number, month) DO UPDATE"
            " SET kwh = monthly_usage.kwh + EXCLUDED.kwh;\n"
            "INSERT INTO audit_log (at, actor, action, meter_number, detail) SELECT now(), 'H2HDEMO', 'purchase',"
            " meter_number, '{}' FROM meters WHERE id = :mid;"
        )
    return PGBENCH_SCRIPT.format(first_id=first_id, last_id=last_id, write=write)


def run_pgbench(url: str, script: Path, clients: int, duration: int, workdir: Path) -> dict[str, float]:
    for old in workdir.glob("pgbench_log*"):
        old.unlink()
    out = subprocess.run(
        ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(2, clients)), "-T", str(duration),
         "-f", str(script), "-l", "--log-prefix", str(workdir / "pgbench_log"), libpq_dsn(url)],
        check=True, text=True, capture_output=True,
    ).stdout  # fmt: skip
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    failed = re.search(r"number of failed transactions: (\d+)", out)
    lat = []
    for log in workdir.glob("pgbench_log*"):
        for line in log.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                lat.append(int(parts[2]) / 1000)
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(len(lat) * p))] if lat else float("nan")

    return {
        "rate": tps,
        "errors": int(failed.group(1)) if failed else 0,
        "p50": statistics.median(lat) if lat else float("nan"),
        "p95": pct(0.95),
        "p99": pct(0.99),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/prabayar_bench")
    ap.add_argument("--port", type=int, default=18000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", default="1,8,32,64")
    ap.add_argument("--duration", type=int, default=10, help="seconds per level")
    ap.add_argument("--meters", type=int, default=1_000_000, help="synthetic meters to have loaded")
    ap.add_argument("--history", type=int, default=0, help="past purchases to have loaded (10000000 for a region)")
    ap.add_argument("--sample", type=int, default=200_000, help="meters the load picks from")
    ap.add_argument("--nominal", type=int, default=20_000)
    ap.add_argument("--no-pgbench", action="store_true")
    ap.add_argument("--no-setup", action="store_true", help="the database is migrated and loaded already")
    ap.add_argument("--serve-cmd", default=None, help="start the server with this command instead (baseline runs)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args()
    for tool in ("wrk",) + (() if args.no_pgbench else ("pgbench",)):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install wrk postgresql-client)")

    from prabayar.vending.synthetic import synthetic_meter_number

    work = Path(tempfile.mkdtemp(prefix="prabayar-load-"))
    env = {
        **os.environ,
        "PRABAYAR_DATABASE_URL": args.database_url,
        "PRABAYAR_MASTER_KEY": os.environ.get("PRABAYAR_MASTER_KEY", BENCH_MASTER_KEY),
        "PRABAYAR_DATA_DIR": str(work / "data"),
    }
    print(f"# prabayar load bench  {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}  "
          f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} workers={args.workers}", flush=True)  # fmt: skip
    started = time.monotonic()
    if not args.no_setup:
        ensure_database(args.database_url)
        sh([PRABAYAR, "db", "upgrade"], env)
        sh([PRABAYAR, "seed", "--demo"], env)
        seed = [PRABAYAR, "seed", "--synthetic-meters", str(args.meters)]
        if args.history:
            seed += ["--synthetic-purchases", str(args.history)]
        print("# preload:", sh(seed, env).stdout.strip().replace("\n", " | "), flush=True)
    vacuum(args.database_url)
    print(f"# setup {time.monotonic() - started:.0f} s", flush=True)
    # the load's own channel, as an operator adds one: no purchase rate limit, PLN denominations
    code = f"LOAD{int(time.time()) % 100000}"
    added = sh([PRABAYAR, "channel", "add", code, "--purchases-per-minute", "0", "--admin-fee", "2500", "--json",
                "--reason", "load benchmark"], env)  # fmt: skip
    key = json.loads(added.stdout.strip().splitlines()[-1])["api_key"]
    meter_file = work / "meters.txt"
    step = max(1, args.meters // args.sample)
    meter_file.write_text("\n".join(synthetic_meter_number(i) for i in range(0, args.meters, step)) + "\n")

    base = f"http://127.0.0.1:{args.port}"
    if args.serve_cmd:
        cmd = args.serve_cmd.split()
    else:
        cmd = [PRABAYAR, "serve", "--port", str(args.port), "--workers", str(args.workers), "--no-demo",
               "--log-level", "warning"]  # fmt: skip
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=log)
    results: list[dict[str, object]] = []
    try:
        wait_ready(base, server)
        run_id = f"LB{int(time.time())}"
        run_wrk(base, 8, 2, [str(meter_file), run_id + "w", key, str(args.nominal)])  # warm-up
        levels = [int(c) for c in args.clients.split(",")]
        for clients in levels:
            lua = [str(meter_file), f"{run_id}c{clients}", key, str(args.nominal)]
            http = run_wrk(base, clients, args.duration, lua)
            results.append({"clients": clients, "http": http})
            print(f"  http  c={clients:<3} {http['rate']:8.1f}/s  p50 {http['p50']:7.1f}  p95 {http['p95']:7.1f}"
                  f"  p99 {http['p99']:7.1f} ms  errors {http['errors']:.0f}", flush=True)  # fmt: skip
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    if not args.no_pgbench:
        script = work / "purchase.pgbench"
        script.write_text(pgbench_script(args.database_url))
        for row in results:
            pg = run_pgbench(args.database_url, script, int(row["clients"]), args.duration, work)  # type: ignore[call-overload]
            row["pgbench"] = pg
            print(f"  pgbench c={row['clients']:<3} {pg['rate']:8.1f}/s  p50 {pg['p50']:7.1f}  p95 {pg['p95']:7.1f}"
                  f"  p99 {pg['p99']:7.1f} ms  errors {pg['errors']:.0f}", flush=True)  # fmt: skip
    print()
    print(
        "| clients | HTTP purchases/s | p50 ms | p95 ms | p99 ms | errors | pgbench tx/s | pgbench p99 ms"
        " | HTTP/pgbench |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in results:
        h = row["http"]
        p = row.get("pgbench")
        assert isinstance(h, dict)
        pg_cols = (f"{p['rate']:.0f} | {p['p99']:.1f} | {h['rate'] / p['rate']:.0%}" if isinstance(p, dict)
                   else "- | - | -")  # fmt: skip
        print(f"| {row['clients']} | {h['rate']:.0f} | {h['p50']:.1f} | {h['p95']:.1f} | {h['p99']:.1f} | "
              f"{h['errors']:.0f} | {pg_cols} |")  # fmt: skip
    print(f"\nserver log: {work / 'server.log'}  load average now {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps({"workers": args.workers, "results": results}, indent=2))


if __name__ == "__main__":
    main()
