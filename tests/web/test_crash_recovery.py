"""The crash test (bench/crash_test.py) as a slow test: ``prabayar serve --workers 2`` killed
with SIGKILL under load, restarted; clients retry or send advice; the database reconciles.

Runs on PostgreSQL (its own schema); about a minute on a quiet machine.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import secrets
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from prabayar.config import Settings
from prabayar.vending import open_service, upgrade
from prabayar.vending.demo import seed_demo

POSTGRES_URL = os.environ.get("PRABAYAR_TEST_POSTGRES_URL")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PRABAYAR_TEST_POSTGRES_URL"),
    pytest.mark.skipif(not (Path(sys.executable).parent / "prabayar").exists(), reason="prabayar is not installed"),
]


def _crash_module() -> Any:
    spec = importlib.util.spec_from_file_location("crash_test", ROOT / "bench" / "crash_test.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, str]]:
    assert POSTGRES_URL is not None
    schema = f"crash_{secrets.token_hex(5)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    try:
        upgrade(url)
        settings = Settings(database_url=url, master_key=master, data_dir=tmp_path / "data")  # type: ignore[arg-type]
        service = open_service(settings)
        seed_demo(service)
        service.engine.dispose()
        yield url, master
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_sigkill_under_load_loses_nothing_and_sells_nothing_twice(database: tuple[str, str], tmp_path: Path) -> None:
    url, master = database
    crash = _crash_module()
    figures = crash.run_crash_test(
        url,
        port=_free_port(),
        workers=2,
        clients=8,
        before_kill=5.0,
        after_restart=4.0,
        env={"PRABAYAR_MASTER_KEY": master, "PRABAYAR_DATA_DIR": str(tmp_path / "data")},
        work=tmp_path,
    )
    assert figures.problems == []
    assert figures.started > 0 and figures.sales_in_db + figures.refused >= figures.started
    # what the clients were told is what the database holds
    assert (
        figures.answered_first_time
        + figures.recovered_by_retry
        + figures.recovered_by_advice
        + (figures.resold_after_unknown)
        == figures.sales_in_db
    )
