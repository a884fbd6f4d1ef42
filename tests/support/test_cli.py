"""``prabayar diagnose`` and ``prabayar ticket``: thin faces over the same use cases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prabayar.cli import app
from prabayar.config import get_settings

from .conftest import BUDI, mistype

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PRABAYAR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PRABAYAR_DATABASE_URL", raising=False)
    monkeypatch.delenv("PRABAYAR_MASTER_KEY", raising=False)
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["seed", "--demo"]).exit_code == 0
    yield tmp_path
    get_settings.cache_clear()


def _buy() -> str:
    from prabayar.vending import open_service

    result = open_service().purchase("BANKDEMO", "cli-test-1", BUDI.meter_number, 50_000)
    return result.token


def test_diagnose_typo_as_json_and_text(cli_env: Path) -> None:
    token = _buy()
    typed = mistype(token, 13)
    out = runner.invoke(app, ["diagnose", BUDI.meter_number, typed, "--display", "GAGAL", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["cause"] == "typo" and data["confidence"] == "certain"
    assert data["next_steps"][0]["tokens"] == [token]
    grouped = " ".join(typed[i : i + 4] for i in range(0, 20, 4))
    text = runner.invoke(app, ["diagnose", BUDI.idpel, *grouped.split()])
    assert text.exit_code == 0 and "salah ketik" in text.output and "typing error" in text.output


def test_diagnose_unknown_meter_is_one_clear_message(cli_env: Path) -> None:
    out = runner.invoke(app, ["diagnose", "14999999990"])
    assert out.exit_code == 1
    assert "tidak ditemukan" in out.output and "Traceback" not in out.output


def test_ticket_flow_from_the_cli(cli_env: Path) -> None:
    token = _buy()
    opened = runner.invoke(app, ["ticket", "open", BUDI.meter_number, "--channel", "whatsapp",
                                 "--token", token[:16], "--actor", "wa-agent", "--json"])  # fmt: skip
    assert opened.exit_code == 0, opened.output
    ticket = json.loads(opened.output)
    number = ticket["number"]
    assert ticket["category"] == "sixteen_digits" and ticket["diagnosis"]["cause"] == "sixteen_digits"
    steps = [
        ["ticket", "assign", number, "teknisi-1"],
        ["ticket", "schedule", number, "2030-01-02 09:00"],
        ["ticket", "inspect", number, "--note", "all fine", "--ok"],
        ["ticket", "comment", number, "customer informed"],
        ["ticket", "resolve", number, "--resolution", "explained 20 digits"],
        ["ticket", "close", number],
    ]
    for args in steps:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    shown = json.loads(runner.invoke(app, ["ticket", "show", number, "--json"]).output)
    assert shown["status"] == "closed"
    assert [e["kind"] for e in shown["events"]] == [
        "opened", "assigned", "visit_scheduled", "inspected", "comment", "resolved", "closed",
    ]  # fmt: skip
    listed = json.loads(runner.invoke(app, ["ticket", "list", "--json"]).output)
    assert [t["number"] for t in listed] == [number]
    assert runner.invoke(app, ["ticket", "list", "--status", "bogus"]).exit_code != 0
    refused = runner.invoke(app, ["ticket", "clear-tamper", number, "--operator", "operator"])
    assert refused.exit_code == 1 and "closed" in refused.output
    assert "Traceback" not in refused.output
