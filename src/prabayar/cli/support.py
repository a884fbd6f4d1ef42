"""CLI faces of support: ``prabayar diagnose`` and ``prabayar ticket ...`` (use cases only)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from prabayar.cli.approvals import print_pending
from prabayar.support import (
    Diagnosis,
    DiagnosisRequest,
    SupportError,
    Ticket,
    TicketService,
    TicketStatus,
)
from prabayar.support.present import WIB, grouped, wib
from prabayar.support.setup import diagnosis_engine
from prabayar.vending import KeyStoreError, NotAuthorized, VendingError, VendingService, open_service

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")

ticket_app = typer.Typer(no_args_is_help=True, help="Complaint tickets (pengaduan).")


@contextmanager
def _failures() -> Iterator[None]:
    """Typed errors become a clear bilingual message and exit code 1, never a traceback."""
    try:
        yield
    except SupportError as exc:
        err_console.print(f"[red]{exc.message.id}[/red]\n{exc.message.en}")
        raise typer.Exit(1) from None
    except VendingError as exc:
        err_console.print(f"[red]{exc.code}[/red] {exc.message_id}\n{exc.message_en}")
        raise typer.Exit(1) from None
    except KeyStoreError as exc:
        err_console.print(f"[red]key store:[/red] {exc}")
        raise typer.Exit(1) from None
    except (OperationalError, ProgrammingError) as exc:
        err_console.print(f"[red]database error:[/red] {exc.orig}\nIs the database migrated? Run: prabayar db upgrade")
        raise typer.Exit(1) from None


def _with_tickets(action: Callable[[TicketService], T]) -> T:
    with _failures():
        return action(TicketService(open_service()))


def _render_diagnosis(d: Diagnosis) -> None:
    lines = [
        f"[bold]{d.cause.value}[/bold] ({d.confidence.value})"
        + ("  [yellow]perlu tiket (belum dibuat) / ticket needed (none opened)[/yellow]" if d.ticket_needed else ""),
        "",
        d.explanation.id,
        f"[dim]{d.explanation.en}[/dim]",
    ]
    if d.candidates:
        lines.append("")
        for c in d.candidates:
            pos = ",".join(str(p) for p in c.positions)
            lines.append(f"  [green]{c.grouped}[/green]  {c.typo.value} @ {pos}  {c.description}")
    lines.append("")
    lines.append("[bold]Langkah / next steps[/bold]")
    for i, step in enumerate(d.next_steps, 1):
        lines.append(f" {i}. {step.text.id}")
        lines.append(f"    [dim]{step.text.en}[/dim]")
        for t in step.tokens:
            lines.append(f"    [green]{grouped(t)}[/green]")
    for f in d.other_findings:
        lines.append(f"[yellow]{f.id}[/yellow]")
    title = f"Diagnosis meter {d.meter_number}"
    if d.ticket_needed:
        lines.append("")
        lines.append(
            "[yellow]Buka tiket pengaduan / open a complaint ticket:[/yellow] "
            f"prabayar ticket open {d.meter_number or 'METER'} --channel cc123 --token DIGITS"
        )
    console.print(Panel("\n".join(lines), title=title, expand=False))
    if d.evidence:
        table = Table("source", "evidence", title="Evidence", show_lines=False)
        for e in d.evidence:
            table.add_row(e.source, e.fact)
        console.print(table)


def diagnose(
    identifier: Annotated[str, typer.Argument(help="meter number (11 digits) or IDPEL (12)")],
    token: Annotated[list[str] | None, typer.Argument(help="the digits the customer typed (spaces allowed)")] = None,
    display: Annotated[str | None, typer.Option("--display", "-d", help="what the meter showed, e.g. GAGAL")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Why did this token fail? Cause, evidence and next steps (Indonesian and English)."""
    typed = " ".join(token) if token else None
    with _failures():
        service = open_service()
        engine = diagnosis_engine(service, actor="cli")
        result = engine.diagnose(DiagnosisRequest(identifier, typed, display))
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        _render_diagnosis(result)


def _render_ticket(t: Ticket) -> None:
    flags = []
    if t.response_overdue:
        flags.append("[red]response overdue[/red]")
    if t.resolution_overdue:
        flags.append("[red]resolution overdue[/red]")
    lines = [
        f"[bold]{t.number}[/bold]  {t.status.value}  {' '.join(flags)}",
        f"channel {t.channel.label} · category {t.category} · meter {t.meter_number} · IDPEL {t.idpel}",
        f"created {wib(t.created_at)} by {t.created_by} · response due {wib(t.response_due)} · "
        f"resolve by {wib(t.resolution_due)}",
    ]
    if t.technician:
        lines.append(f"technician {t.technician}" + (f" · visit {wib(t.visit_at)}" if t.visit_at else ""))
    if t.description:
        lines.append(f"description: {t.description}")
    if t.diagnosis:
        lines.append(f"diagnosis: {t.diagnosis.get('cause')} ({t.diagnosis.get('confidence')})")
    if t.inspected_at:
        ok = "installation OK" if t.installation_ok else "installation NOT OK"
        lines.append(f"inspection {wib(t.inspected_at)}: {t.inspection_note} ({ok})")
    for tok in t.issued_tokens:
        lines.append(f"token: [green]{grouped(tok)}[/green]")
    if t.replacement_meter:
        lines.append(f"replacement meter: {t.replacement_meter}")
    if t.resolution:
        lines.append(f"resolution: {t.resolution}")
    console.print(Panel("\n".join(lines), expand=False))
    table = Table("at (WIB)", "actor", "step", "status", "detail")
    for e in t.events:
        table.add_row(wib(e.at), e.actor, e.kind, e.status.value, e.detail)
    console.print(table)


def _output(t: Ticket, as_json: bool) -> None:
    if as_json:
        print(json.dumps(t.as_dict(), ensure_ascii=False, indent=2))
    else:
        _render_ticket(t)


JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
ActorOpt = Annotated[str, typer.Option("--actor", help="who took the complaint (agent name)")]
#: Every step that acts as an operator names the account and proves it with its password
#: (asked for, or PRABAYAR_OPERATOR_PASSWORD), as ``prabayar ops`` does.
OperatorOpt = Annotated[
    str, typer.Option("--operator", "--actor", "-o", help="operator account (asks for its password)")
]
PasswordOpt = Annotated[
    str,
    typer.Option(prompt=True, hide_input=True, envvar="PRABAYAR_OPERATOR_PASSWORD", help="operator password"),
]


def _as_operator(operator: str, password: str, action: Callable[[TicketService], T]) -> T:
    """Run a ticket step as an authenticated operator or admin (never a customer login)."""

    def run(tickets: TicketService) -> T:
        who = tickets.vending.authenticate_user(operator, password)
        if who.role not in ("operator", "admin"):
            raise NotAuthorized(operator, "act on complaint tickets")
        return action(tickets)

    return _with_tickets(run)


@ticket_app.command("open")
def ticket_open(
    identifier: Annotated[str, typer.Argument(help="meter number or IDPEL")],
    channel: Annotated[str, typer.Option(help="cc123, app, x, facebook, instagram, whatsapp")],
    actor: ActorOpt = "cli",
    description: Annotated[str, typer.Option(help="the complaint in the customer's words")] = "",
    contact: Annotated[str, typer.Option(help="phone or social handle")] = "",
    category: Annotated[str | None, typer.Option(help="default: the diagnosed cause")] = None,
    token: Annotated[str | None, typer.Option(help="typed digits: diagnose and attach")] = None,
    display: Annotated[str | None, typer.Option(help="what the meter showed")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a complaint ticket, with the diagnosis attached."""

    def run(tickets: TicketService) -> Ticket:
        engine = diagnosis_engine(tickets.vending, actor=actor)
        diagnosis = engine.diagnose(DiagnosisRequest(identifier, token, display))
        return tickets.open(
            channel=channel, identifier=identifier, actor=actor, category=category,
            description=description, contact=contact, diagnosis=diagnosis,
        )  # fmt: skip

    _output(_with_tickets(run), as_json)


@ticket_app.command("list")
def ticket_list(
    status: Annotated[str | None, typer.Option(help="open, assigned, ...")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="only tickets past an SLA")] = False,
    idpel: Annotated[str | None, typer.Option(help="one customer's tickets")] = None,
    meter: Annotated[str | None, typer.Option(help="one meter's tickets")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Tickets, newest first, with their SLA flags."""
    with _failures():
        try:
            st = TicketStatus(status) if status else None
        except ValueError:
            raise typer.BadParameter("status is one of " + ", ".join(s.value for s in TicketStatus)) from None
        tickets = TicketService(open_service()).list(status=st, overdue_only=overdue, idpel=idpel, meter_number=meter)
    if as_json:
        print(json.dumps([t.as_dict() for t in tickets], ensure_ascii=False, indent=2))
        return
    table = Table("number", "status", "channel", "category", "meter", "technician", "due", "SLA")
    for t in tickets:
        sla = "[red]OVERDUE[/red]" if t.overdue else ("late" if t.resolution_overdue else "ok")
        table.add_row(t.number, t.status.value, t.channel.value, t.category, t.meter_number,
                      t.technician or "", wib(t.resolution_due), sla)  # fmt: skip
    console.print(table)


@ticket_app.command("show")
def ticket_show(number: str, as_json: JsonOpt = False) -> None:
    """One ticket with its full history."""
    _output(_with_tickets(lambda s: s.get(number)), as_json)


@ticket_app.command("assign")
def ticket_assign(
    number: str, technician: str, operator: OperatorOpt, password: PasswordOpt, as_json: JsonOpt = False
) -> None:
    """Assign (or reassign) a technician."""
    _output(_as_operator(operator, password, lambda s: s.assign(number, technician, operator)), as_json)


def _wib_time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD HH:MM (WIB) or an ISO time with offset") from None
    return when.replace(tzinfo=WIB) if when.tzinfo is None else when


@ticket_app.command("schedule")
def ticket_schedule(
    number: str,
    at: Annotated[str, typer.Argument(help="visit time, YYYY-MM-DD HH:MM in WIB")],
    operator: OperatorOpt,
    password: PasswordOpt,
    as_json: JsonOpt = False,
) -> None:
    """Schedule the technician's visit."""
    when = _wib_time(at)
    _output(_as_operator(operator, password, lambda s: s.schedule_visit(number, when, operator)), as_json)


@ticket_app.command("inspect")
def ticket_inspect(
    number: str,
    note: Annotated[str, typer.Option(help="what the technician found")],
    ok: Annotated[bool, typer.Option("--ok/--not-ok", help="installation fine after the visit")],
    operator: OperatorOpt,
    password: PasswordOpt,
    as_json: JsonOpt = False,
) -> None:
    """Record the on-site inspection (needed before clear tamper or replacement; the account
    that records it cannot approve a replacement)."""
    _output(
        _as_operator(operator, password, lambda s: s.record_inspection(number, note, installation_ok=ok,
                                                                         actor=operator)),
        as_json,
    )  # fmt: skip


@ticket_app.command("comment")
def ticket_comment(
    number: str, text: str, operator: OperatorOpt, password: PasswordOpt, as_json: JsonOpt = False
) -> None:
    """Add a note to the ticket's history."""
    _output(_as_operator(operator, password, lambda s: s.comment(number, text, operator)), as_json)


@ticket_app.command("resolve")
def ticket_resolve(
    number: str,
    resolution: Annotated[str, typer.Option(help="what fixed it")],
    operator: OperatorOpt,
    password: PasswordOpt,
    as_json: JsonOpt = False,
) -> None:
    """Mark the ticket resolved."""
    _output(_as_operator(operator, password, lambda s: s.resolve(number, resolution, operator)), as_json)


@ticket_app.command("reopen")
def ticket_reopen(
    number: str,
    reason: Annotated[str, typer.Option(help="why it is not fixed")],
    operator: OperatorOpt,
    password: PasswordOpt,
    as_json: JsonOpt = False,
) -> None:
    """Reopen a resolved ticket."""
    _output(_as_operator(operator, password, lambda s: s.reopen(number, reason, operator)), as_json)


@ticket_app.command("close")
def ticket_close(number: str, operator: OperatorOpt, password: PasswordOpt, as_json: JsonOpt = False) -> None:
    """Close a resolved ticket."""
    _output(_as_operator(operator, password, lambda s: s.close(number, operator)), as_json)


def _print_tokens(title: str, tokens: tuple[str, ...]) -> None:
    console.print(f"[bold]{title}[/bold]")
    for i, t in enumerate(tokens, 1):
        console.print(f" {i}. [green]{grouped(t)}[/green]")


@ticket_app.command("clear-tamper")
def ticket_clear_tamper(number: str, operator: OperatorOpt, password: PasswordOpt) -> None:
    """Issue the clear-tamper token (only after an inspection found the installation fine)."""
    tokens = _as_operator(operator, password, lambda s: s.clear_tamper(number, operator))
    _print_tokens("Token clear tamper / clear-tamper token", tokens)


@ticket_app.command("key-change")
def ticket_key_change(
    number: str,
    operator: OperatorOpt,
    password: PasswordOpt,
    rollover: Annotated[bool, typer.Option(help="TID rollover: move to the next base date")] = False,
) -> None:
    """Ask for key change tokens (KCT) for the ticket's meter: admins only; a second admin
    approves (prabayar approvals approve ID) and the tokens then join the ticket."""
    request = _as_operator(operator, password, lambda s: s.key_change(number, operator, rollover=rollover))
    print_pending(request, console)


@ticket_app.command("replace-meter")
def ticket_replace_meter(
    number: str,
    new_meter: Annotated[str, typer.Argument(help="the new meter's number")],
    carried_kwh: Annotated[str, typer.Option(help="credit left on the old meter, kWh (rounded down)")],
    operator: OperatorOpt,
    password: PasswordOpt,
) -> None:
    """Ask to replace the meter (new meter record, remaining credit as a token for it); an admin
    who is neither you nor the inspector approves it."""
    try:
        kwh = Decimal(carried_kwh)
    except InvalidOperation:
        raise typer.BadParameter("carried kWh is a number such as 12.5") from None
    request = _as_operator(operator, password, lambda s: s.replace_meter(number, operator, new_meter, kwh))
    console.print(
        f"meter {request.payload['old_meter_number']} -> {request.payload['new_meter_number']}, "
        f"carrying {request.payload['carried_kwh']} kWh once approved"
    )
    print_pending(request, console)


__all__ = ["VendingService", "diagnose", "ticket_app"]
