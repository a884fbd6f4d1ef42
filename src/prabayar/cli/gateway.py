"""CLI of the ISO 8583 gateway: ``gateway run``, ``gateway partner add|list|remove``, ``gateway-client``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from prabayar.cli.vending import _failures, _run
from prabayar.gateway import iso
from prabayar.gateway.client import GatewayClient, Message, Partner
from prabayar.gateway.server import DEFAULT_WORKERS, GatewayServer, Timers
from prabayar.vending import open_service
from prabayar.vending.hostlink import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_IN_FLIGHT

gateway_app = typer.Typer(no_args_is_help=True, help="ISO 8583 host-to-host gateway: run, partners.")
partner_app = typer.Typer(no_args_is_help=True, help="Partners (a channel with an ISO 8583 identity).")
gateway_app.add_typer(partner_app, name="partner")
client_app = typer.Typer(no_args_is_help=True, help="A partner-side test client: sign on, then one request.")


@partner_app.command("add")
def partner_add(
    channel: Annotated[str, typer.Argument(help="channel code (created if it does not exist)")],
    port: Annotated[int, typer.Option(help="TCP port the host listens on for this partner")],
    switcher_id: Annotated[str, typer.Option("--switcher-id", help="7 characters, field 48 off 0")],
    pcid: Annotated[str, typer.Option(help="partner central ID (field 33)")],
    bank_code: Annotated[list[str], typer.Option("--bank-code", help="accepted field 32 value (repeatable)")],
    source: Annotated[
        list[str] | None, typer.Option("--source", help="allowed source network, CIDR (repeatable)")
    ] = None,
    framing: Annotated[str, typer.Option(help="trailer (0xFF) or len2 (2-byte length)")] = "trailer",
    max_connections: Annotated[int, typer.Option(help="simultaneous connections")] = DEFAULT_MAX_CONNECTIONS,
    max_in_flight: Annotated[int, typer.Option(help="unanswered requests per connection")] = DEFAULT_MAX_IN_FLIGHT,
    admin_fee: Annotated[int, typer.Option(help="new channel only: admin fee in rupiah")] = 0,
    nominal: Annotated[
        list[int] | None, typer.Option("--nominal", help="new channel: sold nominal (repeatable; default PLN list)")
    ] = None,
    min_nominal: Annotated[int | None, typer.Option(help="new channel only: minimum purchase")] = None,
    max_nominal: Annotated[int | None, typer.Option(help="new channel only: maximum purchase")] = None,
    actor: Annotated[str, typer.Option(help="who makes the change (audit log)")] = "cli",
) -> None:
    """Make CHANNEL an ISO 8583 partner; a running gateway picks it up within seconds."""
    p = _run(
        lambda s: s.add_gateway_partner(
            channel, port=port, framing=framing, switcher_id=switcher_id, pcid=pcid, bank_codes=bank_code,
            sources=source or ["127.0.0.1/32"], max_connections=max_connections, max_in_flight=max_in_flight,
            actor=actor, server=True, admin_fee=admin_fee, nominals=nominal, min_nominal=min_nominal,
            max_nominal=max_nominal,
        )
    )  # fmt: skip
    Console().print(
        f"partner {p.channel}: port {p.port} ({p.framing}), switcher {p.switcher_id}, PCID {p.pcid}, "
        f"bank codes {', '.join(p.bank_codes)}, sources {', '.join(p.sources)}"
    )


@partner_app.command("list")
def partner_list() -> None:
    """Every partner, by port."""
    partners = _run(lambda s: s.gateway_partners())
    table = Table()
    for column in ("channel", "port", "framing", "switcher", "PCID", "bank codes", "sources", "max conn", "in flight"):
        table.add_column(column)
    for p in partners:
        table.add_row(
            p.channel, str(p.port), p.framing, p.switcher_id, p.pcid, " ".join(p.bank_codes), " ".join(p.sources),
            str(p.max_connections), str(p.max_in_flight),
        )  # fmt: skip
    Console().print(table)


@partner_app.command("remove")
def partner_remove(
    channel: Annotated[str, typer.Argument(help="channel code")],
    actor: Annotated[str, typer.Option(help="who makes the change (audit log)")] = "cli",
) -> None:
    """Stop being a partner (its port closes; the channel, its sales and journal stay)."""
    _run(lambda s: s.remove_gateway_partner(channel, actor=actor, server=True))
    Console().print(f"partner {channel.upper()} removed")


@gateway_app.command("run")
def gateway_run(
    host: Annotated[str, typer.Option(help="bind address for every partner port")] = "127.0.0.1",
    workers: Annotated[int, typer.Option(help="threads for vending calls")] = DEFAULT_WORKERS,
    metrics_port: Annotated[int | None, typer.Option(help="serve Prometheus /metrics on this port")] = None,
    reload_interval: Annotated[float, typer.Option(help="seconds between partner table polls")] = 5.0,
    log_level: Annotated[str, typer.Option(help="DEBUG shows raw frames (tokens masked)")] = "INFO",
    deadline: Annotated[float, typer.Option(help="seconds before a 2100/2200/2220/2221 gets RC 0068")] = 20.0,
    idle_timeout: Annotated[float, typer.Option(help="close a connection with no frame for this long")] = 180.0,
) -> None:
    """Listen on every partner's port until SIGTERM/SIGINT (SIGHUP reloads the partners)."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with _failures():
        service = open_service()
        service.gateway_partners()  # fail early on an unmigrated database
    if metrics_port is not None:
        from prometheus_client import start_http_server

        from prabayar.gateway.metrics import REGISTRY

        start_http_server(metrics_port, addr=host, registry=REGISTRY)
    timers = Timers(deadline=deadline, idle_timeout=idle_timeout)
    server = GatewayServer(service, host=host, workers=workers, timers=timers, reload_interval=reload_interval)
    asyncio.run(_serve(server))


async def _serve(server: GatewayServer) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(NotImplementedError, AttributeError):
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(server.reload()))
    await server.start()
    logging.getLogger("prabayar.gateway").info("gateway running; %d partner(s)", len(server.listeners))
    await stop.wait()
    logging.getLogger("prabayar.gateway").info("stopping: finishing in-flight requests")
    await server.stop()


# -- gateway-client ---------------------------------------------------------------------------


class _Conn:
    def __init__(self, client: GatewayClient, partner: Partner) -> None:
        self.client = client
        self.partner = partner


@client_app.callback()
def client_main(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="the partner's port on the host")],
    switcher_id: Annotated[str, typer.Option("--switcher-id", help="7 characters")],
    pcid: Annotated[str, typer.Option(help="partner central ID (field 33)")],
    bank_code: Annotated[str, typer.Option("--bank-code", help="field 32")],
    host: Annotated[str, typer.Option(help="gateway host")] = "127.0.0.1",
    framing: Annotated[str, typer.Option(help="trailer or len2")] = "trailer",
    terminal: Annotated[str, typer.Option(help="terminal ID (field 41), 16 characters")] = "PRABAYARCLIENT01",
    timeout: Annotated[float, typer.Option(help="seconds to wait for an answer")] = 35.0,
) -> None:
    """Connect and sign on (2800/001); the sub-command sends one request and prints the answer."""
    partner = Partner(switcher_id=switcher_id, pcid=pcid, bank_code=bank_code, terminal_id=terminal.ljust(16)[:16])
    try:
        client = GatewayClient(host, port, framing, timeout=timeout)
    except OSError as exc:
        Console(stderr=True).print(f"[red]cannot connect to {host}:{port}:[/red] {exc}")
        raise typer.Exit(2) from None
    ctx.call_on_close(client.close)
    answer = _exchange(client, partner.network("001"))
    if answer[1].get("39") != "0000":
        raise typer.Exit(1)
    ctx.obj = _Conn(client, partner)


_NAMES = {bit: spec[3] for bit, spec in iso.FIELDS.items()}
_LAYOUT_2110 = ((0, 7, "switcher ID"), (7, 18, "meter number"), (18, 30, "IDPEL"), (30, 31, "flag"),
                (31, 63, "PLN reference"), (63, 95, "SRN"), (95, 120, "name"), (120, 124, "tariff"),
                (124, 133, "power (VA)"), (133, 144, "admin x 100"))  # fmt: skip
_LAYOUT_2210 = ((0, 7, "switcher ID"), (7, 18, "meter number"), (18, 30, "IDPEL"), (30, 31, "flag"),
                (31, 63, "NO REF"), (63, 95, "SRN"), (95, 103, "receipt no."), (103, 128, "name"),
                (128, 132, "tariff"), (132, 141, "power (VA)"), (141, 142, "buying option"),
                (142, 153, "admin"), (153, 164, "meterai"), (164, 175, "PPN"), (175, 186, "PBJT-TL"),
                (186, 197, "angsuran"), (197, 210, "power purchase"), (210, 221, "kWh"),
                (221, 241, "TOKEN"))  # fmt: skip


def _exchange(client: GatewayClient, message: Message) -> Message:
    console = Console()
    console.print(f"-> {message[0]} STAN {message[1].get('11')}")
    answer = client.request(message)
    mti, fields = answer
    table = Table(title=f"<- {mti} RC {fields.get('39', '?')}")
    table.add_column("bit")
    table.add_column("name")
    table.add_column("value", overflow="fold")
    for bit in sorted(fields, key=int):
        table.add_row(bit, _NAMES.get(bit, ""), fields[bit])
    console.print(table)
    layout = {241: _LAYOUT_2210, 144: _LAYOUT_2110}.get(len(fields.get("48", "")))
    if layout is not None and fields.get("39") == "0000":
        detail = Table(title="field 48")
        detail.add_column("off")
        detail.add_column("item")
        detail.add_column("value")
        for start, end, name in layout:
            detail.add_row(str(start), name, fields["48"][start:end])
        console.print(detail)
    return answer


def _conn(ctx: typer.Context) -> _Conn:
    conn = ctx.obj
    assert isinstance(conn, _Conn)
    return conn


@client_app.command("echo")
def client_echo(ctx: typer.Context) -> None:
    """2800/301."""
    c = _conn(ctx)
    _exchange(c.client, c.partner.network("301"))


@client_app.command("inquiry")
def client_inquiry(
    ctx: typer.Context,
    identifier: Annotated[str, typer.Argument(help="11-digit meter number or 12-digit IDPEL")],
    amount: Annotated[int | None, typer.Option(help="field 4: also run the amount checks")] = None,
) -> None:
    """2100 -> 2110."""
    c = _conn(ctx)
    _exchange(c.client, c.partner.inquiry(identifier, amount))


@client_app.command("purchase")
def client_purchase(
    ctx: typer.Context,
    identifier: Annotated[str, typer.Argument(help="11-digit meter number or 12-digit IDPEL")],
    amount: Annotated[int, typer.Option(help="rupiah (field 4)")],
    srn: Annotated[str | None, typer.Option(help="switcher reference; default: the one the 2110 proposes")] = None,
) -> None:
    """2100 then 2200 with the 2110's field 48 (and its SRN unless --srn)."""
    c = _conn(ctx)
    _mti, inq = _exchange(c.client, c.partner.inquiry(identifier, amount))
    if inq.get("39") != "0000":
        raise typer.Exit(1)
    f48 = c.partner.purchase_48(inq["48"], srn=srn or "")
    Console().print(f"SRN {f48[63:95].rstrip()} (send an advice with it if no answer comes)")
    _mti, sold = _exchange(c.client, c.partner.purchase(f48, amount))
    if sold.get("39") != "0000":
        raise typer.Exit(1)


@client_app.command("advice")
def client_advice(
    ctx: typer.Context,
    identifier: Annotated[str, typer.Argument(help="11-digit meter number or 12-digit IDPEL")],
    amount: Annotated[int, typer.Option(help="rupiah (field 4) of the purchase")],
    srn: Annotated[str, typer.Option(help="the purchase's switcher reference")],
    repeat: Annotated[bool, typer.Option(help="send 2221 (advice repeat) instead of 2220")] = False,
) -> None:
    """2220/2221 -> 2230/2231: the token of a purchase whose answer was lost."""
    c = _conn(ctx)
    f48 = c.partner.purchase_48(identifier=identifier, srn=srn)
    _mti, f = _exchange(c.client, c.partner.advice(f48, amount, repeat=repeat))
    if f.get("39") != "0000":
        raise typer.Exit(1)
