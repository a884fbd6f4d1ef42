"""Campaign chunks on a real procrastinate worker against PostgreSQL, and a worker process
killed with SIGKILL in the middle of a chunk: the run after it misses no meter and does none
twice. (The SQLite in-process path is in test_campaigns.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from prabayar.vending import campaign_queue
from prabayar.vending.campaign_models import CampaignChunkRow, CampaignMeterRow
from prabayar.vending.campaigns import Selection, Target
from prabayar.vending.db import reading_session, upgrade
from prabayar.vending.demo import seed_demo
from prabayar.vending.keystore import MasterKey, SoftwareKeyStore
from prabayar.vending.service import VendingService

from .conftest import POSTGRES_URL, FakeClock, make_engine
from .test_campaigns import _add_meters

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PRABAYAR_TEST_POSTGRES_URL"),
]


@pytest.fixture
def pg(tmp_path: Path, master_key: MasterKey) -> Iterator[tuple[VendingService, str]]:
    gen = make_engine("postgresql", tmp_path)
    engine: Engine = next(gen)
    upgrade(engine=engine)
    service = VendingService(engine, SoftwareKeyStore(engine, master_key), clock=FakeClock())
    seed_demo(service)
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    assert POSTGRES_URL is not None
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        yield service, url
    finally:
        for _ in gen:
            pass


def _campaign(service: VendingService, meters: int, chunk_size: int) -> tuple[int, int]:
    _add_meters(service, meters)
    info = service.create_campaign("admin", "KRN 3", "rotasi kunci", Selection(unit="54"), Target(krn=3),
                                   chunk_size=chunk_size)  # fmt: skip
    service.approve_campaign(info.id, "supervisor")
    return info.id, service.plan_campaign(info.id)


def _counts(service: VendingService, cid: int) -> tuple[int, int]:
    with reading_session(service.engine) as session:
        total, distinct = session.execute(
            select(func.count(), func.count(func.distinct(CampaignMeterRow.meter_number)))
            .where(CampaignMeterRow.campaign_id == cid)
        ).one()  # fmt: skip
    return int(total), int(distinct)


def test_a_procrastinate_worker_generates_every_chunk(pg: tuple[VendingService, str]) -> None:
    service, url = pg
    cid, selected = _campaign(service, 1_500, 400)
    assert campaign_queue.ensure_schema(url) is True
    assert campaign_queue.ensure_schema(url) is False
    app = campaign_queue.build_app(url, lambda: service)
    chunks = service.pending_chunks(cid)
    assert campaign_queue.defer_chunks(app, cid, chunks) == len(chunks) >= 4
    assert campaign_queue.defer_chunks(app, cid, chunks) == 0  # each waits once
    campaign_queue.run_worker(app, concurrency=2, wait=False)
    info = service.campaign(cid)
    assert info.status == "done" and info.counts.generated == selected
    assert _counts(service, cid) == (selected, selected)
    with service.engine.connect() as conn:
        states = dict(conn.execute(text("SELECT status, count(*) FROM procrastinate_jobs GROUP BY status")).all())
    assert states == {"succeeded": len(chunks)}


_WORKER = textwrap.dedent(
    """
    import sys, time
    from prabayar.vending import campaign_queue
    from prabayar.vending.db import create_engine_for
    from prabayar.vending.keystore import MasterKey, SoftwareKeyStore
    from prabayar.vending.service import VendingService

    url, master = sys.argv[1], sys.argv[2]
    engine = create_engine_for(url)

    class SlowService(VendingService):
        def generate_campaign_chunk(self, campaign_id, chunk_no, **kw):
            print("start", chunk_no, flush=True)
            return super().generate_campaign_chunk(campaign_id, chunk_no, after_select=lambda: time.sleep(0.4))

    service = SlowService(engine, SoftwareKeyStore(engine, MasterKey.from_base64(master)))
    app = campaign_queue.build_app(url, lambda: service)
    campaign_queue.run_worker(app, concurrency=1, wait=True)
    """
)


def test_a_worker_killed_mid_chunk_misses_nothing_and_repeats_nothing(
    pg: tuple[VendingService, str], master_key: MasterKey, tmp_path: Path
) -> None:
    service, url = pg
    cid, selected = _campaign(service, 3_000, 300)
    campaign_queue.ensure_schema(url)
    app = campaign_queue.build_app(url, lambda: service)
    chunks = service.pending_chunks(cid)
    campaign_queue.defer_chunks(app, cid, chunks)
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    proc = subprocess.Popen(
        [sys.executable, str(script), url, master_key.to_base64()],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        started = 0
        deadline = time.monotonic() + 60
        while started < 3 and time.monotonic() < deadline:
            if (proc.stdout.readline() or "").startswith("start"):
                started += 1
        assert started == 3
        time.sleep(0.15)  # inside the third chunk's transaction
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    with reading_session(service.engine) as session:
        done = session.scalar(
            select(func.count()).where(CampaignChunkRow.campaign_id == cid, CampaignChunkRow.state == "done")
        )
    assert 1 <= int(done or 0) < len(chunks)
    total, distinct = _counts(service, cid)
    assert total == distinct < selected  # only whole chunks were written
    # run again: the killed chunk is queued anew (its job stays "doing"), the rest were waiting
    assert campaign_queue.defer_chunks(app, cid, service.pending_chunks(cid)) >= 1
    campaign_queue.run_worker(app, concurrency=2, wait=False)
    assert service.pending_chunks(cid) == []
    assert _counts(service, cid) == (selected, selected)
    assert service.campaign(cid).status == "done"
