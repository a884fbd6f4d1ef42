"""Gateway benchmark: ISO 8583 purchases/s over TCP, side by side with the JSON channel API.

What it does, the way an operator would:

1. creates the PostgreSQL database if needed, ``prabayar db upgrade``, ``prabayar seed --demo``
   and ``prabayar seed --synthetic-meters N`` (so that no meter reaches its monthly kWh cap);
2. makes ``BENCHH2H`` an ISO 8583 partner (``prabayar gateway partner add``) and lifts the JSON
   channel ``BANKDEMO``'s per-minute purchase limit (a bench is not a fraud pattern);
3. starts ``prabayar gateway run`` and ``prabayar serve`` (one process each, same database);
4. for 1 and 16 connections, alternating ISO and JSON phases of ``--duration`` seconds:
   every connection signs on (ISO) or keeps its HTTP/1.1 connection alive (JSON) and sends one
   purchase at a time for the next meter (a new SRN / channel reference each), measuring each
   answer; both clients are the same small asyncio loop in this process;
5. prints purchases/s, p50/p99 and non-0000 answers per phase and the ratio ISO / JSON.

The ISO path does one more database write per sale than the JSON phase measures: the
delivery mark after the 2210 is written (the JSON channel confirms in a separate call, which
this bench does not send). The machine is shared and noisy: read the ratio, not the absolute
numbers.

    .venv/bin/python bench/gateway_bench.py --duration 8
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from prabayar.gateway import iso
from prabayar.gateway.client import Partner, decode
from prabayar.gateway.framing import FrameDecoder, encode_frame

BIN = Path(sys.executable).parent
PRABAYAR = str(BIN / "prabayar")
BENCH_MASTER_KEY = base64.b64encode(b"prabayar-gateway-bench-master-k!").decode()
PARTNER = Partner(switcher_id="BENCHH2", pcid="7711001", bank_code="0110001", terminal_id="BENCHTERMINAL001")
NOMINAL = 20_000


def sh(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, text=True, capture_output=True, check=False)
    if done.returncode != 0 and "already" not in (done.stdout + done.stderr):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")


def ensure_database(url: str) -> None:
    import psycopg

    dsn = re.sub(r"^postgresql\+psycopg://", "postgresql://", url)
    name = dsn.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(dsn.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def meters(url: str, limit: int) -> list[str]:
    import psycopg

    dsn = re.sub(r"^postgresql\+psycopg://", "postgresql://", url)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT m.meter_number FROM meters m JOIN customers c ON c.id = m.customer_id "
            "WHERE m.status = 'active' AND c.status = 'active' AND length(m.meter_number) = 11 "
            "AND m.meter_number NOT LIKE '141%%' ORDER BY m.id LIMIT %s",
            (limit,),
        ).fetchall()
    return [r[0] for r in rows]


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its children (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Phase:
    def __init__(self, name: str, connections: int) -> None:
        self.name = name
        self.connections = connections
        self.latencies: list[float] = []
        self.failures: dict[str, int] = {}
        self.elapsed = 0.0
        self.server_cpu = 0.0

    def row(self) -> dict[str, object]:
        lat = sorted(self.latencies)
        p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: 0.0)
        return {
            "path": self.name,
            "connections": self.connections,
            "purchases": len(lat),
            "per_s": len(lat) / self.elapsed if self.elapsed else 0.0,
            "p50_ms": p(0.50),
            "p99_ms": p(0.99),
            "mean_ms": statistics.fmean(lat) * 1000 if lat else 0.0,
            "cpu_ms": self.server_cpu / len(lat) * 1000 if lat else 0.0,
            "failures": dict(self.failures),
        }


async def iso_connection(port: int, meter_iter: Iterator[str], stop: float, phase: Phase) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    decoder = FrameDecoder("trailer")
    frames: list[bytes] = []

    async def exchange(message: tuple[str, dict[str, str]]) -> dict[str, str]:
        writer.write(encode_frame("trailer", iso.encode(*message)))
        while not frames:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("gateway closed")
            frames.extend(decoder.feed(data))
        return decode(frames.pop(0))[1]

    assert (await exchange(PARTNER.network("001")))["39"] == "0000"
    while time.monotonic() < stop:
        f48 = PARTNER.purchase_48(identifier=next(meter_iter), srn=uuid.uuid4().hex)
        t0 = time.perf_counter()
        answer = await exchange(PARTNER.purchase(f48, NOMINAL))
        if answer["39"] == "0000":
            phase.latencies.append(time.perf_counter() - t0)
        else:
            phase.failures[answer["39"]] = phase.failures.get(answer["39"], 0) + 1
    writer.close()


async def json_connection(port: int, api_key: str, meter_iter: Iterator[str], stop: float, phase: Phase) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.monotonic() < stop:
        body = json.dumps(
            {"channel_reference": uuid.uuid4().hex, "identifier": next(meter_iter), "nominal": NOMINAL}
        ).encode()
        head = (
            f"POST /api/v1/channel/purchase HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {api_key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        t0 = time.perf_counter()
        writer.write(head + body)
        header = await reader.readuntil(b"\r\n\r\n")
        status = header.split(b" ", 2)[1].decode()
        length = int(re.search(rb"(?i)content-length: *(\d+)", header).group(1))  # type: ignore[union-attr]
        await reader.readexactly(length)
        if status == "200":
            phase.latencies.append(time.perf_counter() - t0)
        else:
            phase.failures[status] = phase.failures.get(status, 0) + 1
    writer.close()


async def run_phase(
    kind: str, connections: int, duration: float, port: int, api_key: str, meter_iter: Iterator[str]
) -> Phase:
    phase = Phase(kind, connections)
    stop = time.monotonic() + duration
    t0 = time.monotonic()
    if kind == "ISO 8583":
        jobs = [iso_connection(port, meter_iter, stop, phase) for _ in range(connections)]
    else:
        jobs = [json_connection(port, api_key, meter_iter, stop, phase) for _ in range(connections)]
    await asyncio.gather(*jobs)
    phase.elapsed = time.monotonic() - t0
    return phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("GATEWAY_BENCH_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/prabayar_gateway"),
    )
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--meters", type=int, default=5000)
    parser.add_argument("--gateway-workers", type=int, default=8)
    parser.add_argument("--connections", default="1,16")
    args = parser.parse_args()

    url = args.database_url
    env = {**os.environ, "PRABAYAR_DATABASE_URL": url, "PRABAYAR_MASTER_KEY": BENCH_MASTER_KEY}
    ensure_database(url)
    sh([PRABAYAR, "db", "upgrade"], env)
    sh([PRABAYAR, "seed", "--demo"], env)
    sh([PRABAYAR, "seed", "--synthetic-meters", str(args.meters)], env)
    iso_port, http_port = free_port(), free_port()
    subprocess.run([PRABAYAR, "gateway", "partner", "remove", "BENCHH2H"], env=env, capture_output=True, check=False)
    sh(
        [PRABAYAR, "gateway", "partner", "add", "BENCHH2H", "--port", str(iso_port), "--switcher-id", "BENCHH2",
         "--pcid", "7711001", "--bank-code", "0110001", "--source", "127.0.0.1/32", "--max-connections", "32",
         "--admin-fee", "2500"],
        env,
    )  # fmt: skip
    from prabayar.vending import open_service
    from prabayar.vending.demo import DEMO_CHANNEL_KEYS

    os.environ.update({"PRABAYAR_DATABASE_URL": url, "PRABAYAR_MASTER_KEY": BENCH_MASTER_KEY})
    service = open_service()
    from prabayar.vending import InvalidRequest

    with contextlib.suppress(InvalidRequest):  # "nothing to change": an earlier run lifted it
        service.update_channel(
            "bench", "BANKDEMO", "gateway bench: no per-minute limit", purchases_per_minute=0, server=True
        )
    api_key = DEMO_CHANNEL_KEYS["BANKDEMO"]
    numbers = meters(url, args.meters)
    if len(numbers) < 100:
        raise SystemExit("too few meters to sell to")
    meter_iter = itertools.cycle(numbers)

    gateway = subprocess.Popen(
        [PRABAYAR, "gateway", "run", "--workers", str(args.gateway_workers), "--log-level", "WARNING",
         "--reload-interval", "60"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    web = subprocess.Popen(
        [PRABAYAR, "serve", "--port", str(http_port), "--no-demo", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    rows: list[dict[str, object]] = []
    try:
        wait_port(iso_port, gateway)
        wait_port(http_port, web)
        load = os.getloadavg()[0]
        for connections in [int(c) for c in args.connections.split(",")]:
            for kind, port, proc in (("ISO 8583", iso_port, gateway), ("JSON API", http_port, web)):
                asyncio.run(run_phase(kind, connections, 1.0, port, api_key, meter_iter))  # warm-up
                cpu0 = cpu_seconds(proc.pid)
                phase = asyncio.run(run_phase(kind, connections, args.duration, port, api_key, meter_iter))
                phase.server_cpu = cpu_seconds(proc.pid) - cpu0
                rows.append(phase.row())
                r = rows[-1]
                print(
                    f"{kind:9} {connections:3} conn: {r['per_s']:7.1f}/s  p50 {r['p50_ms']:6.1f} ms  "
                    f"p99 {r['p99_ms']:6.1f} ms  server CPU {r['cpu_ms']:5.1f} ms/purchase  n={r['purchases']}  "
                    f"failures={r['failures']}",
                    flush=True,
                )
        load_after = os.getloadavg()[0]
    finally:
        for proc in (gateway, web):
            proc.send_signal(signal.SIGTERM)
        for proc in (gateway, web):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    print()
    print(
        f"load average {load:.1f} -> {load_after:.1f}; {os.cpu_count()} cores; database {re.sub(r'//.*@', '//', url)}"
    )
    print("| path | connections | purchases | purchases/s | p50 ms | p99 ms | server CPU ms/purchase | non-success |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['path']} | {r['connections']} | {r['purchases']} | {r['per_s']:.1f} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['cpu_ms']:.1f} | {r['failures'] or '-'} |"
        )
    for connections in sorted({int(r["connections"]) for r in rows}):  # type: ignore[call-overload]
        iso_rate = next(r["per_s"] for r in rows if r["connections"] == connections and r["path"] == "ISO 8583")
        json_rate = next(r["per_s"] for r in rows if r["connections"] == connections and r["path"] == "JSON API")
        print(f"ratio ISO/JSON at {connections} connection(s): {iso_rate / json_rate:.2f}")  # type: ignore[operator]


if __name__ == "__main__":
    main()
