"""``prabayar sts`` sub-commands: key, encode, decode, --jsonl batches, errors with exit code 2."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from prabayar.cli import app

runner = CliRunner()
KEY = "e653341f9d5bf36f"


def test_key_derives_dkga02_and_dkga04() -> None:
    result = runner.invoke(
        app, ["sts", "key", "--meter", "00000000000", "--vending-key", "abababababababab", "--sgc", "123456"]
    )
    assert result.exit_code == 0, result.output
    assert "e653341f9d5bf36f" in result.output
    result = runner.invoke(
        app,
        ["sts", "key", "--meter", "00000000000", "--vending-key", "abababababababab949494949494949401234567",
         "--sgc", "123457", "--algorithm", "11", "--dkga", "04"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "f94b6ed353c3bfdb113e2d3a7ea3c41d" in result.output


def test_key_bad_meter_number_is_one_line_exit_2() -> None:
    result = runner.invoke(app, ["sts", "key", "--meter", "14312593280", "--vending-key", "ab" * 8, "--sgc", "123456"])
    assert result.exit_code == 2
    assert "check digit" in result.output


def test_encode_credit_shows_grouped_digits() -> None:
    result = runner.invoke(
        app, ["sts", "encode", "credit", "--key", KEY, "--tid", "5871715", "--amount", "0.1", "--rnd", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "2371 6100 5011 8319 4197" in result.output


def test_encode_time_gives_the_tid() -> None:
    result = runner.invoke(
        app,
        ["sts", "encode", "credit", "--key", KEY, "--time", "2004-03-01T13:55:00", "--amount", "0.1", "--rnd", "5"],
    )
    assert result.exit_code == 0, result.output
    assert "2371 6100 5011 8319 4197" in result.output


def test_encode_errors_exit_2() -> None:
    for args in (
        ["sts", "encode", "credit", "--key", KEY, "--tid", "1"],
        ["sts", "encode", "credit", "--key", KEY, "--tid", "1", "--amount", "lots"],
        ["sts", "encode", "credit", "--tid", "1", "--amount", "1"],
        ["sts", "encode", "frobnicate", "--key", KEY, "--tid", "1"],
        ["sts", "encode", "credit", "--key", "xyz", "--tid", "1", "--amount", "1"],
        ["sts", "encode", "credit", "--key", KEY, "--time", "2030-01-01T00:00", "--amount", "1"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.output


def test_encode_management_and_key_change() -> None:
    result = runner.invoke(
        app,
        ["sts", "encode", "key-change", "--key", KEY, "--new-key", "060b8643c59a27f1", "--new-sgc", "123456",
         "--new-ti", "02", "--new-krn", "1", "--new-ken", "255"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "5163 8423 0600 4273 4509" in result.output and "1536 1891 7621 1350 2242" in result.output
    assert "c59a27f1" not in result.output
    result = runner.invoke(app, ["sts", "encode", "clear-tamper", "--key", KEY, "--tid", "5910360", "--rnd", "5"])
    assert "3703 7300 0144 6485 5694" in result.output


def test_decode_shows_fields_and_errors() -> None:
    result = runner.invoke(app, ["sts", "decode", "2371-6100-5011-8319-4197", "--key", KEY])
    assert result.exit_code == 0, result.output
    assert "5871715" in result.output and "0.1" in result.output
    result = runner.invoke(app, ["sts", "decode", "2371-6100-5011-8319-4198", "--key", KEY])
    assert result.exit_code == 2 and "TokenCrcError" in result.output
    result = runner.invoke(app, ["sts", "decode", "1234 5678 9012 3456", "--key", KEY])
    assert result.exit_code == 2 and "16 digits given, a token has 20" in result.output


def test_jsonl_batches() -> None:
    lines = "\n".join(
        json.dumps(x)
        for x in (
            {"type": "credit", "key": KEY, "tid": 5871715, "amount": "0.1", "rnd": 5},
            {"type": "credit", "key": KEY, "tid": 5871715},
            {"type": "test", "control": 68719476735},
        )
    )
    result = runner.invoke(app, ["sts", "encode", "--jsonl"], input=lines + "\n[1]\nnot json\n")
    out = [json.loads(line) for line in result.output.splitlines()]
    assert out[0]["token"] == "23716100501183194197"
    assert out[1]["error"] == "SpecError"
    assert out[2]["token"] == "56493153725450313471"
    assert out[3]["error"] == "SpecError" and out[4]["error"] == "JSONDecodeError"
    assert result.exit_code == 1
    result = runner.invoke(
        app, ["sts", "decode", "--jsonl"], input=json.dumps({"token": "23716100501183194197", "key": KEY}) + "\n"
    )
    assert result.exit_code == 0
    assert json.loads(result.output)["fields"]["tid"] == 5871715


def test_demo_runs() -> None:
    result = runner.invoke(app, ["sts", "demo"])
    assert result.exit_code == 0, result.output
    assert "71.3" in result.output
