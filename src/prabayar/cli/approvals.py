"""``prabayar approvals list|show|approve|reject``: the checker's side of four eyes.

Approve and reject ask for the admin's password (or ``PRABAYAR_OPERATOR_PASSWORD``), as
``prabayar ops`` does; vending refuses the maker, non-admins and, for a replacement, the
account that recorded the inspection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from prabayar.vending import ApprovalRequest, NotAuthorized, VendingService
from prabayar.vending.receipt import group_token

T = TypeVar("T")

approvals_app = typer.Typer(no_args_is_help=True, help="Four eyes: list, approve or reject pending requests.")

AdminOpt = Annotated[str, typer.Option("--admin", "-o", help="the deciding admin's username")]
PasswordOpt = Annotated[
    str,
    typer.Option(prompt=True, hide_input=True, envvar="PRABAYAR_OPERATOR_PASSWORD", help="the admin's password"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def print_pending(request: ApprovalRequest, console: Console | None = None) -> None:
    """What a maker sees: the request waits for another admin, with its id."""
    label_id, label_en = request.label
    out = console or Console()
    out.print(f"[yellow]pending approval, id {request.id}[/yellow] — {label_en}: an admin other than "
              f"{request.maker} approves it with: prabayar approvals approve {request.id}")  # fmt: skip
    out.print(f"menunggu persetujuan, id {request.id} — {label_id}", soft_wrap=True)


def print_decision(request: ApprovalRequest, console: Console | None = None) -> None:
    out = console or Console()
    out.print(f"id {request.id} ({request.kind}): [bold]{request.status.value}[/bold] by {request.checker}")
    for i, token in enumerate(request.tokens, 1):
        out.print(f"  {i}. [bold green]{group_token(token)}[/bold green]")


def _run(action: Callable[[VendingService], T]) -> T:
    from prabayar.cli.vending import _run as run_vending

    return run_vending(action)


def _as_admin(admin: str, password: str, action: Callable[[VendingService], T]) -> T:
    def run(service: VendingService) -> T:
        who = service.authenticate_user(admin, password)
        if who.role != "admin":
            raise NotAuthorized(admin, "decide approval requests (admin only)")
        return action(service)

    return _run(run)


def _json(requests: list[ApprovalRequest]) -> str:
    return json.dumps([r.as_dict() | {"tokens": list(r.tokens)} for r in requests], default=str, indent=2)


@approvals_app.command("list")
def approvals_list(
    status: Annotated[str, typer.Option(help="pending, approved, rejected, failed or all")] = "pending",
    limit: int = 50,
    as_json: JsonOpt = False,
) -> None:
    """Requests waiting for a checker (oldest first), or decided ones (newest first)."""
    if status not in ("pending", "approved", "rejected", "failed", "all"):
        raise typer.BadParameter("status is pending, approved, rejected, failed or all")

    def fetch(s: VendingService) -> list[ApprovalRequest]:
        if status == "pending":
            return s.pending_approvals(limit=limit)
        return s.approvals(status=None if status == "all" else status, limit=limit)

    found = _run(fetch)
    if as_json:
        print(_json(found))
        return
    if not found:
        Console().print("nothing is waiting for approval" if status == "pending" else "no requests")
        return
    table = Table("id", "created (UTC)", "kind", "meter", "detail", "maker", "reason", "status", "checker")
    for r in found:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(r.payload.items()) if k != "meter_number")
        table.add_row(
            str(r.id), r.created_at.strftime("%Y-%m-%d %H:%M"), r.kind, r.meter_number or "", detail,
            f"{r.maker} ({r.maker_role})", r.reason, r.status.value, r.checker or "",
        )  # fmt: skip
    Console().print(table)


@approvals_app.command("show")
def approvals_show(approval_id: int, as_json: JsonOpt = False) -> None:
    """One request with its decision and result."""
    found = _run(lambda s: s.approval(approval_id))
    if as_json:
        print(_json([found]))
        return
    data: dict[str, Any] = found.as_dict()
    for key in ("id", "kind", "status", "meter_number", "maker", "maker_role", "reason", "created_at",
                "checker", "decided_at", "decision_reason"):  # fmt: skip
        Console().print(f"{key:<16}: {data[key] if data[key] is not None else ''}")
    Console().print(f"{'payload':<16}: {json.dumps(found.payload, sort_keys=True)}")
    print_decision(found)


@approvals_app.command("approve")
def approvals_approve(
    approval_id: int,
    admin: AdminOpt,
    password: PasswordOpt,
    reason: Annotated[str, typer.Option("--reason", "-r", help="why (kept in the audit log)")] = "",
) -> None:
    """Approve a request (an admin other than the maker): the action runs now."""
    done = _as_admin(admin, password, lambda s: s.approve(approval_id, admin, reason=reason))
    print_decision(done)


@approvals_app.command("reject")
def approvals_reject(
    approval_id: int,
    admin: AdminOpt,
    password: PasswordOpt,
    reason: Annotated[str, typer.Option("--reason", "-r", help="why (required, kept in the audit log)")],
) -> None:
    """Reject a request (an admin other than the maker, with a reason): nothing runs."""
    done = _as_admin(admin, password, lambda s: s.reject(approval_id, admin, reason))
    print_decision(done)
