"""The master-data CLI on the embedded database: channel, customer, meters, unit, tariff, keys."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
from typer.testing import CliRunner

from prabayar.cli import app
from prabayar.config import get_settings
from prabayar.vending.demo import DEMO_CUSTOMERS, demo_meter_number

BUDI = DEMO_CUSTOMERS[0]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name in ("PRABAYAR_DATABASE_URL", "PRABAYAR_MASTER_KEY", "PRABAYAR_CUTOFF_WIB", "PRABAYAR_KEK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PRABAYAR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "220")
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["seed", "--demo"]).exit_code == 0
    yield runner
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_channel_add_prints_the_key_once_and_it_works(cli: CliRunner) -> None:
    out = run(cli, "channel", "add", "LOKETA", "--name", "Loket A", "--admin-fee", "2500",
              "--purchases-per-minute", "0", "--json")  # fmt: skip
    doc = json.loads(out)
    assert doc["code"] == "LOKETA" and len(doc["api_key"]) >= 24 and set(doc) == {"code", "api_key"}
    listing = run(cli, "channel", "list")
    assert "LOKETA" in listing and "unlimited" in listing and doc["api_key"] not in listing
    rows = [json.loads(line) for line in run(cli, "channel", "list", "--json").splitlines()]
    loket = next(r for r in rows if r["code"] == "LOKETA")
    assert loket["allowed_nominals"] == [20000, 50000, 100000, 200000, 250000, 500000, 1000000]
    assert loket["purchases_per_minute"] == 0 and loket["key_version"] == 1
    # the new channel sells
    assert "STROOM/TOKEN" in run(cli, "vend", "buy", BUDI.meter_number, "20000", "-c", "LOKETA", "--ref", "A1")
    rotated = json.loads(run(cli, "channel", "rotate-key", "LOKETA", "--json", "--reason", "kunci bocor"))
    assert rotated["api_key"] != doc["api_key"]
    assert "LOKETA disabled" in run(cli, "channel", "disable", "LOKETA", "-r", "kontrak selesai")
    out = run(cli, "vend", "buy", BUDI.meter_number, "20000", "-c", "LOKETA", "--ref", "A2", code=1)
    assert "0031" in out
    assert "0005" in run(cli, "channel", "add", "LOKETA", code=1)  # exists
    text = run(cli, "channel", "add", "LOKETB")
    assert "shown once" in text
    out = run(cli, "channel", "add", "LOKETC", "--purchases-per-minute", "-5", code=1)
    assert "purchases" in out.lower()
    audit = run(cli, "ops", "audit", "--action", "channel.add")
    assert "cli:" in audit


def test_customer_and_meter_life_cycle(cli: CliRunner) -> None:
    out = run(cli, "customer", "register", "541999000001", "--name", "Rina", "--address", "Jl. Kenari 3",
              "--tariff", "R1", "--power-va", "1300", "--phone", "081234567890")  # fmt: skip
    assert "RINA" in out and "R1-1300" in out
    number = demo_meter_number(50000001)
    out = run(cli, "meters", "register", number, "--sgc", "123456", "--krn", "2", "--dkga", "04",
              "--base-date", "2014")  # fmt: skip
    assert "in_stock" in out
    assert number in run(cli, "meters", "stock")
    assert number in run(cli, "meters", "install", number, "541999000001")
    assert "STROOM/TOKEN" in run(cli, "vend", "buy", "541999000001", "20000", "-c", "BANKDEMO", "--ref", "R1")
    assert "R2" in run(cli, "customer", "change-power", "541999000001", "3500", "-r", "naik daya")
    assert "541999000001" in run(cli, "customer", "search", "kenari")
    assert "blocked" in run(cli, "customer", "block", "541999000001", "--reason", "P2TL")
    assert "0077" in run(cli, "vend", "buy", "541999000001", "20000", "-c", "BANKDEMO", "--ref", "R2", code=1)
    run(cli, "customer", "unblock", "541999000001", "--reason", "lunas")
    assert "removed" in run(cli, "meters", "remove", number, "--reason", "bongkar")
    assert "0014" in run(cli, "vend", "buy", number, "20000", "-c", "BANKDEMO", "--ref", "R3", code=1)
    assert "closed" in run(cli, "customer", "close", "541999000001", "--reason", "berhenti")
    assert "broken" in run(cli, "meters", "broken", number, "--reason", "rusak")
    out = run(cli, "meters", "register", "01234567890", "--sgc", "123456", "--krn", "2", code=1)
    assert "Luhn" in out or "check digit" in out
    assert "0015" in run(cli, "customer", "show", "541999999999", code=1)


def test_units_and_tariffs(cli: CliRunner) -> None:
    run(cli, "unit", "add", "33", "--uid", "UID Jawa Tengah", "--up3", "UP3 Semarang", "--pbjt", "10%",
        "--rate", "S1-900=0", "--default")  # fmt: skip
    out = run(cli, "unit", "list", "--rates")
    assert "33 UID JAWA TENGAH / UP3 SEMARANG (default)" in out and "10.00 %" in out
    run(cli, "unit", "set-rate", "33", "R1-1300", "0.08")
    out = run(cli, "tariff", "add-version", "R1-1300", "1500.00", "--from", "2099-04-01", "-r", "Permen ESDM 2099")
    assert "2099-04-01 00:00 WIB" in out
    assert "1500.00 from 2099-04-01" in run(cli, "tariff", "list")
    assert "Permen ESDM 2099" in run(cli, "tariff", "history", "R1-1300")
    assert "0005" in run(cli, "tariff", "add-version", "R1-1300", "1500", "--from", "2001-01-01", "-r", "past", code=1)
    run(cli, "tariff", "add-version", "R1-1300", "1", "--from", "someday", "-r", "bad date", code=2)


def test_keys_import_plain_and_wrapped(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    des = secrets.token_bytes(8)
    plain = tmp_path / "k.hex"
    plain.write_text(des.hex().upper() + "\n")
    out = run(cli, "keys", "import", "--sgc", "345678", "--krn", "1", "--key-file", str(plain))
    assert "SGC 345678 KRN 1 DKGA02 fingerprint" in out and des.hex() not in out.lower()
    assert "0005" in run(cli, "keys", "import", "--sgc", "345678", "--krn", "1", "--key-file", str(plain), code=1)
    kek = secrets.token_bytes(32)
    wrapped = tmp_path / "k.wrapped"
    wrapped.write_text(aes_key_wrap_with_padding(kek, secrets.token_bytes(20)).hex())
    out = run(cli, "keys", "import", "--sgc", "345678", "--krn", "2", "--key-file", str(wrapped), "--wrapped", code=1)
    assert "PRABAYAR_KEK" in out
    monkeypatch.setenv("PRABAYAR_KEK", base64.b64encode(kek).decode())
    get_settings.cache_clear()
    out = run(cli, "keys", "import", "--sgc", "345678", "--krn", "2", "--key-file", str(wrapped), "--wrapped")
    assert "DKGA04" in out
    listing = run(cli, "keys", "list")
    assert "345678" in listing and "staged" in listing and "current" in listing
    run(cli, "keys", "import", "--sgc", "345678", "--krn", "3", "--key-file", str(tmp_path / "missing"), code=2)
