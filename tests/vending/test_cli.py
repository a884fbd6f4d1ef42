"""The CLI from a fresh data directory: db upgrade, seed --demo, vend, ops (embedded SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prabayar.cli import app
from prabayar.config import get_settings
from prabayar.vending.demo import DEMO_CUSTOMERS

BUDI, JOKO, YULI = DEMO_CUSTOMERS[0], DEMO_CUSTOMERS[10], DEMO_CUSTOMERS[12]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name in ("PRABAYAR_DATABASE_URL", "PRABAYAR_MASTER_KEY", "PRABAYAR_CUTOFF_WIB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PRABAYAR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str, code: int = 0, **env: str) -> str:
    result = cli.invoke(app, list(args), env=env or None)
    assert result.exit_code == code, result.output
    return result.output


def test_fresh_clone_flow(cli: CliRunner, tmp_path: Path) -> None:
    assert "up to date" in run(cli, "db", "upgrade")
    assert (tmp_path / "var" / "prabayar.sqlite3").exists()
    out = run(cli, "seed", "--demo")
    assert BUDI.meter_number in out and "operator-prabayar" in out
    assert (tmp_path / "var" / "prabayar.masterkey").stat().st_mode & 0o777 == 0o600
    assert "already present" in run(cli, "seed", "--demo")
    assert "BUDI SANTOSA WIJAYA" in run(cli, "vend", "inquiry", BUDI.idpel)
    quote = run(cli, "vend", "quote", BUDI.meter_number, "20000", "-c", "MINIMART")
    assert "Rp 23.500,00" in quote and "13,6" in quote
    bought = run(cli, "vend", "buy", BUDI.meter_number, "20000", "-c", "MINIMART", "--ref", "C1")
    assert "STRUK PEMBELIAN LISTRIK PRABAYAR" in bought and "R1/000001300VA" in bought
    again = run(cli, "vend", "buy", BUDI.meter_number, "20000", "-c", "MINIMART", "--ref", "C1")
    assert "earlier purchase" in again
    assert "STROOM/TOKEN" in run(cli, "vend", "advice", "-c", "MINIMART", "--ref", "C1")
    assert "via MINIMART ref C1" in run(cli, "vend", "reprint", BUDI.meter_number)
    assert "no unsold tokens" in run(cli, "vend", "unsold", BUDI.meter_number)


def test_errors_are_one_line_and_exit_1(cli: CliRunner) -> None:
    run(cli, "db", "upgrade")
    run(cli, "seed", "--demo")
    out = run(cli, "vend", "inquiry", JOKO.meter_number, code=1)
    assert "0077" in out and "DIBLOKIR" in out and "Traceback" not in out
    out = run(cli, "vend", "buy", BUDI.meter_number, "30000", "-c", "MINIMART", code=1)
    assert "0013" in out
    assert "0092" in run(cli, "vend", "advice", "-c", "MINIMART", "--ref", "none", code=1)
    assert "pass --demo" in run(cli, "seed", code=2)


def test_missing_schema_says_what_to_do(cli: CliRunner) -> None:
    out = run(cli, "vend", "inquiry", BUDI.meter_number, code=1)
    assert "prabayar db upgrade" in out


def test_operator_commands(cli: CliRunner) -> None:
    run(cli, "db", "upgrade")
    run(cli, "seed", "--demo")
    pw = {"PRABAYAR_OPERATOR_PASSWORD": "operator-prabayar"}
    common = ("-o", "operator", "-r", "field visit")
    out = run(cli, "ops", "clear-tamper", BUDI.meter_number, *common, **pw)
    assert "clear_tamper" in out and "1." in out
    assert "power_limit" in run(cli, "ops", "power-limit", BUDI.meter_number, "2200", *common, **pw)
    out = run(cli, "ops", "clear-credit", BUDI.meter_number, *common, **pw)
    assert "pending approval, id 1" in out and "menunggu persetujuan" in out  # four eyes
    refused = run(cli, "ops", "key-change", YULI.meter_number, "--rollover", *common, code=1, **pw)
    assert "admin" in refused  # key change is admin-only
    admin = {"PRABAYAR_OPERATOR_PASSWORD": "admin-prabayar"}
    out = run(cli, "ops", "key-change", YULI.meter_number, "--rollover", "-o", "admin", "-r", "rollover", **admin)
    assert "pending approval, id 2" in out
    assert "four eyes" in run(cli, "approvals", "approve", "2", "--admin", "admin", code=1, **admin)
    supervisor = {"PRABAYAR_OPERATOR_PASSWORD": "supervisor-prabayar"}
    out = run(cli, "approvals", "approve", "2", "--admin", "supervisor", **supervisor)
    assert "approved" in out and "2." in out  # the two KCTs
    out = run(cli, "approvals", "approve", "1", "--admin", "admin", "-r", "complaint checked", **admin)
    assert "approved" in out and "1." in out
    assert "already approved" in run(cli, "approvals", "reject", "1", "--admin", "supervisor", "-r", "late",
                                     code=1, **supervisor)  # fmt: skip
    bad = run(cli, "ops", "clear-tamper", BUDI.meter_number, *common, code=1,
              PRABAYAR_OPERATOR_PASSWORD="wrong-password")  # fmt: skip
    assert "authentication failed" in bad
    budi = run(cli, "ops", "clear-tamper", BUDI.meter_number, "-o", "budi", "-r", "x y z",
               code=1, PRABAYAR_OPERATOR_PASSWORD="budi-prabayar")  # fmt: skip
    assert "operator or admin" in budi
    out = run(cli, "ops", "vending-key", "123456", "5", "-o", "admin", **admin)
    assert "created" in out
    assert "02 or 04" in run(cli, "ops", "vending-key", "123456", "6", "-o", "admin",
                             "--dkga", "7", code=2, **admin)  # fmt: skip
    audit = run(cli, "ops", "audit", "--action", "management.")
    assert "management.clear_tamper" in audit and "field visit" in audit
    decided = run(cli, "approvals", "list", "--status", "all", "--json")
    assert '"checker": "supervisor"' in decided and '"checker": "admin"' in decided
