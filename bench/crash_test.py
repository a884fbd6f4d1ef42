"""Crash test: SIGKILL the server under load, restart it, let clients retry or send advice, then
reconcile through the database.

Clients (threads with keep-alive HTTP connections) buy tokens for a small set of meters (so
sales queue on meter locks). Each sale whose answer is lost (connection reset, timeout, 5xx,
0099) is resolved the way a payment switch would: half of the clients send the same purchase
again (idempotent by channel reference), the other half send advice; an advice answered
"unknown reference" means the sale never happened and the purchase is sent again. After the
kill the server is started again as an operator would (``prabayar serve --workers N``).

Checks, from the database:

* every token a client received belongs to exactly one sale with that channel reference;
* no duplicate (channel, reference), no duplicate (meter, TID); one guard row and one audit
  row per sale;
* per meter, TIDs increase in commit order and a sale's time is never earlier than that of
  the sale before it (its time is taken after its meter is claimed);
* every reference a client started ends with exactly one sale (nothing lost, nothing twice).

    .venv/bin/python bench/crash_test.py --database-url postgresql+psycopg://…/db
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
PRABAYAR = str(BIN / "prabayar")


@dataclass
class Figures:
    started: int = 0
    answered_first_time: int = 0
    lost_answers: int = 0
    recovered_by_retry: int = 0
    recovered_by_advice: int = 0
    resold_after_unknown: int = 0
    refused: int = 0
    sales_in_db: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Server:
    def __init__(self, env: dict[str, str], port: int, workers: int, log: Path) -> None:
        self.env, self.port, self.workers, self.log = env, port, workers, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        cmd = [PRABAYAR, "serve", "--port", str(self.port), "--workers", str(self.workers), "--no-demo",
               "--log-level", "warning"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, env=self.env, start_new_session=True, stdout=handle, stderr=handle)
        handle.close()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server did not start (see {self.log})")

    def kill(self) -> None:
        """SIGKILL the whole process group: the supervisor and every worker, mid-sale."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


class Client(threading.Thread):
    def __init__(self, n: int, port: int, key: str, meters: list[str], stop: threading.Event, advice: bool) -> None:
        super().__init__(daemon=True)
        self.n, self.port, self.key, self.meters, self.stop, self.use_advice = n, port, key, meters, stop, advice
        self.conn: http.client.HTTPConnection | None = None
        self.tokens: dict[str, str] = {}  # reference -> token received
        self.refused: set[str] = set()  # references refused for good (cap, blocked ...)
        self.started = 0
        self.first_time = 0
        self.lost = 0
        self.by_retry = 0
        self.by_advice = 0
        self.resold = 0

    def _post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            self.conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json",
                                                               "X-Api-Key": self.key})  # fmt: skip
            resp = self.conn.getresponse()
            data = json.loads(resp.read() or b"{}")
            return resp.status, data
        except (OSError, http.client.HTTPException, ValueError):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            return None

    def _answered(self, answer: tuple[int, dict[str, Any]] | None) -> bool:
        return answer is not None and answer[0] == 200

    @staticmethod
    def _refused(answer: tuple[int, dict[str, Any]] | None) -> bool:
        """A final refusal (monthly cap, blocked ...): not lost, nothing to resolve."""
        return (
            answer is not None
            and 400 <= answer[0] < 500
            and answer[0] != 429
            and answer[1].get("response_code") not in (None, "0099", "0092")
        )

    def run(self) -> None:
        try:
            self._buy_until_stopped()
        finally:
            if self.conn is not None:
                self.conn.close()

    def _buy_until_stopped(self) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            ref = f"CRASH-{self.n}-{i}"
            body = {"channel_reference": ref, "identifier": random.choice(self.meters), "nominal": 20_000}
            self.started += 1
            answer = self._post("/api/v1/channel/purchase", body)
            if self._answered(answer):
                assert answer is not None
                self.tokens[ref] = answer[1]["token"]
                self.first_time += 1
                continue
            if self._refused(answer):
                self.refused.add(ref)
                continue
            self.lost += 1
            self._resolve(ref, body)

    def _resolve(self, ref: str, body: dict[str, Any]) -> None:
        """Until the sale is known: retry the purchase, or ask by advice (then buy if unknown)."""
        while True:
            if self.use_advice:
                answer = self._post("/api/v1/channel/advice", {"channel_reference": ref})
                if self._answered(answer):
                    assert answer is not None
                    self.tokens[ref] = answer[1]["token"]
                    self.by_advice += 1
                    return
                if answer is not None and answer[1].get("response_code") == "0092":  # never sold
                    answer = self._post("/api/v1/channel/purchase", body)
                    if self._answered(answer):
                        assert answer is not None
                        self.tokens[ref] = answer[1]["token"]
                        self.resold += 1
                        return
                    if self._refused(answer):
                        self.refused.add(ref)
                        return
            else:
                answer = self._post("/api/v1/channel/purchase", body)
                if self._answered(answer):
                    assert answer is not None
                    self.tokens[ref] = answer[1]["token"]
                    self.by_retry += 1
                    return
                if self._refused(answer):
                    self.refused.add(ref)
                    return
            time.sleep(0.2)


def reconcile(url: str, channel: str, tokens: dict[str, str], started_refs: set[str], figures: Figures) -> None:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    problems = figures.problems
    with psycopg.connect(dsn) as conn:
        (channel_id,) = conn.execute("SELECT id FROM channels WHERE code = %s", (channel,)).fetchone()  # type: ignore[misc]
        rows = conn.execute(
            "SELECT id, channel_reference, meter_number, tid, token, created_at FROM purchases"
            " WHERE channel_id = %s ORDER BY id",
            (channel_id,),
        ).fetchall()
        figures.sales_in_db = len(rows)
        by_ref: dict[str, list[Any]] = {}
        for r in rows:
            by_ref.setdefault(r[1], []).append(r)
        dup_refs = [ref for ref, rs in by_ref.items() if len(rs) > 1]
        if dup_refs:
            problems.append(f"{len(dup_refs)} references sold twice, e.g. {dup_refs[:3]}")
        for ref, token in tokens.items():
            sold = by_ref.get(ref, [])
            if len(sold) != 1 or sold[0][4] != token:
                problems.append(f"token for {ref} does not match exactly one sale")
        missing = started_refs - set(by_ref)
        if missing:
            problems.append(f"{len(missing)} started references have no sale, e.g. {sorted(missing)[:3]}")
        unknown = set(by_ref) - started_refs - set(tokens)
        if unknown:
            problems.append(f"{len(unknown)} sales no client started")
        dup_tid = conn.execute(
            "SELECT count(*) FROM (SELECT meter_number, tid FROM purchases GROUP BY 1, 2 HAVING count(*) > 1) d"
        ).fetchone()[0]  # type: ignore[index]
        if dup_tid:
            problems.append(f"{dup_tid} duplicate (meter, TID) pairs")
        per_meter: dict[str, list[Any]] = {}
        for r in rows:
            per_meter.setdefault(r[2], []).append(r)
        for meter, rs in per_meter.items():
            tids = [r[3] for r in rs]  # in id (commit) order
            if tids != sorted(tids):
                problems.append(f"meter {meter}: TIDs not increasing in commit order")
            by_tid = sorted(rs, key=lambda r: r[3])
            times = [r[5] for r in by_tid]
            if times != sorted(times):
                problems.append(f"meter {meter}: a later TID carries an earlier sale time")
        guards = conn.execute("SELECT count(*) FROM purchase_refs WHERE channel_id = %s", (channel_id,)).fetchone()[0]  # type: ignore[index]
        audits = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'purchase' AND actor = %s", (channel,)
        ).fetchone()[0]  # type: ignore[index]
        if guards != len(rows) or audits != len(rows):
            problems.append(f"{len(rows)} sales but {guards} guard rows and {audits} audit rows")


def run_crash_test(
    database_url: str,
    *,
    port: int = 18090,
    workers: int = 2,
    clients: int = 16,
    meters: list[str] | None = None,
    before_kill: float = 6.0,
    after_restart: float = 6.0,
    env: dict[str, str] | None = None,
    work: Path | None = None,
) -> Figures:
    """Run the whole scenario against an migrated, seeded database; returns the figures."""
    work = work or Path(tempfile.mkdtemp(prefix="prabayar-crash-"))
    env = {**os.environ, **(env or {}), "PRABAYAR_DATABASE_URL": database_url}
    env.setdefault("PRABAYAR_DATA_DIR", str(work / "data"))
    channel = f"CRASH{int(time.time()) % 100000}"
    out = subprocess.run(
        [PRABAYAR, "channel", "add", channel, "--purchases-per-minute", "0", "--json", "--reason", "crash test"],
        env=env, check=True, text=True, capture_output=True,
    ).stdout  # fmt: skip
    key = json.loads(out.strip().splitlines()[-1])["api_key"]
    if meters is None:
        from prabayar.vending.demo import DEMO_CUSTOMERS

        meters = [c.meter_number for c in DEMO_CUSTOMERS if c.status == "active" and not c.legacy_key
                  and c.replaced_serial is None]  # fmt: skip
    server = Server(env, port, workers, work / "server.log")
    stop = threading.Event()
    pool = [Client(n, port, key, meters, stop, advice=bool(n % 2)) for n in range(clients)]
    figures = Figures()
    server.start()
    try:
        for c in pool:
            c.start()
        time.sleep(before_kill)
        server.kill()  # mid-sale: workers die with transactions open and answers unsent
        time.sleep(1.0)
        server.start()
        time.sleep(after_restart)
        stop.set()
        for c in pool:
            c.join(timeout=120)
    finally:
        stop.set()
        server.stop()
    tokens: dict[str, str] = {}
    started: set[str] = set()
    for c in pool:
        tokens.update(c.tokens)
        started.update(f"CRASH-{c.n}-{i}" for i in range(1, c.started + 1))
        figures.started += c.started
        figures.answered_first_time += c.first_time
        figures.lost_answers += c.lost
        figures.recovered_by_retry += c.by_retry
        figures.recovered_by_advice += c.by_advice
        figures.resold_after_unknown += c.resold
        figures.refused += len(c.refused)
        started -= c.refused
    reconcile(database_url, channel, tokens, started, figures)
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", required=True, help="a migrated database with the demo data")
    ap.add_argument("--port", type=int, default=18090)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--before-kill", type=float, default=8.0)
    ap.add_argument("--after-restart", type=float, default=8.0)
    ap.add_argument(
        "--synthetic-meters", type=int, default=0, help="use this many synthetic meters instead of the demo's"
    )
    args = ap.parse_args()
    meters = None
    if args.synthetic_meters:
        from prabayar.vending.synthetic import synthetic_meter_number

        meters = [synthetic_meter_number(i) for i in range(args.synthetic_meters)]
    figures = run_crash_test(
        args.database_url, port=args.port, workers=args.workers, clients=args.clients, meters=meters,
        before_kill=args.before_kill, after_restart=args.after_restart,
    )  # fmt: skip
    print(json.dumps(figures.as_dict(), indent=2))
    if figures.problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
