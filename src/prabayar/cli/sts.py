"""``prabayar sts``: the token engine from the command line (engineers, meter makers, test labs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from prabayar import sts
from prabayar.cli._token_spec import SpecError, build_tokens, parse_key, token_fields
from prabayar.sts.conformance import check_all

app = typer.Typer(no_args_is_help=True)
console = Console()
err = Console(stderr=True)

KeyOpt = Annotated[str | None, typer.Option("--key", "-k", help="decoder key, hex (MSB first)")]
AlgOpt = Annotated[
    str | None, typer.Option("--algorithm", "-a", help="07 STA, 11 MISTY1, 09 DEA (default by key length)")
]
ERRORS = (sts.StsError, SpecError, ValueError)


def fail(message: str) -> typer.Exit:
    """Print a one-line error and give exit code 2."""
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(2)


@app.command()
def key(
    meter: Annotated[str, typer.Option(help="meter number (11 or 13 digits)")],
    vending_key: Annotated[str, typer.Option(help="vending key, hex")],
    sgc: Annotated[str, typer.Option(help="supply group code, 6 digits")],
    ti: Annotated[str, typer.Option(help="tariff index, 2 digits")] = "01",
    krn: Annotated[int, typer.Option(help="key revision number")] = 1,
    kt: Annotated[int, typer.Option(help="key type 0..3")] = 2,
    algorithm: Annotated[str, typer.Option(help="07 STA, 11 MISTY1, 09 DEA")] = "07",
    dkga: Annotated[str, typer.Option(help="02, 04 (or the deprecated 03)")] = "02",
    base_date: Annotated[str, typer.Option(help="1993, 2014 or 2035")] = "1993",
) -> None:
    """Derive a meter's decoder key (DKGA02 or DKGA04) and print it in hex."""
    try:
        pan = sts.meter_pan.from_meter_number(meter)
        params = sts.KeyParameters(
            key_type=sts.KeyType(kt),
            sgc=sgc,
            tariff_index=ti,
            krn=krn,
            algorithm=sts.EncryptionAlgorithm.parse(algorithm),
            base_date=sts.BaseDate.from_code(base_date),
            dkga=sts.Dkga(dkga[-2:].zfill(2)),
        )
        dk = sts.derive_decoder_key(sts.VendingKey.from_hex(vending_key), pan, params)
    except ERRORS as exc:
        raise fail(str(exc)) from None
    table = Table(show_header=False, box=None)
    table.add_row("meter PAN", sts.meter_pan.format(pan))
    table.add_row("algorithm", f"{params.dkga.name} / EA{params.algorithm.value} {params.algorithm.name}")
    table.add_row("decoder key", dk.reveal().hex())
    console.print(table)


def _encode_many(spec: dict[str, Any]) -> list[dict[str, Any]]:
    dk = parse_key(spec.get("key"), spec.get("algorithm"))
    return [
        {"token": sts.encode(token, dk), "fields": token_fields(token)}
        for token in build_tokens(spec)
    ]


def _encode_one(spec: dict[str, Any]) -> dict[str, Any]:
    """One object per request; a key change set comes as ``{"tokens": [...]}``."""
    made = _encode_many(spec)
    return made[0] if len(made) == 1 else {"tokens": made}


def _decode_one(spec: dict[str, Any]) -> dict[str, Any]:
    dk = parse_key(spec.get("key"), spec.get("algorithm"))
    token = sts.decode(str(spec.get("token", "")), dk)
    return {"token": sts.token_number.compact(str(spec["token"])), "fields": token_fields(token)}


def _jsonl(handler: Any) -> None:
    """One JSON object per stdin line in, one per line out; errors are objects too."""
    failures = 0
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            spec = json.loads(line)
            if not isinstance(spec, dict):
                raise SpecError("each line must be a JSON object")
            result: Any = handler(spec)
        except (*ERRORS, json.JSONDecodeError, KeyError) as exc:
            failures += 1
            result = {"line": number, "error": type(exc).__name__, "message": str(exc)}
        sys.stdout.write(json.dumps(result) + "\n")
    if failures:
        raise typer.Exit(1)


def _show(digits: str, fields: dict[str, Any]) -> None:
    table = Table(title=f"{fields['type']} (class {fields['class']}, subclass {fields['subclass']})")
    table.add_column("field")
    table.add_column("value")
    for name, value in fields.items():
        if name not in ("type", "class", "subclass"):
            table.add_row(name, str(value))
    console.print(table)
    console.print(f"[bold]{sts.token_number.format(digits)}[/bold]")


@app.command()
def encode(
    token_type: Annotated[str, typer.Argument(help="credit, water, gas, time, *-currency, power-limit, clear-credit, tariff-rate, clear-tamper, phase-unbalance, water-factor, test, key-change")] = "credit",  # noqa: E501
    key: KeyOpt = None,
    algorithm: AlgOpt = None,
    amount: Annotated[str | None, typer.Option(help="credit amount (kWh, m3, currency)")] = None,
    tid: Annotated[int | None, typer.Option(help="token identifier (minutes since base date)")] = None,
    time: Annotated[str | None, typer.Option(help="issue time, ISO 8601 (UTC if no zone)")] = None,
    base_date: Annotated[str, typer.Option(help="1993, 2014 or 2035")] = "1993",
    rnd: Annotated[int, typer.Option(help="4-bit random number")] = 0,
    watts: Annotated[int | None, typer.Option(help="power limit in W")] = None,
    register: Annotated[int | None, typer.Option(help="clear-credit register (65535 = all)")] = None,
    control: Annotated[int | None, typer.Option(help="test/display control bits")] = None,
    manufacturer_code: Annotated[int | None, typer.Option(help="test token manufacturer code")] = None,
    new_key: Annotated[str | None, typer.Option(help="key change: the new decoder key, hex")] = None,
    new_sgc: Annotated[str | None, typer.Option(help="key change: new SGC")] = None,
    new_ti: Annotated[str | None, typer.Option(help="key change: new tariff index")] = None,
    new_krn: Annotated[int | None, typer.Option(help="key change: new KRN")] = None,
    new_ken: Annotated[int | None, typer.Option(help="key change: new KEN")] = None,
    rollover: Annotated[bool, typer.Option(help="key change: TID rollover bit")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="batch: JSON lines on stdin")] = False,
) -> None:
    """Make a token (or a key change set) and show its fields and grouped digits."""
    if jsonl:
        _jsonl(_encode_one)
        return
    spec = {k: v for k, v in locals().items() if v is not None and k != "jsonl"}
    spec["type"] = token_type
    try:
        results = _encode_many(spec)
    except ERRORS as exc:
        raise fail(str(exc)) from None
    for result in results:
        _show(result["token"], result["fields"])


@app.command()
def decode(
    token: Annotated[str | None, typer.Argument(help="the 20 digits (spaces/dashes allowed)")] = None,
    key: KeyOpt = None,
    algorithm: AlgOpt = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="batch: JSON lines on stdin")] = False,
) -> None:
    """Read a token with a decoder key and show its fields."""
    if jsonl:
        _jsonl(_decode_one)
        return
    if token is None:
        raise fail("give the token digits (or --jsonl)")
    try:
        result = _decode_one({"token": token, "key": key, "algorithm": algorithm})
    except ERRORS as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None
    _show(result["token"], result["fields"])


@app.command()
def conformance(
    file: Annotated[Path, typer.Argument(help="vector file in the schema of shared/sts/vectors.json")],
) -> None:
    """Check every entry of a vector file: encode from the inputs, decode the expected token."""
    try:
        entries = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"cannot read {file}: {exc}") from None
    if isinstance(entries, dict):
        entries = entries.get("vectors", [entries])
    if not isinstance(entries, list):
        raise fail(f"{file} must hold a JSON list of vector entries")
    results = check_all(entries)
    failed = [r for r in results if not r.passed]
    for r in failed:
        tag = "UNREADABLE" if r.unreadable else "FAIL"
        console.print(f"{tag} {r.id} [{r.kind}]: {r.reason}", highlight=False, markup=False)
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed or not results:
        raise typer.Exit(1)


@app.command()
def demo() -> None:
    """A short end-to-end run: derive a meter's key, make a credit token, decode it."""
    from datetime import UTC, datetime
    from decimal import Decimal

    meter = "14312593289"
    pan = sts.meter_pan.from_meter_number(meter)
    params = sts.KeyParameters(key_type=sts.KeyType.DUTK, sgc="123456", tariff_index="01", krn=1)
    vending = sts.VendingKey.from_hex("abababababababab")
    dk = sts.derive_decoder_key(vending, pan, params)
    when = datetime.now(UTC)
    tid = sts.tid_from_datetime(when, sts.BaseDate.Y2014)
    token = sts.ElectricityCredit(tid=tid, amount=Decimal("71.3"), rnd=5)
    digits = sts.encode(token, dk)
    console.rule("prabayar STS demo")
    console.print(f"meter {sts.meter_number.format(meter)}  PAN {sts.meter_pan.format(pan)}")
    console.print(f"decoder key derived with DKGA02 (fingerprint {dk.fingerprint()})")
    console.print(f"credit token for 71.3 kWh at {when:%Y-%m-%d %H:%M} UTC (TID {tid}):")
    back = sts.decode(digits, dk)
    _show(digits, token_fields(back))
