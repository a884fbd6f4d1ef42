"""``prabayar meter``: the CLI face over the meter, against real state files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from prabayar.cli import app as root_app
from prabayar.cli.meter import app, parse_duration, sparkline
from prabayar.config import get_settings

METER = "00000000000"  # PAN 600727000000000009: the CTS meter
CTSA01 = "2371 6100 5011 8319 4197"  # 0.1 kWh, TID 2004-03-01 13:55
runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PRABAYAR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PRABAYAR_MASTER_KEY", raising=False)
    monkeypatch.delenv("PRABAYAR_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def make_cts_meter(*extra: str) -> None:
    code, out = invoke(
        "new", "-m", METER, "--vending-key", "abababababababab", "--dkga", "02",
        "--base-date", "1993", "--manufactured", "2004-01-01T00:00:00", *extra,
    )  # fmt: skip
    assert code == 0, out


def test_new_from_vending_key_derives_the_cts_decoder_key(data_dir: Path) -> None:
    make_cts_meter()
    assert (data_dir / "meters" / f"{METER}.json").exists()
    code, out = invoke("enter", *CTSA01.split(), "-m", METER)
    assert code == 0 and "BENAR" in out and "ACCEPT" in out and "+0.1 kWh" in out
    code, out = invoke("enter", CTSA01, "-m", METER)
    assert code == 1 and "USED" in out


def test_new_from_decoder_key_with_state_path(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "meter.json"
    code, out = invoke("new", "-m", "01234567897", "--state", str(path),
                       "--decoder-key", "e653341f9d5bf36f", "--power-limit", "1300")  # fmt: skip
    assert code == 0, out
    code, out = invoke("show", "--state", str(path), "--json")
    doc = json.loads(out)
    assert doc["meter_number"] == "01234567897" and doc["power_limit_watts"] == 1300
    assert "e653341f9d5bf36f" not in out and "e653341f9d5bf36f" not in path.read_text()


@pytest.mark.parametrize(
    "args",
    [
        ["new", "-m", METER],
        ["new", "-m", METER, "--decoder-key", "00" * 8, "--vending-key", "ab" * 8],
        ["new", "-m", "12345678901", "--decoder-key", "00" * 8],
        ["new", "-m", METER, "--decoder-key", "zz"],
        ["new", "-m", METER, "--decoder-key", "00" * 8, "--sgc", "12"],
        ["new", "-m", METER, "--decoder-key", "00" * 8, "--base-date", "1993"],  # 1993 ran out
        ["show"],
        ["show", "-m", METER],
        ["enter", CTSA01],
        ["tamper", "9", "-m", METER],
    ],
)
def test_person_errors_give_a_message_and_exit_2(args: list[str]) -> None:
    code, out = invoke(*args)
    assert code == 2 and "error:" in out and "Traceback" not in out


def test_second_new_never_replaces_a_meter(data_dir: Path) -> None:
    make_cts_meter()
    before = (data_dir / "meters" / f"{METER}.json").read_bytes()
    code, out = invoke("new", "-m", METER, "--decoder-key", "11" * 8)
    assert code == 2 and "already exists" in out
    assert (data_dir / "meters" / f"{METER}.json").read_bytes() == before


def test_damaged_state_file_is_reported_and_kept(data_dir: Path) -> None:
    make_cts_meter()
    path = data_dir / "meters" / f"{METER}.json"
    path.write_text("{half", encoding="utf-8")
    code, out = invoke("code", "37", "-m", METER)
    assert code == 2 and "not valid JSON" in out
    assert path.read_text(encoding="utf-8") == "{half"


def test_codes_run_tamper_show(data_dir: Path) -> None:
    make_cts_meter("--power-limit", "5000")
    invoke("enter", CTSA01, "-m", METER)
    code, out = invoke("code", "37", "-m", METER)
    assert code == 0 and "Sisa 0.10 kWh" in out and "Remaining 0.10 kWh" in out
    code, out = invoke("code", "99", "-m", METER)
    assert code == 1 and "KODE SALAH" in out
    code, out = invoke("code", "--list")
    assert "123000" in out and "silence the low-credit alarm" in out
    code, out = invoke("load", "100", "-m", METER)
    assert code == 0 and "relay closed" in out
    code, out = invoke("run", "-m", METER, "--load", "100", "--duration", "2h", "--samples", "4")
    assert code == 0 and "credit ran out" in out and "0.00 kWh" in out
    code, out = invoke("tamper", "reverse_and", "-m", METER)
    assert code == 0 and "PERIKSA" in out and "reverse current and bypass" in out
    code, out = invoke("show", "-m", METER)
    assert code == 0 and "PERIKSA" in out and "tamper" in out and "credit_exhausted" in out
    doc = json.loads(invoke("show", "-m", METER, "--json")[1])
    assert doc["tamper"] == 5 and doc["relay"] == "open_no_credit" and doc["credit_kwh"] == "0"


def test_run_rejects_a_bad_duration() -> None:
    make_cts_meter()
    code, out = invoke("run", "-m", METER, "--load", "100", "--duration", "soon")
    assert code == 2 and "not a duration" in out


def test_parse_duration() -> None:
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("1h30m") == timedelta(hours=1, minutes=30)
    assert parse_duration("3d") == timedelta(days=3)
    assert parse_duration("45") == timedelta(seconds=45)
    for bad in ("", "2x", "h", "1h and more"):
        with pytest.raises(typer.BadParameter):
            parse_duration(bad)


def test_sparkline() -> None:
    from decimal import Decimal

    assert sparkline([Decimal(8), Decimal(4), Decimal(0)]) == "█▄▁"
    assert sparkline([Decimal(0), Decimal(0)]) == "▁▁"


def test_registered_under_prabayar_meter() -> None:
    result = runner.invoke(root_app, ["meter", "--help"])
    assert result.exit_code == 0
    for command in ("new", "enter", "code", "run", "tamper", "show", "tui"):
        assert command in result.output


def test_tui_command_opens_the_meter_in_the_terminal_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from prabayar.meter.tui import MeterApp

    make_cts_meter()
    opened: list[str] = []
    monkeypatch.setattr(MeterApp, "run", lambda self: opened.append(self.meter.state.meter_number))
    code, out = invoke("tui", "-m", METER)
    assert code == 0, out
    assert opened == [METER]
