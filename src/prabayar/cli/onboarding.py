"""CLI faces of the master data: ``channel``, ``customer``, ``meters``, ``unit``, ``tariff``, ``keys``.

Run by an administrator on the server (who holds the database and the master key anyway):
changes take effect at once (``server=True`` in the use cases) and are audited as
``cli:<os user>`` with the ``--reason`` given (or one naming the command). A tariff version or
a key import made through the API or the console needs maker-checker approval instead.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from prabayar.cli.vending import _err, _out, _run
from prabayar.vending import VendingService
from prabayar.vending.channels_admin import ChannelDetail
from prabayar.vending.onboarding import CustomerRecord, MeterRecord

WIB = timezone(timedelta(hours=7), "WIB")

channel_app = typer.Typer(no_args_is_help=True, help="Sales channels: add, list, update, rotate-key, disable.")
customer_app = typer.Typer(no_args_is_help=True, help="Customers: register, show, search, change-power, block ...")
meters_app = typer.Typer(no_args_is_help=True, help="Meters: register, install, remove, broken, show, stock.")
unit_app = typer.Typer(no_args_is_help=True, help="Units and their PBJT-TL rates.")
tariff_app = typer.Typer(no_args_is_help=True, help="Tariff classes and effective-dated prices.")
keys_app = typer.Typer(no_args_is_help=True, help="Vending keys: import (plain or wrapped), list.")


def actor() -> str:
    """Who the audit log names for a command run on the server."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"[:64]


def _reason(given: str | None, command: str) -> str:
    return given.strip() if given and given.strip() else f"{command} (server CLI)"


ReasonOpt = Annotated[str | None, typer.Option("--reason", "-r", help="why (kept in the audit log)")]


# --- channels -------------------------------------------------------------------------------------
def _channel_row(table: Table, c: ChannelDetail) -> None:
    nominals = "free" if c.allowed_nominals is None else ",".join(f"{n // 1000}k" for n in c.allowed_nominals)
    fee = " ".join(f"{start}:{fee}" for start, fee in c.admin_fee_tiers)
    limit = "unlimited" if c.purchases_per_minute == 0 else f"{c.purchases_per_minute}/min"
    table.add_row(
        c.code,
        c.name,
        c.kind,
        "active" if c.active else "disabled",
        fee,
        nominals,
        f"{c.min_nominal:,}-{c.max_nominal:,}",
        limit,
        str(c.key_version),
        str(c.active_keys),
    )


def _channel_table(channels: list[ChannelDetail]) -> Table:
    table = Table(title="sales channels")
    for column in ("code", "name", "kind", "status", "admin fee", "nominals", "min-max", "limit", "key v", "keys"):
        table.add_column(column)
    for c in channels:
        _channel_row(table, c)
    return table


@channel_app.command("add")
def channel_add(
    code: Annotated[str, typer.Argument(help="channel code, 2-16 of A-Z 0-9 _ -")],
    name: Annotated[str | None, typer.Option(help="display name (default: the code)")] = None,
    admin_fee: Annotated[str, typer.Option("--admin-fee", help="Rp, or tiers '0:1000,100000:2500'")] = "0",
    purchases_per_minute: Annotated[
        int, typer.Option("--purchases-per-minute", help="purchase rate limit, 0 = unlimited")
    ] = 600,
    kind: Annotated[str, typer.Option(help="bank, minimarket, ewallet, app or aggregator")] = "aggregator",
    nominals: Annotated[
        str | None, typer.Option(help="comma list or 'free' (default: PLN's standard denominations)")
    ] = None,
    min_nominal: Annotated[int | None, typer.Option("--min", help="minimum nominal (default 20,000)")] = None,
    max_nominal: Annotated[int | None, typer.Option("--max", help="maximum nominal (default 1,000,000)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='print {"code": ..., "api_key": ...} only')] = False,
    reason: ReasonOpt = None,
) -> None:
    """Add a sales channel and print its API key ONCE (only its hash is kept)."""
    detail, key = _run(
        lambda s: s.add_channel(
            actor(),
            code,
            _reason(reason, "channel add"),
            name=name,
            kind=kind,
            admin_fee=admin_fee,
            purchases_per_minute=purchases_per_minute,
            allowed_nominals=nominals,
            min_nominal=min_nominal,
            max_nominal=max_nominal,
            server=True,
        )
    )
    if as_json:
        typer.echo(json.dumps({"code": key.code, "api_key": key.api_key}))
        return
    _out().print(_channel_table([detail]))
    _out().print(f"API key for {key.code} (shown once, store it now):")
    typer.echo(key.api_key)


@channel_app.command("list")
def channel_list(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
) -> None:
    """Every channel (disabled ones too); never a key."""
    channels = _run(lambda s: s.channel_details())
    if as_json:
        for c in channels:
            typer.echo(
                json.dumps(
                    {
                        "code": c.code,
                        "name": c.name,
                        "kind": c.kind,
                        "active": c.active,
                        "admin_fee_tiers": c.admin_fee_tiers,
                        "allowed_nominals": c.allowed_nominals,
                        "min_nominal": c.min_nominal,
                        "max_nominal": c.max_nominal,
                        "purchases_per_minute": c.purchases_per_minute,
                        "key_version": c.key_version,
                    }
                )
            )
        return
    _out().print(_channel_table(channels))


@channel_app.command("update")
def channel_update(
    code: str,
    name: Annotated[str | None, typer.Option()] = None,
    admin_fee: Annotated[str | None, typer.Option("--admin-fee", help="Rp or tiers '0:1000,100000:2500'")] = None,
    purchases_per_minute: Annotated[int | None, typer.Option("--purchases-per-minute", help="0 = unlimited")] = None,
    nominals: Annotated[str | None, typer.Option(help="comma list or 'free'")] = None,
    min_nominal: Annotated[int | None, typer.Option("--min")] = None,
    max_nominal: Annotated[int | None, typer.Option("--max")] = None,
    reason: ReasonOpt = None,
) -> None:
    """Change a channel's name, admin fee, nominals or purchase rate limit."""
    detail = _run(
        lambda s: s.update_channel(
            actor(),
            code,
            _reason(reason, "channel update"),
            name=name,
            admin_fee=admin_fee,
            purchases_per_minute=purchases_per_minute,
            allowed_nominals=nominals,
            min_nominal=min_nominal,
            max_nominal=max_nominal,
            server=True,
        )
    )
    _out().print(_channel_table([detail]))


@channel_app.command("rotate-key")
def channel_rotate_key(
    code: str,
    as_json: Annotated[bool, typer.Option("--json", help='print {"code": ..., "api_key": ...} only')] = False,
    reason: ReasonOpt = None,
) -> None:
    """A new API key (printed once); every earlier key of the channel stops working now."""
    key = _run(lambda s: s.rotate_channel_key(actor(), code, _reason(reason, "channel rotate-key"), server=True))
    if as_json:
        typer.echo(json.dumps({"code": key.code, "api_key": key.api_key}))
        return
    _out().print(f"new API key for {key.code} (shown once; earlier keys are revoked):")
    typer.echo(key.api_key)


@channel_app.command("disable")
def channel_disable(code: str, reason: ReasonOpt = None) -> None:
    """Stop a channel: its keys are revoked and it sells nothing more."""
    detail = _run(lambda s: s.disable_channel(actor(), code, _reason(reason, "channel disable"), server=True))
    _out().print(f"{detail.code} disabled")


# --- customers ------------------------------------------------------------------------------------
def _print_customer(c: CustomerRecord) -> None:
    _out().print(
        f"[bold]{c.idpel}[/bold] {c.name}\n  {c.address}\n  unit {c.unit_code}  {c.tariff_class} "
        f"({c.tariff_code}/{c.va} VA)  cap {c.monthly_cap_kwh} kWh/month  phone {c.phone or '-'}\n"
        f"  status {c.status}" + (f" ({c.status_reason})" if c.status_reason else "")
    )
    for m in c.meters:
        _out().print(
            f"  meter {m.meter_number} {m.status}  SGC {m.sgc} KRN {m.krn} EA{m.ea} DKGA{m.dkga} base {m.base_year}"
        )


@customer_app.command("register")
def customer_register(
    idpel: Annotated[str, typer.Argument(help="12-digit IDPEL")],
    name: Annotated[str, typer.Option(help="name as on the struk (max 25)")],
    address: Annotated[str, typer.Option()],
    tariff: Annotated[str, typer.Option(help="R1, R2, B2 ... or a class code such as R1-900")],
    power_va: Annotated[int, typer.Option("--power-va", help="contracted power in VA")],
    unit: Annotated[str | None, typer.Option(help="unit code (default: the default unit)")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    reason: ReasonOpt = None,
) -> None:
    """Register a new customer (then install a meter with `prabayar meters install`)."""
    c = _run(
        lambda s: s.register_customer(
            actor(),
            idpel=idpel,
            name=name,
            address=address,
            tariff=tariff,
            power_va=power_va,
            unit=unit,
            phone=phone,
            reason=_reason(reason, "customer register"),
            server=True,
        )
    )
    _print_customer(c)


@customer_app.command("show")
def customer_show(identifier: Annotated[str, typer.Argument(help="IDPEL or meter number")]) -> None:
    _print_customer(_run(lambda s: s.customer_record(identifier)))


@customer_app.command("search")
def customer_search(text: str, limit: int = 50) -> None:
    """Customers by name, address, IDPEL or meter number (part of it)."""
    found = _run(lambda s: s.search_customers(text, limit=limit))
    table = Table(title=f"customers matching {text!r}")
    for column in ("IDPEL", "name", "address", "tariff", "status", "meters"):
        table.add_column(column)
    for c in found:
        table.add_row(
            c.idpel,
            c.name,
            c.address,
            f"{c.tariff_class} {c.va} VA",
            c.status,
            " ".join(m.meter_number for m in c.meters),
        )
    _out().print(table)


@customer_app.command("change-power")
def customer_change_power(
    idpel: str,
    power_va: Annotated[int, typer.Argument(help="new power in VA")],
    tariff: Annotated[str | None, typer.Option(help="name the class (default: same group)")] = None,
    reason: ReasonOpt = None,
) -> None:
    """Ubah daya: new VA, with it the tariff class and the monthly cap."""
    _print_customer(
        _run(
            lambda s: s.change_power(
                actor(), idpel, power_va, _reason(reason, "change power"), tariff=tariff, server=True
            )
        )
    )


@customer_app.command("update")
def customer_update(
    idpel: str,
    name: Annotated[str | None, typer.Option()] = None,
    address: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    unit: Annotated[str | None, typer.Option()] = None,
    reason: ReasonOpt = None,
) -> None:
    """Correct name, address, phone or unit."""
    _print_customer(
        _run(
            lambda s: s.update_customer(
                actor(),
                idpel,
                _reason(reason, "customer update"),
                name=name,
                address=address,
                phone=phone,
                unit=unit,
                server=True,
            )
        )
    )


def _status_command(verb: str) -> None:
    def command(
        idpel: str,
        reason: Annotated[str, typer.Option("--reason", "-r", help="why (required, kept in the audit log)")],
    ) -> None:
        method = {"block": "block_customer", "unblock": "unblock_customer", "close": "close_customer"}[verb]
        c = _run(lambda s: getattr(s, method)(actor(), idpel, reason, server=True))
        _print_customer(c)

    command.__doc__ = {
        "block": "Block a customer from buying (RC 0077) with a reason.",
        "unblock": "Let a blocked customer buy again.",
        "close": "Berhenti langganan: close the customer for good; its meters are taken off.",
    }[verb]
    customer_app.command(verb)(command)


for _verb in ("block", "unblock", "close"):
    _status_command(_verb)


# --- meters ---------------------------------------------------------------------------------------
def _print_meter(m: MeterRecord) -> None:
    _out().print(
        f"[bold]{m.meter_number}[/bold] {m.status}  customer {m.idpel or '-'}\n"
        f"  SGC {m.sgc}  TI {m.tariff_index}  KRN {m.krn}  KT {m.key_type}  EA {m.ea}  DKGA {m.dkga}  "
        f"base {m.base_year}  KEN {m.ken}  last TID {m.last_tid}"
    )


@meters_app.command("register")
def meters_register(
    meter_number: Annotated[str, typer.Argument(help="11/13-digit meter number (Luhn)")],
    sgc: Annotated[str, typer.Option(help="6-digit supply group code")],
    krn: Annotated[int, typer.Option(help="key revision 1-9")],
    tariff_index: Annotated[str, typer.Option("--tariff-index", help="2 digits")] = "01",
    key_type: Annotated[int, typer.Option("--key-type", help="0-3 (2 = DUTK)")] = 2,
    ea: Annotated[str, typer.Option(help="07 STA, 09 DEA, 11 MISTY1")] = "07",
    dkga: Annotated[str, typer.Option(help="02 or 04")] = "04",
    base_date: Annotated[str, typer.Option("--base-date", help="1993, 2014 or 2035")] = "2014",
    reason: ReasonOpt = None,
) -> None:
    """Register a meter from its maker's delivery with its key parameters (into stock)."""
    m = _run(
        lambda s: s.register_meter(
            actor(),
            meter_number,
            sgc=sgc,
            tariff_index=tariff_index,
            krn=krn,
            key_type=key_type,
            ea=ea,
            dkga=dkga,
            base_date=base_date,
            reason=_reason(reason, "meter register"),
            server=True,
        )
    )
    _print_meter(m)


@meters_app.command("install")
def meters_install(meter_number: str, idpel: str, reason: ReasonOpt = None) -> None:
    """Pasang baru: put a registered (or removed) meter on a customer."""
    _print_customer(
        _run(lambda s: s.install_meter(actor(), meter_number, idpel, _reason(reason, "pasang baru"), server=True))
    )


@meters_app.command("remove")
def meters_remove(
    meter_number: str, reason: Annotated[str, typer.Option("--reason", "-r", help="why (required)")]
) -> None:
    """Take a meter off its customer (it may be installed again later)."""
    _print_meter(_run(lambda s: s.remove_meter(actor(), meter_number, reason, server=True)))


@meters_app.command("broken")
def meters_broken(
    meter_number: str, reason: Annotated[str, typer.Option("--reason", "-r", help="why (required)")]
) -> None:
    """Mark a meter broken: nothing is sold for it."""
    _print_meter(_run(lambda s: s.mark_meter_broken(actor(), meter_number, reason, server=True)))


@meters_app.command("show")
def meters_show(meter_number: str) -> None:
    _print_meter(_run(lambda s: s.meter_record(meter_number)))


@meters_app.command("stock")
def meters_stock(limit: int = 100) -> None:
    """Registered meters not installed yet."""
    for m in _run(lambda s: s.meter_stock(limit=limit)):
        _print_meter(m)


# --- units ----------------------------------------------------------------------------------------
@unit_app.command("list")
def unit_list(rates: Annotated[bool, typer.Option("--rates", help="every PBJT-TL rate")] = False) -> None:
    for u in _run(lambda s: s.units()):
        mark = " (default)" if u.is_default else ""
        _out().print(f"[bold]{u.code}[/bold] {u.uid_name} / {u.up3_name}{mark}")
        if rates:
            for tariff, rate in sorted(u.pbjt_rates.items()):
                _out().print(f"    {tariff:<10} {rate * 100:.2f} %")


@unit_app.command("add")
def unit_add(
    code: str,
    uid: Annotated[str, typer.Option(help="UID name")],
    up3: Annotated[str, typer.Option(help="UP3 name")],
    pbjt: Annotated[str, typer.Option(help="PBJT-TL rate for every class, e.g. 0.10 or 10%")] = "0",
    rate: Annotated[list[str] | None, typer.Option(help="CLASS=RATE for a class that differs")] = None,
    default: Annotated[bool, typer.Option("--default", help="make it the default unit")] = False,
    reason: ReasonOpt = None,
) -> None:
    """Add a unit with its PBJT-TL rates."""
    pairs = dict(item.split("=", 1) for item in (rate or []) if "=" in item)

    def run(s: VendingService) -> None:
        why = _reason(reason, "unit add")
        s.add_unit(actor(), code, uid, up3, why, pbjt_rates=dict(pairs), default_rate=pbjt, server=True)
        if default:
            s.set_default_unit(actor(), code, why, server=True)

    _run(run)
    _out().print(f"unit {code} added")


@unit_app.command("set-rate")
def unit_set_rate(unit: str, tariff: str, rate: str, reason: ReasonOpt = None) -> None:
    """Change one PBJT-TL rate (e.g. `unit set-rate 54 R1-1300 0.024`)."""
    _run(lambda s: s.set_unit_tax_rate(actor(), unit, tariff, rate, _reason(reason, "unit set-rate"), server=True))
    _out().print(f"unit {unit} {tariff}: {rate}")


@unit_app.command("set-default")
def unit_set_default(unit: str, reason: ReasonOpt = None) -> None:
    _run(lambda s: s.set_default_unit(actor(), unit, _reason(reason, "unit set-default"), server=True))
    _out().print(f"default unit: {unit}")


# --- tariffs --------------------------------------------------------------------------------------
@tariff_app.command("list")
def tariff_list() -> None:
    """Tariff classes with the Rp/kWh in force now and the next version, if decided."""
    table = Table(title="tariff classes")
    for column in ("class", "struk", "VA", "Rp/kWh now", "next"):
        table.add_column(column)
    for t in _run(lambda s: s.tariff_classes()):
        band = f"{t.va_min}-{t.va_max}" if t.va_max is not None else f">= {t.va_min}"
        nxt = (
            f"{t.next_version.rp_per_kwh} from {t.next_version.effective_from.astimezone(WIB):%Y-%m-%d %H:%M} WIB"
            if t.next_version
            else ""
        )
        table.add_row(t.code, t.print_code, band, str(t.rp_per_kwh), nxt)
    _out().print(table)


@tariff_app.command("history")
def tariff_history(tariff: str) -> None:
    for v in _run(lambda s: s.tariff_history(tariff)):
        _out().print(
            f"{v.effective_from.astimezone(WIB):%Y-%m-%d %H:%M} WIB  Rp {v.rp_per_kwh}/kWh  "
            f"by {v.created_by}: {v.reason}"
        )


def _parse_when(text: str) -> datetime:
    """'2026-04-01' (00:00 WIB) or an ISO time; a time without zone is WIB."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        _err().print(f"[red]not a date:[/red] {text!r} (use 2026-04-01 or 2026-04-01T00:00+07:00)")
        raise typer.Exit(2) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=WIB)
    return when.astimezone(UTC)


@tariff_app.command("add-version")
def tariff_add_version(
    tariff: Annotated[str, typer.Argument(help="class code, e.g. R1-1300")],
    rp_per_kwh: Annotated[str, typer.Argument(help="new Rp/kWh, e.g. 1444.70")],
    effective: Annotated[str, typer.Option("--from", help="start, e.g. 2026-04-01 (00:00 WIB)")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="why (e.g. the Permen ESDM)")],
) -> None:
    """A new price version, in force from --from (server CLI: applied at once, no approval)."""
    v = _run(lambda s: s.add_tariff_version(actor(), tariff, rp_per_kwh, _parse_when(effective), reason, server=True))
    _out().print(f"{v.tariff}: Rp {v.rp_per_kwh}/kWh from {v.effective_from.astimezone(WIB):%Y-%m-%d %H:%M} WIB")


# --- keys -----------------------------------------------------------------------------------------
@keys_app.command("import")
def keys_import(
    sgc: Annotated[str, typer.Option(help="6-digit supply group code")],
    krn: Annotated[int, typer.Option(help="key revision 1-9")],
    key_file: Annotated[Path, typer.Option("--key-file", help="file holding the key in hex (or the wrapped key)")],
    wrapped: Annotated[bool, typer.Option("--wrapped", help="AES key wrap under PRABAYAR_KEK")] = False,
    dkga: Annotated[str | None, typer.Option(help="02 or 04 (default: from the key's length)")] = None,
    reason: ReasonOpt = None,
) -> None:
    """Import a vending key from the key management centre; it takes effect at once.

    The file holds hex digits: 16 for a DKGA02 (DES) key, 40 for a DKGA04 key, or with --wrapped
    the RFC 3394/5649 wrapped form. Only the fingerprint is printed.
    """
    try:
        text = key_file.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        _err().print(f"[red]cannot read {key_file}:[/red] {exc}")
        raise typer.Exit(2) from None
    info = _run(
        lambda s: s.import_vending_key(
            actor(), sgc, krn, text, _reason(reason, "keys import"), wrapped=wrapped, dkga=dkga, server=True
        )
    )
    _out().print(
        f"imported SGC {info.sgc} KRN {info.krn} DKGA{info.dkga} fingerprint {info.fingerprint} ({info.state})"
    )


@keys_app.command("list")
def keys_list() -> None:
    """Held vending keys: fingerprint and state, never the key."""
    table = Table(title="vending keys")
    for column in ("SGC", "KRN", "DKGA", "fingerprint", "state", "meters", "since"):
        table.add_column(column)
    for k in _run(lambda s: s.vending_keys()):
        table.add_row(k.sgc, str(k.krn), k.dkga, k.fingerprint, k.state, str(k.meters), f"{k.created_at:%Y-%m-%d}")
    _out().print(table)
