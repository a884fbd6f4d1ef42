"""Key-change campaign over a large region on PostgreSQL, with ceilings measured in the same run.

    PRABAYAR_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/prabayar_campaign \\
    PRABAYAR_MASTER_KEY=... python bench/campaign_bench.py --workers 2 --kill-after 8

The database needs the demo data and synthetic meters (``prabayar seed --demo`` then
``prabayar seed --synthetic-meters 1000000``). Steps, all in one run (the machine is shared and
noisy: read the numbers as ratios):

1. **ceiling A — batch engine alone**: the COPY lines of every selected meter as a worker makes
   them (PAN, derivation of both keys, KCT encoding, the line: ``campaign_engine.kct_lines``),
   in this process, no database;
2. **ceiling B — raw COPY**: the same bytes COPY'd into a copy of ``campaign_meters`` (same
   columns, indexes and foreign key), no engine work;
3. **end to end**: a campaign (create, approve by a second admin, plan), one procrastinate job
   per chunk, ``--workers`` ``prabayar campaign worker`` processes; with ``--kill-after S`` one
   worker is killed with SIGKILL after S seconds and a fresh one started (and the killed chunk
   queued again by ``prabayar campaign run``): at the end every meter has exactly one row.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

from prabayar.sts import batch
from prabayar.vending import campaign_queue
from prabayar.vending.campaign_engine import Selection, Target, kct_lines, key_label, meter_params
from prabayar.vending.setup import open_service


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "prabayar"), "campaign", "worker", "--once"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk-size", type=int, default=20_000)
    ap.add_argument("--kill-after", type=float, default=0.0, help="SIGKILL one worker after this many seconds")
    ap.add_argument("--krn", type=int, default=3, help="target KRN")
    ap.add_argument("--reset", action="store_true",
                    help="a dedicated bench database: forget earlier campaigns' meter rows first (a meter with"
                         " undelivered KCTs of another campaign is skipped)")  # fmt: skip
    args = ap.parse_args()
    service = open_service()
    if args.reset:
        with service.engine.begin() as conn:
            from sqlalchemy import text

            conn.execute(text("TRUNCATE campaign_meters, campaign_chunks, campaign_units"))
            conn.execute(text("UPDATE campaigns SET status = 'rejected' WHERE status <> 'rejected'"))
    url = str(service.engine.url.render_as_string(hide_password=False))
    selection, target = Selection(krn=2, base_date="14"), Target(krn=args.krn)
    where, params = selection.where()
    # the campaign first: ceiling B writes its rows under the campaign's id (the foreign key)
    info = service.create_campaign("admin", f"bench KRN {args.krn}", "benchmark of a national campaign", selection,
                                   target, chunk_size=args.chunk_size)  # fmt: skip
    service.approve_campaign(info.id, "supervisor")

    # --- ceiling A: the batch engine alone ------------------------------------------------------
    raw = service.engine.raw_connection()
    cur = raw.driver_connection.cursor()  # type: ignore[union-attr]
    cur.execute(
        "SELECT m.meter_number, u.code, m.key_type, m.sgc, m.tariff_index, m.krn, m.ken, m.algorithm, m.base_date,"
        " m.dkga FROM meters m JOIN customers c ON c.id = m.customer_id JOIN units u ON u.id = c.unit_id"
        f" WHERE {where}",
        params,
    )
    rows = cur.fetchall()
    n = len(rows)
    groups: dict[tuple[object, ...], tuple[list[str], list[str]]] = {}
    for r in rows:
        numbers, units = groups.setdefault(tuple(r[2:]), ([], []))
        numbers.append(r[0])
        units.append(r[1])
    del rows
    now = datetime.now(UTC).isoformat()
    t0, c0 = time.perf_counter(), time.process_time()
    parts = []
    for key, (numbers, units) in groups.items():
        current = meter_params(key)
        new = target.params_for(current, service.key_store.vending_key_dkga)
        if new != current:
            parts.append(kct_lines(service.key_store, current, new, numbers, units, before=f"{info.id}\t",
                                   middle=f"\t0\t{key_label(current)}\t{key_label(new)}\t",
                                   after=f"\tgenerated\t{now}\n"))  # fmt: skip
    data = b"".join(parts)
    engine_wall, engine_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"meters selected: {n:,}   batch backend: {batch.backend()}")
    print(f"ceiling A  batch engine alone, one process (PAN + derive x2 + KCT encode + COPY lines):"
          f" {n / engine_wall:>10,.0f} meters/s wall, {n / engine_cpu:,.0f}/CPU-s")  # fmt: skip

    # --- ceiling B: raw COPY of the same rows -----------------------------------------------------
    cur.execute("DROP TABLE IF EXISTS bench_campaign_copy")
    cur.execute("CREATE TABLE bench_campaign_copy (LIKE campaign_meters INCLUDING ALL)")
    cur.execute("ALTER TABLE bench_campaign_copy ADD FOREIGN KEY (campaign_id) REFERENCES campaigns (id)")
    raw.driver_connection.commit()  # type: ignore[union-attr]
    t0 = time.perf_counter()
    with cur.copy(
        "COPY bench_campaign_copy (campaign_id, meter_number, unit_code, chunk_no, from_key, to_key, tokens, state,"
        " generated_at) FROM STDIN"
    ) as copy:
        copy.write(data)
    raw.driver_connection.commit()  # type: ignore[union-attr]
    copy_wall = time.perf_counter() - t0
    cur.execute("DROP TABLE bench_campaign_copy")
    raw.driver_connection.commit()  # type: ignore[union-attr]
    raw.close()
    print(f"ceiling B  raw COPY of the same rows (one stream, same indexes and foreign key): {n / copy_wall:>10,.0f}"
          " rows/s")  # fmt: skip
    del groups, parts, data

    # --- end to end ----------------------------------------------------------------------------
    campaign_queue.ensure_schema(url)
    t0 = time.perf_counter()
    selected = service.plan_campaign(info.id)
    app = campaign_queue.build_app(url, lambda: service)
    campaign_queue.defer_chunks(app, info.id, service.pending_chunks(info.id))
    plan_wall = time.perf_counter() - t0
    env = dict(os.environ)
    workers = [_worker(env) for _ in range(args.workers)]
    killed = False
    while service.pending_chunks(info.id):
        time.sleep(0.25)
        if args.kill_after and not killed and time.perf_counter() - t0 > args.kill_after:
            victim = workers[0]
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            killed = True
            done = service.campaign(info.id)
            print(f"SIGKILL worker {victim.pid} at {time.perf_counter() - t0:.1f} s: chunks done"
                  f" {done.chunks_done}/{done.chunks_total}, meters {done.counts.generated:,}")  # fmt: skip
            # "run again": the killed chunk's job stays 'doing'; queue the pending chunks anew
            campaign_queue.defer_chunks(app, info.id, service.pending_chunks(info.id))
            workers[0] = _worker(env)
        if all(w.poll() is not None for w in workers) and service.pending_chunks(info.id):
            campaign_queue.defer_chunks(app, info.id, service.pending_chunks(info.id))
            workers = [_worker(env) for _ in range(args.workers)]
    wall = time.perf_counter() - t0
    for w in workers:
        w.wait(60)
    final = service.campaign(info.id)
    with service.engine.connect() as conn:
        from sqlalchemy import text

        total, distinct = conn.execute(
            text("SELECT count(*), count(DISTINCT meter_number) FROM campaign_meters WHERE campaign_id = :c"),
            {"c": info.id},
        ).one()
    print(
        f"end to end {args.workers} worker processes{' (one SIGKILLed and replaced)' if killed else ''}:"
        f" {selected:,} meters in {wall:.1f} s = {selected / wall:,.0f} meters/s (plan + queue {plan_wall:.1f} s)"
    )
    c = final.counts
    ok = total == distinct == c.generated and c.generated + c.skipped == selected
    print(
        f"rows {total:,}, distinct meters {distinct:,}, selected {selected:,}, skipped {c.skipped:,},"
        f" status {final.status}: {'OK — none missed, none twice' if ok else 'MISMATCH'}"
    )
    print(
        f"ratios: end to end / ceiling A = {selected / wall / (n / engine_wall):.2f},"
        f" end to end / ceiling B = {selected / wall / (n / copy_wall):.2f}"
    )


if __name__ == "__main__":
    main()
