"""``prabayar campaign create|approve|run|status|export|worker|list|visit|confirm``.

Key-change campaigns (docs/campaigns.md). ``create`` and ``approve`` are made by two different
admins (password prompt or ``PRABAYAR_OPERATOR_PASSWORD``). ``run`` generates the KCT sets:
in this process on SQLite (or with ``--in-process``), else it queues one procrastinate job per
chunk for ``prabayar campaign worker`` processes (any number, on any machine sharing the
database) and, with ``--wait``, follows them with a progress bar.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from prabayar.vending import NotAuthorized, VendingService
from prabayar.vending.campaigns import CampaignInfo, Selection, Target

T = TypeVar("T")

campaign_app = typer.Typer(no_args_is_help=True, help="Key-change campaigns: create, approve, run, status, export.")

AdminOpt = Annotated[str, typer.Option("--admin", "-o", help="the admin's username")]
PasswordOpt = Annotated[
    str,
    typer.Option(prompt=True, hide_input=True, envvar="PRABAYAR_OPERATOR_PASSWORD", help="the user's password"),
]


def _out() -> Console:
    return Console()


def _run(action: Callable[[VendingService], T]) -> T:
    from prabayar.cli.vending import _run as run_vending

    return run_vending(action)


def _as(user: str, password: str, role: str, action: Callable[[VendingService], T]) -> T:
    def run(service: VendingService) -> T:
        who = service.authenticate_user(user, password)
        if role == "admin" and who.role != "admin":
            raise NotAuthorized(user, "manage key-change campaigns (admin only)")
        if who.role not in ("operator", "admin"):
            raise NotAuthorized(user, "record campaign visits")
        return action(service)

    return _run(run)


def print_status(info: CampaignInfo, console: Console | None = None) -> None:
    out = console or _out()
    c = info.counts
    out.print(f"[bold]campaign {info.id}[/bold] {info.name!r}: [bold]{info.status}[/bold] "
              f"(made by {info.created_by}, approved by {info.approved_by or '-'})")  # fmt: skip
    out.print(f"selection {info.selection.as_json()} -> target {info.target.as_json()}")
    out.print(f"chunks {info.chunks_done}/{info.chunks_total}")
    table = Table("unit", "selected", "generated", "delivered", "confirmed", "stale")
    table.add_row("ALL", f"{c.selected:,}", f"{c.generated:,}", f"{c.delivered:,}", f"{c.confirmed:,}",
                  f"{c.stale:,}")  # fmt: skip
    for u in info.units:
        k = u.counts
        table.add_row(u.unit_code, f"{k.selected:,}", f"{k.generated:,}", f"{k.delivered:,}", f"{k.confirmed:,}",
                      f"{k.stale:,}")  # fmt: skip
    out.print(table)
    if c.skipped:
        out.print(f"skipped (already on the target key or changed since selection): {c.skipped:,}")


@campaign_app.command("create")
def campaign_create(
    admin: AdminOpt,
    password: PasswordOpt,
    name: Annotated[str, typer.Option(help="a name for people")],
    reason: Annotated[str, typer.Option(help="why (kept in the audit log)")],
    sgc: Annotated[str | None, typer.Option(help="select: supply group code")] = None,
    krn: Annotated[int | None, typer.Option(help="select: current key revision")] = None,
    base_date: Annotated[str | None, typer.Option(help="select: current base date (1993/2014/2035)")] = None,
    algorithm: Annotated[str | None, typer.Option(help="select: current algorithm (STA/DEA/MISTY1)")] = None,
    unit: Annotated[str | None, typer.Option(help="select: unit code")] = None,
    meter: Annotated[list[str] | None, typer.Option(help="select: a meter number (repeatable)")] = None,
    meters_file: Annotated[Path | None, typer.Option(help="select: a file of meter numbers, one a line")] = None,
    new_krn: Annotated[int | None, typer.Option(help="target: key revision")] = None,
    new_base_date: Annotated[str | None, typer.Option(help="target: base date (2014/2035)")] = None,
    rollover: Annotated[bool, typer.Option(help="target: the next base date (TID rollover)")] = False,
    new_algorithm: Annotated[str | None, typer.Option(help="target: algorithm (STA/MISTY1)")] = None,
    dkga: Annotated[str | None, typer.Option(help="target: DKGA the new vending key must have (02/04)")] = None,
    chunk_size: Annotated[int, typer.Option(help="meters per chunk (one worker transaction)")] = 20_000,
) -> None:
    """Create a campaign; it waits for a second admin (prabayar campaign approve ID)."""
    numbers = list(meter or [])
    if meters_file is not None:
        numbers += [line.strip() for line in meters_file.read_text().splitlines() if line.strip()]
    selection = Selection(sgc, krn, base_date, algorithm, unit, tuple(numbers))
    target = Target(new_krn, new_base_date, rollover, new_algorithm, dkga)
    info = _as(admin, password, "admin", lambda s: s.create_campaign(admin, name, reason, selection, target,
                                                                      chunk_size=chunk_size))  # fmt: skip
    out = _out()
    out.print(f"[green]campaign {info.id} created[/green]; [yellow]pending approval, id {info.approval_id}[/yellow]"
              f" — another admin: prabayar campaign approve {info.id}")  # fmt: skip
    out.print(f"kampanye {info.id} dibuat, menunggu persetujuan admin lain")


@campaign_app.command("approve")
def campaign_approve(
    campaign_id: int, admin: AdminOpt, password: PasswordOpt,
    reason: Annotated[str, typer.Option(help="the checker's note")] = "",
) -> None:  # fmt: skip
    """Approve a campaign (an admin other than its maker)."""
    info = _as(admin, password, "admin", lambda s: s.approve_campaign(campaign_id, admin, reason=reason))
    _out().print(f"campaign {info.id}: [bold]{info.status}[/bold] by {info.approved_by}; "
                 f"run it: prabayar campaign run {info.id}")  # fmt: skip


def _progress(service: VendingService, campaign_id: int, work: Callable[[Callable[[], None]], object]) -> None:
    info = service.campaign(campaign_id)
    with Progress(
        TextColumn("[bold]campaign {task.fields[cid]}[/bold]"), BarColumn(), MofNCompleteColumn(),
        TextColumn("meters · {task.fields[rate]:,.0f}/s · chunks {task.fields[chunks]}"), TimeElapsedColumn(),
        console=_out(),
    ) as bar:  # fmt: skip
        started = time.perf_counter()
        base = info.counts.generated + info.counts.skipped
        task = bar.add_task("gen", total=info.counts.selected, cid=campaign_id, rate=0.0, chunks="-")

        def tick() -> None:
            now = service.campaign(campaign_id)
            done = now.counts.generated + now.counts.skipped
            rate = (done - base) / max(time.perf_counter() - started, 1e-6)
            bar.update(task, completed=done, total=now.counts.selected, rate=rate,
                       chunks=f"{now.chunks_done}/{now.chunks_total}")  # fmt: skip

        work(tick)
        tick()


@campaign_app.command("run")
def campaign_run(
    campaign_id: int,
    in_process: Annotated[bool, typer.Option("--in-process", help="generate here, not on the queue")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="follow the workers with a progress bar")] = False,
) -> None:
    """Generate an approved campaign's KCT sets (idempotent: run again after any crash)."""
    from prabayar.vending.db import is_sqlite

    def go(service: VendingService) -> CampaignInfo:
        selected = service.plan_campaign(campaign_id)
        if is_sqlite(service.engine) or in_process:
            _progress(service, campaign_id, lambda tick: service.run_campaign(campaign_id, progress=lambda _o: tick()))
            return service.campaign(campaign_id, per_unit=True)
        from prabayar.config import get_settings
        from prabayar.vending import campaign_queue

        url = get_settings().resolved_database_url()
        campaign_queue.ensure_schema(url)
        pending = service.pending_chunks(campaign_id)
        app = campaign_queue.build_app(url, lambda: service)
        queued = campaign_queue.defer_chunks(app, campaign_id, pending)
        _out().print(f"{selected:,} meters selected; {len(pending)} chunks pending, {queued} queued on "
                     f"'{campaign_queue.QUEUE}' — workers: prabayar campaign worker")  # fmt: skip
        if wait:

            def follow(tick: Callable[[], None]) -> None:
                while service.pending_chunks(campaign_id):
                    tick()
                    time.sleep(0.5)

            _progress(service, campaign_id, follow)
        return service.campaign(campaign_id, per_unit=True)

    print_status(_run(go))


@campaign_app.command("worker")
def campaign_worker(
    concurrency: Annotated[int, typer.Option(help="chunks at once in this process")] = 1,
    once: Annotated[bool, typer.Option("--once", help="stop when the queue is empty")] = False,
) -> None:
    """Run a procrastinate worker for campaign chunks (PostgreSQL; start as many as you like)."""
    from prabayar.config import get_settings
    from prabayar.vending import campaign_queue
    from prabayar.vending.setup import open_service

    url = get_settings().resolved_database_url()
    service = open_service()
    try:
        campaign_queue.ensure_schema(url)
        app = campaign_queue.build_app(url, lambda: service)
    except ValueError as exc:
        _out().print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    _out().print(f"campaign worker on queue '{campaign_queue.QUEUE}' (concurrency {concurrency})")
    campaign_queue.run_worker(app, concurrency=concurrency, wait=not once)


@campaign_app.command("status")
def campaign_status(
    campaign_id: int,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Selected / generated / delivered / confirmed, for the campaign and per unit."""
    info = _run(lambda s: s.campaign(campaign_id, per_unit=True))
    if as_json:
        print(json.dumps(info.as_dict(), default=str, indent=2))
        return
    print_status(info)


@campaign_app.command("list")
def campaign_list() -> None:
    """The newest campaigns."""
    infos = _run(lambda s: s.campaigns())
    table = Table("id", "name", "status", "selected", "generated", "delivered", "confirmed")
    for i in infos:
        c = i.counts
        table.add_row(str(i.id), i.name, i.status, f"{c.selected:,}", f"{c.generated:,}", f"{c.delivered:,}",
                      f"{c.confirmed:,}")  # fmt: skip
    _out().print(table)


@campaign_app.command("export")
def campaign_export(
    campaign_id: int,
    unit: Annotated[str, typer.Option(help="unit code of the field team (GUDANG: meters in storage)")],
    output: Annotated[Path | None, typer.Option("--output", "-O", help="CSV file (default: stdout)")] = None,
    all_states: Annotated[bool, typer.Option("--all", help="also confirmed and stale meters")] = False,
) -> None:
    """CSV of a unit's campaign meters with their KCTs, for visits and meters in storage."""
    states = ("generated", "delivered", "confirmed", "stale") if all_states else ("generated", "delivered")
    if unit.upper() == "GUDANG":
        text = _run(lambda s: s.export_campaign_stock(campaign_id))
    else:
        text = _run(lambda s: s.export_campaign(campaign_id, unit, states=states))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        _out().print(f"{text.count(chr(10)) - 1} meters written to {output}")


@campaign_app.command("visit")
def campaign_visit(
    meter_number: str, operator: AdminOpt, password: PasswordOpt,
    reason: Annotated[str, typer.Option(help="visit note")],
    accepted: Annotated[bool, typer.Option(help="a token under the new key was accepted afterwards")] = False,
) -> None:  # fmt: skip
    """A field team keyed the meter's campaign KCTs (delivered; --accepted: confirmed)."""
    kct = _as(operator, password, "operator",
              lambda s: s.record_field_keying(operator, meter_number, reason, accepted=accepted))  # fmt: skip
    _out().print(f"meter {kct.meter_number}: campaign {kct.campaign_id} [bold]{kct.state}[/bold]")


@campaign_app.command("stock-keyed")
def campaign_stock_keyed(
    campaign_id: int, meter_number: str, operator: AdminOpt, password: PasswordOpt,
    reason: Annotated[str, typer.Option(help="warehouse note")],
) -> None:  # fmt: skip
    """The warehouse keyed a stock meter's campaign KCTs: its stock record takes the new key."""
    label = _as(operator, password, "operator",
                lambda s: s.record_stock_keying(operator, campaign_id, meter_number, reason))  # fmt: skip
    _out().print(f"stock meter {meter_number}: key {label}")


@campaign_app.command("confirm")
def campaign_confirm(
    meter_number: str,
    source: Annotated[str, typer.Option(help="technician:<user>, ticket:<no> or meter:<reading>")],
) -> None:
    """A token under the new key is known to be accepted: confirm the meter's key change."""
    kct = _run(lambda s: s.confirm_key_change(meter_number, source))
    if kct is None:
        _out().print("no delivered, unconfirmed campaign key change for this meter")
        raise typer.Exit(1)
    _out().print(f"meter {kct.meter_number}: campaign {kct.campaign_id} [bold]{kct.state}[/bold]")
