"""Service code 56 (the last entry's result and reason), ``meter enter --json`` and ``--at``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prabayar import sts
from prabayar.cli.meter import app
from prabayar.config import get_settings
from prabayar.meter import AesGcmBox, Meter, ResultKind, StateFile

from .conftest import Rig, params_for

runner = CliRunner()
METER = "00000000000"
CTSA01 = "23716100501183194197"  # 0.1 kWh, TID 2004-03-01 13:55 (CTS meter, vending key abab...)


def test_code_56_before_any_token(rig: Rig) -> None:
    shown = rig.meter.enter_code("56")
    assert shown.kind is ResultKind.CODE and shown.lines_id[1:] == ("Belum ada token",)


@pytest.mark.parametrize(
    ("make_digits", "word_id", "word_en"),
    [
        (lambda rig: rig.credit("5"), "BENAR Diterima", "ACCEPT Accepted"),
        (lambda rig: "12345678901234567890", "GAGAL Salah kunci/CRC", "REJECT CRC/key error"),
        (lambda rig: "1234567890123456", "GAGAL Jumlah digit salah", "REJECT Wrong digit count"),
        (lambda rig: rig.credit("99999"), "GAGAL Kredit penuh", "REJECT Credit overflow"),
    ],
)
def test_code_56_names_the_reason_a_token_failed(
    rig: Rig, make_digits: Callable[[Rig], str], word_id: str, word_en: str
) -> None:
    rig.enter(make_digits(rig))
    shown = rig.meter.enter_code("56")
    assert shown.lines_id[:2] == ("56", word_id) and shown.lines_en[:2] == ("56", word_en)
    assert shown.lines_id[2].endswith("WIB")


def test_code_56_tells_used_from_old_and_a_manufacturer_code_error(rig: Rig) -> None:
    token = rig.credit("1")
    rig.enter(token)
    rig.enter(token)
    assert rig.meter.enter_code("56").lines_en[1] == "REJECT Already used"
    foreign = sts.encode(sts.MeterTestDisplay(control=1, manufacturer_code=99, format=0), None)
    assert rig.enter(foreign).reason == "mfr_code"
    assert rig.meter.enter_code("56").lines_id[1] == "GAGAL Kode pabrikan salah"


def test_code_56_after_a_key_change_and_during_lockout(rig: Rig) -> None:
    kcts = rig.key_change(sts.DecoderKey.from_hex("0102030405060708"), params_for(krn=2))
    assert [rig.enter(k).kind for k in kcts] == [ResultKind.KCT_PARTIAL, ResultKind.KEY_CHANGED]
    assert rig.meter.enter_code("56").lines_en[1] == "ACCEPT Key changed"
    while rig.enter("12345678901234567890").kind is not ResultKind.LOCKED:
        pass
    assert rig.meter.enter_code("56").lines_en[1] == "REJECT Keypad locked out"


def test_an_empty_enter_is_not_an_entry(rig: Rig) -> None:
    rig.enter(rig.credit("2"))
    rig.enter("")
    assert rig.meter.enter_code("56").lines_en[1] == "ACCEPT Accepted"


def test_the_last_entry_survives_a_reload(tmp_path: Path, rig: Rig) -> None:
    box = AesGcmBox(bytes(range(32)))
    store = StateFile(tmp_path / "m.json", box)
    stored = Meter(rig.meter.state, rig.clock, store)
    stored.enter_token("12345678901234567890")
    again = Meter.open(store, rig.clock)
    assert again.state.last_entry is not None and again.state.last_entry.reason == "crc"
    assert again.enter_code("56").lines_en[1] == "REJECT CRC/key error"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PRABAYAR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PRABAYAR_MASTER_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _new_cts_meter() -> None:
    result = runner.invoke(app, [
        "new", "-m", METER, "--vending-key", "abababababababab", "--dkga", "02",
        "--base-date", "1993", "--manufactured", "2004-01-01T00:00:00",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output


def test_enter_json_gives_the_reason_and_exit_code(data_dir: Path) -> None:
    _new_cts_meter()
    result = runner.invoke(app, ["enter", CTSA01, "12345678901234567890", "-m", METER, "--json"])
    assert result.exit_code == 1  # one was refused
    first, second = json.loads(result.output)
    assert (first["kind"], first["accepted"], first["kwh_added"]) == ("accept", True, "0.1")
    assert (second["kind"], second["reason"], second["accepted"]) == ("reject", "crc", False)
    assert second["display"]["id"][0] == "GAGAL" and second["token"] == "12345678901234567890"


def test_enter_at_replays_a_sequence_at_the_customer_s_times(data_dir: Path) -> None:
    _new_cts_meter()
    at = "2004-03-01T21:00:00+07:00"
    ok = runner.invoke(app, ["enter", CTSA01, "-m", METER, "--json", "--at", at])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)[0]["at"] == datetime(2004, 3, 1, 14, tzinfo=UTC).isoformat()
    later = (datetime(2004, 3, 1, 14, tzinfo=UTC) + timedelta(hours=1)).isoformat()
    again = runner.invoke(app, ["enter", CTSA01, "-m", METER, "--json", "--at", later])
    assert json.loads(again.output)[0]["kind"] == "used"
    code = runner.invoke(app, ["code", "56", "-m", METER, "--at", later])
    assert "Sudah dipakai" in code.output and "01-03-2004 22:00 WIB" in code.output


def test_enter_at_refuses_a_time_before_the_meter_s_own(data_dir: Path) -> None:
    _new_cts_meter()
    assert runner.invoke(app, ["enter", CTSA01, "-m", METER, "--at", "2004-03-02T00:00+07:00"]).exit_code == 0
    back = runner.invoke(app, ["enter", CTSA01, "-m", METER, "--at", "2004-03-01T00:00+07:00"])
    assert back.exit_code == 2 and "before the meter's own time" in back.output
    bad = runner.invoke(app, ["enter", CTSA01, "-m", METER, "--at", "yesterday"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
