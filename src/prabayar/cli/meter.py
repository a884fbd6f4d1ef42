"""``prabayar meter``: the emulated prepaid meter from the command line.

State lives in ``<data_dir>/meters/<meter_number>.json`` (``--meter``) or any path
(``--state``), sealed with a key derived from the platform master key, so the CLI, the web
app and the support diagnosis all open the same files. Every command runs on the wall clock
except ``run``, which simulates its load in fast-forward.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from prabayar import sts
from prabayar.config import get_settings
from prabayar.digits import is_digits
from prabayar.meter import (
    SERVICE_CODES,
    AesGcmBox,
    ManualClock,
    Meter,
    MeterError,
    MeterResult,
    MeterSettings,
    StateFile,
    SystemClock,
    TamperCause,
)
from prabayar.meter.display import WIB, kwh, wib

app = typer.Typer(no_args_is_help=True)
console = Console()
err = Console(stderr=True)

MeterOpt = Annotated[str | None, typer.Option("--meter", "-m", help="meter number: state in <data_dir>/meters/")]
StateOpt = Annotated[Path | None, typer.Option("--state", "-s", help="state file path (overrides --meter)")]

#: Installed one day after "manufacture" by default, so tokens bought today are newer than the
#: factory fill of the TID memory.
FACTORY_LEAD = timedelta(days=1)
SPARK = "▁▂▃▄▅▆▇█"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)


def fail(message: str) -> typer.Exit:
    """Print a one-line error and give exit code 2."""
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(2)


def parse_duration(text: str) -> timedelta:
    """ "90m", "2h", "1h30m", "3d", "45s", or plain seconds."""
    text = text.strip()
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):  # ASCII digits only (never isdigit, never "$")
        return timedelta(seconds=float(text))
    parts = _DURATION.findall(text)
    if not parts or _DURATION.sub("", text).strip():
        raise typer.BadParameter(f"{text!r} is not a duration (examples: 90m, 2h, 1h30m, 3d)")
    unit = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    total = timedelta()
    for number, suffix in parts:
        total += timedelta(**{unit[suffix.lower()]: float(number)})
    return total


def _box() -> AesGcmBox:
    from prabayar.vending.keystore import KeyStoreError
    from prabayar.vending.setup import master_key_for

    try:
        master = master_key_for(get_settings())
    except KeyStoreError as exc:
        raise fail(str(exc)) from None
    return AesGcmBox.from_master_key(base64.b64decode(master.to_base64()))


def _store(meter: str | None, state: Path | None) -> StateFile:
    if state is None and meter is None:
        raise fail("give --meter NUMBER (state in <data_dir>/meters/) or --state PATH")
    if state is None:
        assert meter is not None
        try:
            number = sts.meter_number.validate(meter)
        except sts.StsError as exc:
            raise fail(str(exc)) from None
        state = get_settings().data_dir / "meters" / f"{number}.json"
    return StateFile(state, _box())


def _open(meter: str | None, state: Path | None) -> Meter:
    store = _store(meter, state)
    try:
        return Meter.open(store, SystemClock())
    except MeterError as exc:
        raise fail(exc.message_en) from None


def lcd(result: MeterResult) -> Panel:
    """The LCD after a key-in: Indonesian lines, English beside."""
    table = Table.grid(padding=(0, 3))
    table.add_column(style="bold green")
    table.add_column(style="dim")
    for i in range(max(len(result.lines_id), len(result.lines_en))):
        left = result.lines_id[i] if i < len(result.lines_id) else ""
        right = result.lines_en[i] if i < len(result.lines_en) else ""
        table.add_row(left, right)
    colour = "green" if result.accepted or result.kind.value.endswith("code") else "red"
    return Panel(table, title=result.kind.value, border_style=colour, expand=False)


@app.command()
def new(
    meter: Annotated[str, typer.Option("--meter", "-m", help="meter number (11 or 13 digits)")],
    state: StateOpt = None,
    decoder_key: Annotated[str | None, typer.Option(help="the meter's decoder key, hex")] = None,
    vending_key: Annotated[
        str | None, typer.Option(help="vending key, hex: the decoder key is derived for the meter")
    ] = None,
    sgc: Annotated[str, typer.Option(help="supply group code, 6 digits")] = "123456",
    ti: Annotated[str, typer.Option(help="tariff index, 2 digits")] = "01",
    krn: Annotated[int, typer.Option(help="key revision number 1..9")] = 1,
    kt: Annotated[int, typer.Option(help="key type 0..3 (2 = unique)")] = 2,
    ken: Annotated[int, typer.Option(help="key expiry number 0..255")] = 255,
    algorithm: Annotated[str, typer.Option(help="07 STA or 11 MISTY1")] = "07",
    dkga: Annotated[str, typer.Option(help="02 or 04")] = "04",
    base_date: Annotated[str, typer.Option(help="1993, 2014 or 2035")] = "2014",
    power_limit: Annotated[int | None, typer.Option(help="maximum power in W")] = None,
    tid_memory: Annotated[int, typer.Option(help="TID memory size")] = 50,
    manufactured: Annotated[str | None, typer.Option(help="manufacture time, ISO 8601 (default: a day ago)")] = None,
) -> None:
    """Make a new meter: from its decoder key, or from a vending key and the meter number."""
    if (decoder_key is None) == (vending_key is None):
        raise fail("give exactly one of --decoder-key or --vending-key")
    try:
        params = sts.KeyParameters(
            key_type=sts.KeyType(kt),
            sgc=sgc,
            tariff_index=ti,
            krn=krn,
            ken=ken,
            algorithm=sts.EncryptionAlgorithm.parse(algorithm),
            base_date=sts.BaseDate.from_code(base_date),
            dkga=sts.Dkga("04" if dkga.endswith("4") else "02"),
        )
        if vending_key is not None:
            pan = sts.meter_pan.from_meter_number(meter)
            key = sts.derive_decoder_key(sts.VendingKey.from_hex(vending_key), pan, params)
        else:
            assert decoder_key is not None
            key = sts.DecoderKey.from_hex(decoder_key, params.algorithm)
        made_at = datetime.fromisoformat(manufactured) if manufactured else datetime.now(UTC) - FACTORY_LEAD
        if made_at.tzinfo is None:
            made_at = made_at.replace(tzinfo=UTC)
        store = _store(meter, state)
        made = Meter.manufacture(
            meter,
            key,
            params,
            clock=ManualClock(made_at),
            settings=MeterSettings(tid_memory_size=tid_memory),
            store=store,
            power_limit_watts=power_limit,
        )
    except (sts.StsError, ValueError) as exc:
        raise fail(str(exc)) from None
    except MeterError as exc:
        raise fail(exc.message_en) from None
    console.print(f"meter {sts.meter_number.format(made.state.meter_number)} made: {store.path}")
    console.print(
        f"KRN {params.krn} KT {int(params.key_type)} TI {params.tariff_index} SGC {params.sgc} "
        f"EA{params.algorithm.value} base date {params.base_date.start.year}"
    )


AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="key in at this time (ISO 8601, e.g. 2026-11-30T08:15+07:00) to replay a customer's "
        "sequence; the meter's clock never runs backwards",
    ),
]


def parse_at(text: str) -> datetime:
    """An ISO 8601 time with a zone; a naive time is read as WIB (UTC+7), as a customer says it."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time (example: 2026-11-30T08:15+07:00)") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=WIB)


def _open_at(meter: str | None, state: Path | None, at: str | None) -> Meter:
    if at is None:
        return _open(meter, state)
    when = parse_at(at)
    store = _store(meter, state)
    try:
        m = Meter.open(store, ManualClock(when))
    except MeterError as exc:
        raise fail(exc.message_en) from None
    if when < m.state.meter_time:
        raise fail(f"--at {when.isoformat()} is before the meter's own time {m.state.meter_time.isoformat()}")
    return m


def entry_document(digits: str, result: MeterResult, at: datetime) -> dict[str, Any]:
    """One key-in as JSON: what happened, why (the reason word), and what the LCD showed."""
    return {
        "token": digits,
        "at": at.isoformat(),
        "kind": result.kind.value,
        "accepted": result.accepted,
        "reason": result.reason,
        "token_type": result.token_type,
        "kwh_added": None if result.kwh_added is None else str(result.kwh_added),
        "credit_kwh": str(result.credit_kwh),
        "display": {"id": list(result.lines_id), "en": list(result.lines_en)},
    }


@app.command()
def enter(
    tokens: Annotated[list[str], typer.Argument(help="20-digit token(s); groups may be spaced")],
    meter: MeterOpt = None,
    state: StateOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON document per token, with the reason")] = False,
    at: AtOpt = None,
) -> None:
    """Key in token(s) in order (e.g. a key change set); exit 1 if the meter refused one."""
    m = _open_at(meter, state, at)
    refused = False
    documents: list[dict[str, Any]] = []
    for token in _group_tokens(tokens):
        try:
            result = m.enter_token(token)
        except MeterError as exc:
            raise fail(exc.message_en) from None
        if as_json:
            documents.append(entry_document(token, result, m.state.meter_time))
        else:
            console.print(lcd(result))
        refused = refused or not result.accepted
    if as_json:
        console.print_json(json.dumps(documents))
    if refused:
        raise typer.Exit(1)


def _group_tokens(words: list[str]) -> list[str]:
    """Rejoin "1234 5678 ..." typed as separate shell words into 20-digit tokens."""
    joined: list[str] = []
    buffer = ""
    for word in words:
        digits = sts.token_number.compact(word)
        if len(digits) >= 20 or not is_digits(digits):
            if buffer:
                joined.append(buffer)
                buffer = ""
            joined.append(digits)
            continue
        buffer += digits
        if len(buffer) >= 20:
            joined.append(buffer)
            buffer = ""
    if buffer:
        joined.append(buffer)
    return joined


@app.command()
def code(
    keys: Annotated[str, typer.Argument(help="service code, e.g. 37 (see --list)")] = "",
    meter: MeterOpt = None,
    state: StateOpt = None,
    list_codes: Annotated[bool, typer.Option("--list", help="show the code table")] = False,
    at: AtOpt = None,
) -> None:
    """Key in a keypad service code (37 remaining kWh, 08 tamper, 45610 alarm at 10 kWh...)."""
    if list_codes or not keys:
        table = Table("code", "arti", "meaning", title="Kode layanan / service codes")
        for c in SERVICE_CODES:
            table.add_row(c.code, c.meaning_id, c.meaning_en)
        console.print(table)
        return
    m = _open_at(meter, state, at)
    try:
        result = m.enter_code(keys)
    except MeterError as exc:
        raise fail(exc.message_en) from None
    console.print(lcd(result))
    if not result.accepted and result.kind.value == "unknown_code":
        raise typer.Exit(1)


@app.command()
def load(
    watts: Annotated[int, typer.Argument(help="household load in W from now on (0 = off)")],
    meter: MeterOpt = None,
    state: StateOpt = None,
) -> None:
    """Set the load the meter sees in real time (credit drains between commands)."""
    m = _open(meter, state)
    try:
        m.set_load(watts)
    except MeterError as exc:
        raise fail(exc.message_en) from None
    console.print(f"load {watts} W, relay {m.state.relay.value}")


def sparkline(values: list[Decimal]) -> str:
    """The credit curve in one line of block characters."""
    top = max(values) if values else Decimal(0)
    if top <= 0:
        return SPARK[0] * len(values)
    return "".join(SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1)))] for v in values)


@app.command()
def run(
    watts: Annotated[int, typer.Option("--load", "-l", help="load in W")],
    duration: Annotated[str, typer.Option("--duration", "-d", help="e.g. 90m, 12h, 3d")],
    meter: MeterOpt = None,
    state: StateOpt = None,
    samples: Annotated[int, typer.Option(help="rows in the credit table")] = 12,
) -> None:
    """Simulate a load for a duration (fast-forward) and show the credit curve."""
    span = parse_duration(duration)
    m = _open(meter, state)
    try:
        curve = m.simulate(watts, span, samples=samples)
    except MeterError as exc:
        raise fail(exc.message_en) from None
    table = Table("time (WIB)", "credit", "relay", title=f"{watts} W for {span}")
    for point in curve:
        table.add_row(wib(point.at), kwh(point.credit_kwh), point.relay.value)
    console.print(table)
    console.print(f"credit {sparkline([p.credit_kwh for p in curve])} {kwh(curve[-1].credit_kwh)}")
    exhausted = [e for e in m.state.events if e.kind == "credit_exhausted" and e.at >= curve[0].at]
    if exhausted:
        console.print(f"[red]credit ran out at {wib(exhausted[-1].at)}: relay opened[/red]")


@app.command()
def tamper(
    cause: Annotated[str, typer.Argument(help="1..8 or a name: cover, reverse, bypass, magnet...")],
    meter: MeterOpt = None,
    state: StateOpt = None,
) -> None:
    """Fire a tamper detector: the meter shows PERIKSA until a Clear Tamper token."""
    try:
        which = _tamper_cause(cause)
    except ValueError as exc:
        raise fail(str(exc)) from None
    m = _open(meter, state)
    try:
        m.tamper(which)
    except MeterError as exc:
        raise fail(exc.message_en) from None
    console.print(f"PERIKSA: tamper {int(which)} {which.label_id} / {which.label_en}")


def _tamper_cause(text: str) -> TamperCause:
    if is_digits(text) and 1 <= int(text) <= 8:
        return TamperCause(int(text))
    wanted = text.strip().lower().replace("-", "_")
    for cause in TamperCause:
        if cause.name.lower() == wanted or cause.name.lower().startswith(wanted):
            return cause
    names = ", ".join(c.name.lower() for c in TamperCause)
    raise ValueError(f"unknown tamper cause {text!r}: use 1..8 or one of {names}")


def status_document(m: Meter) -> dict[str, Any]:
    """The meter's state as JSON-ready data (never the decoder key)."""
    status = m.status()
    s = m.state
    return {
        "meter_number": s.meter_number,
        "at": status.at.isoformat(),
        "credit_kwh": str(s.credit_kwh),
        "cumulative_kwh": str(s.cumulative_kwh),
        "relay": s.relay.value,
        "load_watts": s.load_watts,
        "led": status.led.value,
        "alarm": list(status.alarm),
        "tamper": None if s.tamper is None else int(s.tamper),
        "lockout_seconds": None if status.lockout_remaining is None else status.lockout_remaining.total_seconds(),
        "kct_sections": list(status.kct_sections),
        "power_limit_watts": s.power_limit_watts,
        "alarm_threshold_kwh": str(s.alarm_threshold_kwh),
        "key": {
            "krn": s.params.krn,
            "key_type": int(s.params.key_type),
            "tariff_index": s.params.tariff_index,
            "sgc": s.params.sgc,
            "ken": s.params.ken,
            "algorithm": s.params.algorithm.value,
            "dkga": s.params.dkga.value,
            "base_date": s.params.base_date.start.year,
        },
        "tid_memory": {
            "size": s.settings.tid_memory_size,
            "oldest": min(s.tid_memory, default=None),
            "newest": max(s.tid_memory, default=None),
        },
        "display": {"id": list(status.lines_id), "en": list(status.lines_en)},
    }


@app.command()
def show(
    meter: MeterOpt = None,
    state: StateOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
    events: Annotated[int, typer.Option(help="recent events to list")] = 10,
) -> None:
    """The meter's display, registers, key and recent events."""
    m = _open(meter, state)
    doc = status_document(m)
    if as_json:
        console.print_json(json.dumps(doc))
        return
    table = Table(show_header=False, title=f"meter {sts.meter_number.format(m.state.meter_number)}")
    table.add_row("display", " / ".join(doc["display"]["id"]) + "   (" + " / ".join(doc["display"]["en"]) + ")")
    table.add_row("credit", kwh(m.state.credit_kwh))
    table.add_row("used", kwh(m.state.cumulative_kwh))
    table.add_row("relay", doc["relay"])
    table.add_row("load", f"{doc['load_watts']} W")
    table.add_row("LED", doc["led"])
    table.add_row("alarm", ", ".join(doc["alarm"]) or "-")
    if m.state.tamper is not None:
        table.add_row("tamper", f"{int(m.state.tamper)} {m.state.tamper.label_en}")
    if doc["lockout_seconds"]:
        table.add_row("lockout", f"{int(doc['lockout_seconds'])} s")
    key = doc["key"]
    table.add_row(
        "key",
        f"KRN {key['krn']} KT {key['key_type']} TI {key['tariff_index']} "
        f"SGC {key['sgc']} KEN {key['ken']} EA{key['algorithm']} DKGA{key['dkga']} base {key['base_date']}",
    )
    table.add_row(
        "TID memory", f"{doc['tid_memory']['size']} slots, {doc['tid_memory']['oldest']}..{doc['tid_memory']['newest']}"
    )
    console.print(table)
    if events > 0:
        log = Table("time (WIB)", "event", "detail", title="events")
        for e in m.state.events[-events:]:
            log.add_row(wib(e.at), e.kind, e.detail)
        console.print(log)


@app.command()
def tui(meter: MeterOpt = None, state: StateOpt = None) -> None:
    """The terminal meter: LCD, credit LED, keypad (click or type), alarm."""
    from prabayar.meter.tui import MeterApp

    MeterApp(_open(meter, state)).run()
