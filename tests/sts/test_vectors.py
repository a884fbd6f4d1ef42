"""Every conformance vector, one test each: encode from the inputs, decode the expected token."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from prabayar.cli import app
from prabayar.sts.conformance import check_all, check_entry

from .conftest import VECTORS_FILE, load_vectors

ENTRIES = load_vectors()


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{i}:{e['id']}" for i, e in enumerate(ENTRIES)])
def test_vector(entry: dict[str, Any]) -> None:
    result = check_entry(entry)
    assert result.passed, f"{result.id}: {result.reason}"


def test_every_kind_is_covered() -> None:
    kinds = {e["kind"] for e in ENTRIES}
    assert {"token_generation", "misty1_block", "crc16", "dkga02", "amount_encoding", "pos_rule"} <= kinds
    assert len(ENTRIES) >= 246


def test_each_entry_keeps_its_source() -> None:
    assert all(e.get("source") for e in ENTRIES)


def _flip_one_digit(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    broken = copy.deepcopy(entries)
    for entry in broken:
        digits = entry.get("expected", {}).get("token_20_digits")
        if entry["kind"] == "token_generation" and digits:
            last = str((int(digits[-1]) + 1) % 10)
            entry["expected"]["token_20_digits"] = digits[:-1] + last
            return broken
    raise AssertionError("no token entry to break")


def test_a_changed_expected_digit_fails() -> None:
    results = check_all(_flip_one_digit(ENTRIES))
    failed = [r for r in results if not r.passed]
    assert len(failed) == 1
    assert "expected" in failed[0].reason


def test_cli_conformance_passes_shared_vectors() -> None:
    result = CliRunner().invoke(app, ["sts", "conformance", str(VECTORS_FILE)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == f"{len(ENTRIES)} passed, 0 failed"


def test_cli_conformance_fails_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(_flip_one_digit(ENTRIES)))
    result = CliRunner().invoke(app, ["sts", "conformance", str(path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1] == f"{len(ENTRIES) - 1} passed, 1 failed"
    assert any(line.startswith("FAIL ") for line in lines)


def test_cli_conformance_reports_unreadable_entries(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps([{"id": "x", "kind": "martian"}, {"id": "y", "kind": "token_generation"}]))
    result = CliRunner().invoke(app, ["sts", "conformance", str(path)])
    assert result.exit_code == 1
    assert "UNREADABLE x" in result.output
    assert "0 passed, 2 failed" in result.output


def test_cli_conformance_rejects_non_json(tmp_path: Path) -> None:
    path = tmp_path / "junk.json"
    path.write_text("not json")
    result = CliRunner().invoke(app, ["sts", "conformance", str(path)])
    assert result.exit_code == 2


def test_other_vector_kinds_from_the_same_schema() -> None:
    entries = [
        {
            "id": "dkga04-flat",
            "kind": "dkga04",
            "inputs": {
                "vending_key_hex": "abababababababab949494949494949401234567",
                "meter_pan": "600727000000000009",
                "key_type": 2,
                "sgc": "123457",
                "tariff_index": "01",
                "krn": 1,
                "base_date_code": "93",
                "ea_code": "11",
            },
            "expected": {"decoder_key_hex": "f94b6ed353c3bfdb113e2d3a7ea3c41d"},
        },
        {
            "id": "decode-ok",
            "kind": "token_decoding",
            "encryption": "EA07/STA",
            "inputs": {"token_20_digits": "23716100501183194197", "decoder_key_hex": "e653341f9d5bf36f"},
            "expected": {"fields": {"class": 0, "subclass": 0, "tid": 5871715, "amount": "0.1"}},
        },
        {
            "id": "decode-crc",
            "kind": "token_decoding",
            "encryption": "EA07/STA",
            "inputs": {"token_20_digits": "23716100501183194198", "decoder_key_hex": "e653341f9d5bf36f"},
            "expected": {"error": "CRCError"},
        },
        {
            "id": "crc-c",
            "kind": "crc16",
            "inputs": {"value50_hex": "004065f0d4dff6", "variant": "CRC_C"},
            "expected": {"crc_field_hex": "c645"},
        },
    ]
    results = check_all(entries)
    assert [r.passed for r in results] == [True, True, True, True], results
    wrong = copy.deepcopy(entries[1])
    wrong["expected"]["fields"]["tid"] = 5871716
    assert not check_entry(wrong).passed
    wrong_error = copy.deepcopy(entries[2])
    wrong_error["expected"]["error"] = "UsedError"
    assert not check_entry(wrong_error).passed


def test_pos_rules_refuse_rollover_and_issue_within_ken() -> None:
    rollover = {
        "id": "pos-rollover",
        "kind": "pos_rule",
        "inputs": {"issue_datetime_utc": "2025-01-01T00:00:00", "tid_base_date": "1993-01-01"},
        "expected": {"result": "POS refuses: TID rollover"},
    }
    within = {
        "id": "pos-ok",
        "kind": "pos_rule",
        "inputs": {"ken": 255, "tid": 5916090},
        "expected": {"result": "token issued"},
    }
    assert check_entry(rollover).passed
    assert check_entry(within).passed
    wrong = copy.deepcopy(within)
    wrong["inputs"]["ken"] = 0x55
    assert not check_entry(wrong).passed
