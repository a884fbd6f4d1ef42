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
    op = ["--operator", "operator"]
    steps = [
        ["ticket", "assign", number, "teknisi-1", *op],
        ["ticket", "schedule", number, "2030-01-02 09:00", *op],
        ["ticket", "inspect", number, "--note", "all fine", "--ok", *op],
        ["ticket", "comment", number, "customer informed", *op],
        ["ticket", "resolve", number, "--resolution", "explained 20 digits", *op],
        ["ticket", "close", number, *op],
    ]
    for args in steps:
        result = runner.invoke(app, args, env=OPERATOR_PASSWORD)
        assert result.exit_code == 0, (args, result.output)
    shown = json.loads(runner.invoke(app, ["ticket", "show", number, "--json"]).output)
    assert shown["status"] == "closed"
    assert [e["kind"] for e in shown["events"]] == [
        "opened", "assigned", "visit_scheduled", "inspected", "comment", "resolved", "closed",
    ]  # fmt: skip
    listed = json.loads(runner.invoke(app, ["ticket", "list", "--json"]).output)
    assert [t["number"] for t in listed] == [number]
    assert runner.invoke(app, ["ticket", "list", "--status", "bogus"]).exit_code != 0
    refused = runner.invoke(app, ["ticket", "clear-tamper", number, "--operator", "operator"], env=OPERATOR_PASSWORD)
    assert refused.exit_code == 1 and "closed" in refused.output
    assert "Traceback" not in refused.output


OPERATOR_PASSWORD = {"PRABAYAR_OPERATOR_PASSWORD": "operator-prabayar"}


def test_ticket_steps_ask_for_the_operators_password(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRABAYAR_OPERATOR_PASSWORD", raising=False)
    opened = runner.invoke(app, ["ticket", "open", BUDI.meter_number, "--channel", "cc123", "--json"])
    number = json.loads(opened.output)["number"]
    # no password in the environment: it is asked for (hidden), as `prabayar ops` does
    asked = runner.invoke(app, ["ticket", "assign", number, "tek", "-o", "operator"], input="operator-prabayar\n")
    assert asked.exit_code == 0, asked.output
    assert "Password" in asked.output and "operator-prabayar" not in asked.output
    wrong = runner.invoke(app, ["ticket", "comment", number, "x", "-o", "operator"], input="nope\n")
    assert wrong.exit_code == 1 and "authentication failed" in wrong.output
    customer = runner.invoke(app, ["ticket", "comment", number, "x", "-o", "budi"],
                             env={"PRABAYAR_OPERATOR_PASSWORD": "budi-prabayar"})  # fmt: skip
    assert customer.exit_code == 1 and "operator or admin" in customer.output
    shown = json.loads(runner.invoke(app, ["ticket", "show", number, "--json"]).output)
    assert [e["actor"] for e in shown["events"]] == ["cli", "operator"]  # the proven account


def test_key_change_and_replacement_from_the_cli_wait_for_a_second_admin(cli_env: Path) -> None:
    opened = runner.invoke(app, ["ticket", "open", BUDI.meter_number, "--channel", "cc123", "--json"])
    number = json.loads(opened.output)["number"]
    operator = {"PRABAYAR_OPERATOR_PASSWORD": "operator-prabayar"}
    admin = {"PRABAYAR_OPERATOR_PASSWORD": "admin-prabayar"}
    refused = runner.invoke(app, ["ticket", "key-change", number, "-o", "operator"], env=operator)
    assert refused.exit_code == 1 and "admin" in refused.output  # key change is admin-only
    asked = runner.invoke(app, ["ticket", "key-change", number, "-o", "admin"], env=admin)
    assert asked.exit_code == 0, asked.output
    assert "pending approval, id 1" in asked.output
    listed = runner.invoke(app, ["approvals", "list", "--json"])
    assert listed.exit_code == 0 and [r["kind"] for r in json.loads(listed.output)] == ["key_change"]
    same = runner.invoke(app, ["approvals", "approve", "1", "--admin", "admin"], env=admin)
    assert same.exit_code == 1 and "four eyes" in same.output
    by_operator = runner.invoke(app, ["approvals", "approve", "1", "--admin", "operator"], env=operator)
    assert by_operator.exit_code == 1 and "admin" in by_operator.output
    done = runner.invoke(app, ["approvals", "approve", "1", "--admin", "supervisor", "-r", "checked"],
                         env={"PRABAYAR_OPERATOR_PASSWORD": "supervisor-prabayar"})  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "approved" in done.output and "2." in done.output
    shown = json.loads(runner.invoke(app, ["ticket", "show", number, "--json"]).output)
    assert len(shown["issued_tokens"]) == 2

    for step in (["assign", number, "tek"], ["inspect", number, "--note", "dead", "--ok"]):
        assert runner.invoke(app, ["ticket", *step, "-o", "operator"], env=operator).exit_code == 0
    new = "1410000099"
    from prabayar import sts

    new += sts.meter_number.calc_check_digit(new)
    too_much = runner.invoke(app, ["ticket", "replace-meter", number, new, "--carried-kwh", "99999",
                                   "-o", "operator"], env=operator)  # fmt: skip
    assert too_much.exit_code == 1 and "monthly cap" in too_much.output
    asked = runner.invoke(app, ["ticket", "replace-meter", number, new, "--carried-kwh", "12.39",
                                "-o", "operator"], env=operator)  # fmt: skip
    assert asked.exit_code == 0 and "pending approval, id 2" in asked.output and "12.3 kWh" in asked.output
    rejected = runner.invoke(app, ["approvals", "reject", "2", "--admin", "admin", "-r", "wrong number"], env=admin)
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    decided = json.loads(runner.invoke(app, ["approvals", "list", "--status", "all", "--json"]).output)
    assert [(r["id"], r["status"], r["checker"]) for r in decided] == [
        (2, "rejected", "admin"), (1, "approved", "supervisor"),
    ]  # fmt: skip
