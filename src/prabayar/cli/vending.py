"""CLI faces of the back office: ``db``, ``seed``, ``vend`` and ``ops`` (thin: use cases only)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from prabayar.cli.approvals import print_pending
from prabayar.config import get_settings
from prabayar.sts import Dkga
from prabayar.vending import (
    KeyStoreError,
    PurchaseResult,
    VendingError,
    VendingService,
    open_service,
    upgrade,
)
from prabayar.vending.demo import seed_demo
from prabayar.vending.receipt import group_thousands, group_token, kwh_text, rupiah, tarif_daya


def _out() -> Console:
    """A console sized for the terminal (or COLUMNS) at the time of the command."""
    return Console()


def _err() -> Console:
    return Console(stderr=True)


T = TypeVar("T")

db_app = typer.Typer(no_args_is_help=True, help="Database: migrations.")
seed_app = typer.Typer(invoke_without_command=True, help="Load data into the database.")
vend_app = typer.Typer(no_args_is_help=True, help="Sell tokens: inquiry, buy, advice, reprint.")
ops_app = typer.Typer(no_args_is_help=True, help="Operator: management tokens and the audit log.")


@contextmanager
def _failures() -> Iterator[None]:
    """Typed errors become one clear line and exit code 1, never a traceback."""
    try:
        yield
    except VendingError as exc:
        _err().print(f"[red]{exc.code}[/red] {exc.message_en}\n      {exc.message_id}", soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyStoreError as exc:
        _err().print(f"[red]key store:[/red] {exc}")
        raise typer.Exit(1) from None
    except (OperationalError, ProgrammingError) as exc:
        _err().print(f"[red]database error:[/red] {exc.orig}\nIs the database migrated? Run: prabayar db upgrade")
        raise typer.Exit(1) from None


def _run(action: Callable[[VendingService], T]) -> T:
    with _failures():
        return action(open_service())


@db_app.command("upgrade")
def db_upgrade(
    url: Annotated[str | None, typer.Option(help="database URL (default: settings)")] = None,
) -> None:
    """Create or migrate the schema to the newest revision."""
    settings = get_settings()
    target = url or settings.resolved_database_url()
    if target.startswith("sqlite:///") and not url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    with _failures():
        upgrade(target)
    _out().print("database is up to date")


@seed_app.callback()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="the deterministic demo data set")] = False,
    reference: Annotated[
        bool, typer.Option("--reference", help="reference data only: tariffs in force, units, default unit")
    ] = False,
    synthetic_meters: Annotated[
        int, typer.Option("--synthetic-meters", help="PostgreSQL: have this many synthetic meters (load tests)")
    ] = 0,
    synthetic_purchases: Annotated[
        int, typer.Option("--synthetic-purchases", help="PostgreSQL: add this many past purchases over them")
    ] = 0,
) -> None:
    """Load the demo data (units, tariffs, customers, meters, channels, logins, keys), or a
    synthetic region on top of it (prabayar.vending.synthetic)."""
    if synthetic_meters or synthetic_purchases:
        from prabayar.cli.synthetic import seed_synthetic

        seed_synthetic(synthetic_meters, synthetic_purchases)
        return
    if reference and not demo:
        from prabayar.vending.reference import seed_reference

        added = _run(seed_reference)
        _out().print("reference data loaded" if added else "reference data already present; nothing changed")
        return
    if not demo:
        _err().print("nothing to seed: pass --demo or --reference")
        raise typer.Exit(2)
    data = _run(seed_demo)
    if not data.created:
        _out().print("demo data already present; nothing changed")
        return
    table = Table(title="demo customers")
    for column in ("meter", "IDPEL", "name", "tariff/daya", "note"):
        table.add_column(column)
    for c in data.customers:
        table.add_row(c.meter_number, c.idpel, c.name, f"{c.tariff} {c.va} VA", c.note)
    _out().print(table)
    logins = Table(title="demo logins (web)")
    for column in ("user", "password", "role", "IDPEL"):
        logins.add_column(column)
    for user, password, role, idpel in data.users:
        logins.add_row(user, password, role, idpel or "")
    _out().print(logins)
    keys = Table(title="demo channel API keys")
    keys.add_column("channel")
    keys.add_column("API key")
    for code, key in data.channel_keys:
        keys.add_row(code, key)
    _out().print(keys)


ChannelOpt = Annotated[str, typer.Option("--channel", "-c", help="sales channel code")]


def _print_purchase(result: PurchaseResult) -> None:
    if result.replayed:
        _out().print("[yellow]same channel reference: the earlier purchase is returned[/yellow]")
    _out().print(result.receipt)


@vend_app.command("inquiry")
def vend_inquiry(identifier: Annotated[str, typer.Argument(help="meter number or IDPEL")]) -> None:
    """Who is behind a meter number or IDPEL (name, tariff, power, unit, limit)."""
    info = _run(lambda s: s.inquiry(identifier))
    table = Table.grid(padding=(0, 2))
    rows = [
        ("NO METER", info.meter_number),
        ("IDPEL", info.idpel),
        ("NAMA", info.name),
        ("ALAMAT", info.address),
        ("TARIF/DAYA", tarif_daya(info.tariff_code, info.va)),
        ("UNIT", info.unit_name),
        ("KWH BULAN INI", f"{kwh_text(info.kwh_this_month)} / {kwh_text(info.monthly_cap_kwh)}"),
        ("TUNGGAKAN", rupiah(info.debt_remaining)),
        ("TOKEN BELUM TERAMBIL", str(len(info.unsold))),
    ]
    for label, value in rows:
        table.add_row(label, value)
    _out().print(table)


@vend_app.command("quote")
def vend_quote(
    identifier: Annotated[str, typer.Argument(help="meter number or IDPEL")],
    nominal: Annotated[int, typer.Argument(help="rupiah, e.g. 20000")],
    channel: ChannelOpt = "BANKDEMO",
) -> None:
    """Price a purchase without buying."""
    p = _run(lambda s: s.quote(channel, identifier, nominal))
    for label, value in (
        ("RP BAYAR", rupiah(p.total_paid)),
        ("ADMIN", rupiah(p.admin_fee)),
        ("METERAI", rupiah(p.meterai)),
        ("PPN", rupiah(p.ppn)),
        ("PBJT-TL", f"{rupiah(p.pbjt)} ({p.pbjt_rate * 100:.2f} %)"),
        ("ANGSURAN", rupiah(p.angsuran)),
        ("RP STROOM/TOKEN", rupiah(p.stroom)),
        ("JML KWH", kwh_text(p.kwh)),
    ):
        _out().print(f"{label:<16}: {value}")


@vend_app.command("buy")
def vend_buy(
    identifier: Annotated[str, typer.Argument(help="meter number or IDPEL")],
    nominal: Annotated[int, typer.Argument(help="rupiah, e.g. 20000")],
    channel: ChannelOpt = "BANKDEMO",
    ref: Annotated[str | None, typer.Option(help="channel reference (retrying with it is safe)")] = None,
) -> None:
    """Buy a token and print the struk."""
    reference = ref or f"CLI-{uuid.uuid4().hex[:20].upper()}"

    def buy(service: VendingService) -> PurchaseResult:
        result = service.purchase(channel, reference, identifier, nominal)
        _print_purchase(result)
        service.confirm_delivery(channel, reference)
        return result

    _run(buy)
    _out().print(f"channel reference: {reference}")


@vend_app.command("advice")
def vend_advice(
    channel: ChannelOpt,
    ref: Annotated[str, typer.Option(help="the channel reference of the lost purchase")],
) -> None:
    """Ask again for a purchase whose answer was lost."""
    _print_purchase(_run(lambda s: s.advice(channel, ref)))


@vend_app.command("reprint")
def vend_reprint(
    identifier: Annotated[str, typer.Argument(help="meter number or IDPEL")],
    limit: Annotated[int, typer.Option(help="how many purchases")] = 5,
) -> None:
    """Riwayat: the last tokens with their receipts, newest first."""
    results = _run(lambda s: s.reprint(identifier, limit))
    if not results:
        _out().print("no purchases yet")
    for result in results:
        when = result.created_at.strftime("%Y-%m-%d %H:%M UTC")
        _out().print(f"[bold]{when}[/bold] via {result.channel} ref {result.channel_reference}")
        _out().print(result.receipt)


@vend_app.command("unsold")
def vend_unsold(identifier: Annotated[str, typer.Argument(help="meter number or IDPEL")]) -> None:
    """Tokens paid for but never delivered to the channel."""
    results = _run(lambda s: s.unsold_tokens(identifier))
    if not results:
        _out().print("no unsold tokens")
    for r in results:
        _out().print(
            f"{r.channel} {r.channel_reference}: Rp {group_thousands(r.price.nominal)} "
            f"{kwh_text(r.kwh)} kWh  {group_token(r.token)}"
        )


OperatorOpt = Annotated[str, typer.Option("--operator", "-o", help="operator username")]
ReasonOpt = Annotated[str, typer.Option("--reason", "-r", help="why (kept in the audit log)")]
PasswordOpt = Annotated[
    str,
    typer.Option(prompt=True, hide_input=True, envvar="PRABAYAR_OPERATOR_PASSWORD", help="operator password"),
]


def _as_operator(operator: str, password: str, action: Callable[[VendingService], T]) -> T:
    def run(service: VendingService) -> T:
        service.authenticate_user(operator, password)
        return action(service)

    return _run(run)


def _print_tokens(kind: str, tokens: tuple[str, ...]) -> None:
    _out().print(f"[bold]{kind}[/bold] — enter in this order:")
    for i, token in enumerate(tokens, 1):
        _out().print(f"  {i}. [bold green]{group_token(token)}[/bold green]")


@ops_app.command("revoke-sessions")
def ops_revoke_sessions(username: str, operator: OperatorOpt, reason: ReasonOpt, password: PasswordOpt) -> None:
    """End every browser session and bearer token of USERNAME on every server (audited)."""
    from prabayar.web.security import TOKEN_LIFETIME_SECONDS
    from prabayar.web.state import open_state

    settings = get_settings()

    def run(service: VendingService) -> int:
        service.authenticate_user(operator, password)
        service.record_access_revocation(operator, username, reason)
        state = open_state(settings.redis_url, service.engine, prefix=settings.redis_prefix)
        return state.revoke_user(username, TOKEN_LIFETIME_SECONDS)

    ended = _run(run)
    _out().print(f"{username}: {ended} session(s) ended; every token issued before now is refused")


@ops_app.command("clear-tamper")
def ops_clear_tamper(meter: str, operator: OperatorOpt, reason: ReasonOpt, password: PasswordOpt) -> None:
    """Issue a clear-tamper token."""
    r = _as_operator(operator, password, lambda s: s.clear_tamper(operator, meter, reason))
    _print_tokens(r.kind, r.tokens)


@ops_app.command("clear-credit")
def ops_clear_credit(
    meter: str,
    operator: OperatorOpt,
    reason: ReasonOpt,
    password: PasswordOpt,
    register: Annotated[int, typer.Option(help="0 electricity, 65535 all")] = 0,
) -> None:
    """Ask for a clear-credit token: pending until an admin other than you approves it
    (prabayar approvals approve ID)."""
    r = _as_operator(operator, password, lambda s: s.clear_credit(operator, meter, reason, register))
    print_pending(r, _out())


@ops_app.command("power-limit")
def ops_power_limit(
    meter: str,
    watts: int,
    operator: OperatorOpt,
    reason: ReasonOpt,
    password: PasswordOpt,
) -> None:
    """Issue a set-maximum-power-limit token."""
    r = _as_operator(operator, password, lambda s: s.set_power_limit(operator, meter, watts, reason))
    _print_tokens(r.kind, r.tokens)


@ops_app.command("key-change")
def ops_key_change(
    meter: str,
    operator: OperatorOpt,
    reason: ReasonOpt,
    password: PasswordOpt,
    krn: Annotated[int | None, typer.Option(help="new key revision (default: next)")] = None,
    rollover: Annotated[bool, typer.Option("--rollover", help="TID rollover: move to the next base date")] = False,
) -> None:
    """Ask for key change tokens (KCT), including the TID-rollover key change: admins only, and
    pending until a second admin approves it (prabayar approvals approve ID)."""
    r = _as_operator(
        operator,
        password,
        lambda s: s.key_change(operator, meter, reason, new_krn=krn, rollover=rollover),
    )
    print_pending(r, _out())


@ops_app.command("vending-key")
def ops_vending_key(
    sgc: Annotated[str, typer.Argument(help="6-digit supply group code")],
    krn: Annotated[int, typer.Argument(help="key revision number 1..9")],
    operator: OperatorOpt,
    password: PasswordOpt,
    dkga: Annotated[str, typer.Option(help="02 (8-byte key) or 04 (20-byte key)")] = "04",
) -> None:
    """Generate a vending key inside the key store (admin only; the key is never shown)."""
    try:
        algorithm = Dkga(dkga)
    except ValueError:
        _err().print("--dkga is 02 or 04")
        raise typer.Exit(2) from None
    _as_operator(operator, password, lambda s: s.generate_vending_key(operator, sgc, krn, algorithm))
    _out().print(f"vending key for SGC {sgc} KRN {krn} (DKGA{dkga}) created")


@ops_app.command("audit")
def ops_audit(
    meter: Annotated[str | None, typer.Option(help="only this meter")] = None,
    action: Annotated[str | None, typer.Option(help="action prefix, e.g. key.")] = None,
    limit: int = 20,
) -> None:
    """The append-only audit log, newest first."""
    entries = _run(lambda s: s.audit_log(meter_number=meter, action=action, limit=limit))
    table = Table()
    for column in ("id", "at (UTC)", "actor", "action", "meter", "detail"):
        table.add_column(column)
    for e in entries:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(e.detail.items()))
        table.add_row(
            str(e.id), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action,
            e.meter_number or "", detail,
        )  # fmt: skip
    _out().print(table)
