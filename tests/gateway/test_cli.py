"""``prabayar gateway partner add|list|remove`` and ``prabayar gateway-client`` against a running gateway."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from prabayar.cli import app
from prabayar.config import get_settings
from prabayar.vending.keystore import MasterKey


@pytest.fixture
def cli(db_path: Path, master_key: MasterKey, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("PRABAYAR_DATABASE_URL", f"sqlite:///{db_path}")
    monkeypatch.setenv("PRABAYAR_MASTER_KEY", master_key.to_base64())
    monkeypatch.setenv("COLUMNS", "220")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_partner_add_list_remove(cli: CliRunner, k: Any) -> None:
    port = str(k.free_port())
    out = run(
        cli, "gateway", "partner", "add", "clih2h", "--port", port, "--framing", "len2", "--switcher-id", "CLIH2H1",
        "--pcid", "7700123", "--bank-code", "0120001", "--bank-code", "0120002", "--source", "10.0.0.0/8",
        "--admin-fee", "2500",
    )  # fmt: skip
    assert "partner CLIH2H" in out and "len2" in out
    listed = run(cli, "gateway", "partner", "list")
    assert "CLIH2H" in listed and port in listed and "0120002" in listed
    again = run(cli, "gateway", "partner", "add", "CLIH2H", "--port", port, "--switcher-id", "CLIH2H1",
                "--pcid", "7700123", "--bank-code", "0120001", code=1)  # fmt: skip
    assert "already" in again
    bad = run(cli, "gateway", "partner", "add", "OTHER", "--port", "1", "--switcher-id", "SHORT",
              "--pcid", "1", "--bank-code", "1", code=1)  # fmt: skip
    assert "7 printable" in bad
    run(cli, "gateway", "partner", "remove", "clih2h")
    assert "CLIH2H" not in run(cli, "gateway", "partner", "list")


def test_gateway_client_purchase_and_advice(cli: CliRunner, gateway: Any, k: Any) -> None:
    port = str(gateway.port("H2HISO"))
    common = ["gateway-client", "--port", port, "--switcher-id", "BNKDEMO", "--pcid", "7700001",
              "--bank-code", "0080001"]  # fmt: skip
    assert "RC 0000" in run(cli, *common, "echo")
    inquiry = run(cli, *common, "inquiry", k.BUDI_METER)
    assert "2110 RC 0000" in inquiry and "BUDI SANTOSA WIJAYA" in inquiry
    bought = run(cli, *common, "purchase", k.BUDI_METER, "--amount", "50000", "--srn", "CLI-SRN-1")
    assert "2210 RC 0000" in bought and "TOKEN" in bought
    time.sleep(0.2)
    advised = run(cli, *common, "advice", k.BUDI_METER, "--amount", "50000", "--srn", "CLI-SRN-1", "--repeat")
    assert "2231 RC 0000" in advised
    unknown = run(cli, *common, "advice", k.BUDI_METER, "--amount", "50000", "--srn", "NEVER-SOLD", code=1)
    assert "RC 0092" in unknown
