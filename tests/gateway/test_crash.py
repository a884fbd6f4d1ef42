"""kill -9 of the gateway between a partner's purchase and its answer (ISO8583.md §6.7):
after a restart the partner's advice (or, on 0092, the resent 2200) gets the token and
nothing is sold twice."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from prabayar.gateway import iso
from prabayar.gateway.client import GatewayClient
from prabayar.gateway.framing import encode_frame
from prabayar.vending.keystore import MasterKey
from prabayar.vending.service import VendingService

AMOUNT = 50_000


def _prabayar() -> str:
    exe = Path(sys.executable).parent / "prabayar"
    if not exe.exists():
        found = shutil.which("prabayar")
        if found is None:
            pytest.skip("the prabayar console script is not installed")
        return found
    return str(exe)


def _start(db_path: Path, master_key: MasterKey, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PRABAYAR_DATABASE_URL": f"sqlite:///{db_path}",
        "PRABAYAR_MASTER_KEY": master_key.to_base64(),
    }
    proc = subprocess.Popen(
        [_prabayar(), "gateway", "run", "--reload-interval", "0.5"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise AssertionError("the gateway exited at start") from None
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the gateway did not start listening")


@pytest.mark.parametrize("kill_after", ["sale_visible", "at_once"])
def test_kill_9_between_purchase_and_answer(
    service: VendingService, db_path: Path, master_key: MasterKey, k: Any, kill_after: str
) -> None:
    port = k.free_port()
    service.add_gateway_partner(
        "H2HISO",
        port=port,
        switcher_id="BNKDEMO",
        pcid="7700001",
        bank_codes=["0080001"],
        sources=["127.0.0.1/32"],
        server=True,
    )
    meter = k.BUDI_METER
    srn = f"KILL9{kill_after}".replace("_", "")
    f48 = k.ISO.purchase_48(identifier=meter, srn=srn)
    proc = _start(db_path, master_key, port)
    got_2210: str | None = None
    try:
        with GatewayClient("127.0.0.1", port, timeout=10) as c:
            assert c.request(k.ISO.network("001"))[1]["39"] == "0000"
            c.send_bytes(encode_frame("trailer", iso.encode(*k.ISO.purchase(f48, AMOUNT))))
            if kill_after == "5ms":
                time.sleep(0.005)
            elif kill_after == "sale_visible":
                deadline = time.monotonic() + 10
                while not service.reprint(meter, limit=5) and time.monotonic() < deadline:
                    time.sleep(0.001)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            try:  # an answer may have been written before the kill
                mti, f = c.recv(timeout=1)
                if mti == "2210" and f["39"] == "0000":
                    got_2210 = f["48"][221:241]
            except (ConnectionError, TimeoutError, OSError):
                pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    proc = _start(db_path, master_key, port)
    try:
        with GatewayClient("127.0.0.1", port, timeout=30) as c:
            assert c.request(k.ISO.network("001"))[1]["39"] == "0000"
            mti, f = c.request(k.ISO.advice(f48, AMOUNT))  # §6.7 step 1
            assert mti == "2230"
            if f["39"] == "0092":  # nothing was sold: resend the 2200 with the same SRN
                assert got_2210 is None
                mti, f = c.request(k.ISO.purchase(f48, AMOUNT))
                assert mti == "2210"
            assert f["39"] == "0000"
            token = f["48"][221:241]
            again = c.request(k.ISO.purchase(f48, AMOUNT))[1]  # and a late resend is a replay
            assert again["39"] == "0000" and again["48"][221:241] == token
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    sales = service.reprint(meter, limit=50)
    assert [s.token for s in sales] == [token]
    assert got_2210 in (None, token)
    assert proc.returncode == 0  # SIGTERM: a graceful stop
