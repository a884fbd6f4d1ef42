"""Support pages: the "token gagal?" check, a customer's own tickets, the operator's ticket desk.

``GET /token-gagal`` renders the web's causes page (``customer/token_failed.html``) with the
diagnosis form and result filled into its ``diagnosis`` block.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from prabayar.digits import is_digits
from prabayar.support import Channel, TicketStatus
from prabayar.support.present import WIB
from prabayar.support.tickets import allowed_steps
from prabayar.vending import ApprovalRequest, console_queries
from prabayar.web.api.support import (
    run_diagnosis,
    support_call,
    ticket_for,
    tickets_of,
)
from prabayar.web.deps import LimiterDep, LimitsDep, ServicesDep
from prabayar.web.errors import InvalidRequest, WebError
from prabayar.web.i18n import language_of, pick
from prabayar.web.pages.guards import Csrf, PageCustomer, PageOperator, PageUser
from prabayar.web.pages.rendering import flash, flash_texts, render
from prabayar.web.security import Principal
from prabayar.web.services import Services

router = APIRouter()

TokenField = Annotated[str, Form(max_length=64)]
DisplayField = Annotated[str, Form(max_length=40)]
MeterField = Annotated[str, Form(max_length=13)]


def _meters(services: Services, user: Principal) -> list[Any]:
    return services.customer_meters(user) if user.role == "customer" else []


def _check_page(request: Request, services: Services, user: Principal,
                extra: dict[str, Any] | None = None, status: int = 200) -> Response:  # fmt: skip
    context: dict[str, Any] = {"meters": _meters(services, user), "form": {}}
    context.update(extra or {})
    return render(request, "support/token_check.html", context, status_code=status)


@router.get("/token-gagal")
def token_check_form(
    request: Request, user: PageCustomer, services: ServicesDep, meter: str = "", tampilan: str = ""
) -> Response:
    """The form; from the virtual meter it comes with the meter and what its LCD showed, and
    the digits typed there (kept in the server-side session, never in the URL)."""
    form = {"meter_number": meter[:13], "display": tampilan[:40]}
    typed = request.session.get("meter_typed")
    if meter and isinstance(typed, dict) and typed.get("meter") == meter[:13]:
        form["token"] = str(typed.get("keys", ""))
    return _check_page(request, services, user, {"form": form})


@router.post("/token-gagal")
def token_check(
    request: Request,
    _: Csrf,
    user: PageCustomer,
    services: ServicesDep,
    limiter: LimiterDep,
    limits: LimitsDep,
    meter_number: MeterField = "",
    token: TokenField = "",
    display: DisplayField = "",
) -> Response:
    form = {"meter_number": meter_number, "token": token, "display": display}
    lang = language_of(request)
    try:
        limiter.hit(f"diagnosis:{user.subject}", limits.meter_entries)
        if not is_digits(meter_number.strip()):
            raise InvalidRequest("Pilih atau isi nomor meter.", "Choose or enter a meter number.")
        diagnosis = run_diagnosis(request, services, user, meter_number.strip(), token, display)
    except WebError as exc:
        return _check_page(request, services, user,
                           {"form": form, "error": pick(lang, exc.message_id, exc.message_en)},
                           exc.status_code)  # fmt: skip
    return _check_page(request, services, user, {"form": form, "diagnosis": diagnosis})


@router.post("/token-gagal/pengaduan")
def complain_from_diagnosis(
    request: Request,
    _: Csrf,
    user: PageCustomer,
    services: ServicesDep,
    meter_number: MeterField = "",
    token: TokenField = "",
    display: DisplayField = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    contact: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    """Open a ticket with the diagnosis attached (re-run, never trusted from the form)."""
    diagnosis = run_diagnosis(request, services, user, meter_number.strip(), token, display)
    ticket = support_call(
        tickets_of(services).open,
        channel="app" if user.role == "customer" else "cc123",
        identifier=meter_number.strip(), actor=user.subject, diagnosis=diagnosis,
        description=description or f"token: {token} / display: {display}", contact=contact,
        typed=token, display=display,
    )  # fmt: skip
    flash(request, "complaint.received", number=ticket.number)
    target = "/pengaduan/tiket/" if user.role == "customer" else "/konsol/tiket/"
    return RedirectResponse(target + ticket.number, status_code=303)


@router.get("/pengaduan/tiket/{number}")
def my_ticket(request: Request, number: str, user: PageUser, services: ServicesDep) -> Response:
    ticket = ticket_for(services, user, number)
    return render(request, "support/ticket.html", {"ticket": ticket, "operator_view": False})


# --- the operator's ticket desk -----------------------------------------------------------


def _desk(request: Request, services: Services, status: str = "", overdue: int = 0,
          meter: str = "", extra: dict[str, Any] | None = None, code: int = 200,
          mine: int = 0) -> Response:  # fmt: skip
    st = status if status in {s.value for s in TicketStatus} else None
    meter_number = meter if is_digits(meter) and 11 <= len(meter) <= 13 else None
    me = str(request.session.get("user", {}).get("u", "")) or None
    tickets = tickets_of(services).list(
        status=TicketStatus(st) if st else None, overdue_only=bool(overdue),
        meter_number=meter_number, limit=200, mine=me if mine else None,
    )  # fmt: skip
    context: dict[str, Any] = {
        "tickets": tickets, "status": st or "", "overdue": bool(overdue), "meter": meter, "mine": bool(mine),
        "statuses": [s.value for s in TicketStatus], "channels": list(Channel),
        "notifications": _notifications(request, services, me),
    }  # fmt: skip
    context.update(extra or {})
    return render(request, "support/desk.html", context, status_code=code)


def _notifications(request: Request, services: Services, me: str | None) -> list[tuple[str, Any]]:
    """Status changes others made on my tickets since I last looked (the first look covers
    the last 24 hours); looking at the desk marks them seen."""
    if not me:
        return []
    now = datetime.now(UTC)
    seen = request.session.get("tickets_seen")
    try:
        since = datetime.fromisoformat(seen) if isinstance(seen, str) else now - timedelta(hours=24)
    except ValueError:
        since = now - timedelta(hours=24)
    request.session["tickets_seen"] = now.isoformat()
    return tickets_of(services).changes_for(me, since, limit=20)


@router.get("/konsol/tiket")
def desk(
    request: Request, operator: PageOperator, services: ServicesDep, status: str = "",
    overdue: int = 0, meter: str = "", mine: int = 0, q: str = "",
) -> Response:  # fmt: skip
    number = q.strip().upper()
    if number:
        try:
            ticket_for(services, operator, number)
        except WebError as exc:
            lang = language_of(request)
            return _desk(request, services, status, overdue, meter, mine=mine,
                         extra={"q": q, "q_error": pick(lang, exc.message_id, exc.message_en)})  # fmt: skip
        return RedirectResponse(f"/konsol/tiket/{number}", status_code=303)
    return _desk(request, services, status, overdue, meter, mine=mine)


@router.post("/konsol/tiket/cek")
def desk_diagnose(
    request: Request,
    _: Csrf,
    operator: PageOperator,
    services: ServicesDep,
    limiter: LimiterDep,
    limits: LimitsDep,
    meter_number: MeterField = "",
    token: TokenField = "",
    display: DisplayField = "",
) -> Response:
    """An agent on the phone checks the customer's digits without opening a ticket."""
    check = {"meter_number": meter_number, "token": token, "display": display}
    try:
        limiter.hit(f"diagnosis:{operator.subject}", limits.operator_tokens)
        if not is_digits(meter_number.strip()):
            raise InvalidRequest("Isi nomor meter atau IDPEL.", "Enter a meter number or IDPEL.")
        diagnosis = run_diagnosis(request, services, operator, meter_number.strip(), token, display)
    except WebError as exc:
        lang = language_of(request)
        return _desk(request, services, extra={
            "check": check, "check_error": pick(lang, exc.message_id, exc.message_en)},
            code=exc.status_code)  # fmt: skip
    return _desk(request, services, extra={"check": check, "diagnosis": diagnosis})


@router.post("/konsol/tiket")
def desk_open(
    request: Request,
    _: Csrf,
    operator: PageOperator,
    services: ServicesDep,
    meter_number: MeterField = "",
    channel: Annotated[str, Form(max_length=16)] = "cc123",
    token: TokenField = "",
    display: DisplayField = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    contact: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    """A ticket taken by an agent (123, social media, WhatsApp), diagnosed on the spot."""
    try:
        if not is_digits(meter_number.strip()):
            raise InvalidRequest("Isi nomor meter atau IDPEL.", "Enter a meter number or IDPEL.")
        diagnosis = run_diagnosis(request, services, operator, meter_number.strip(), token, display)
        ticket = support_call(
            tickets_of(services).open, channel=channel, identifier=meter_number.strip(),
            actor=operator.subject, diagnosis=diagnosis, description=description, contact=contact,
            typed=token, display=display,
        )  # fmt: skip
    except WebError as exc:
        flash_texts(request, exc.message_id, exc.message_en)
        return RedirectResponse("/konsol/tiket", status_code=303)
    flash(request, "desk.ticket_opened", number=ticket.number)
    return RedirectResponse(f"/konsol/tiket/{ticket.number}", status_code=303)


@router.get("/konsol/tiket/{number}")
def desk_ticket(request: Request, number: str, operator: PageOperator, services: ServicesDep) -> Response:
    ticket = ticket_for(services, operator, number)
    contact = console_queries.customer_contact(services.vending.engine, ticket.idpel)
    return render(request, "support/ticket.html", {"ticket": ticket, "operator_view": True, "customer": contact})


ACTIONS = ("assign", "visit", "inspect", "comment", "resolve", "reopen", "close",
           "clear_tamper", "key_change", "replace_meter")  # fmt: skip


@router.post("/konsol/tiket/{number}/{action}")
def desk_action(
    request: Request,
    number: str,
    action: str,
    _: Csrf,
    operator: PageOperator,
    services: ServicesDep,
    text: Annotated[str, Form(max_length=2000)] = "",
    technician: Annotated[str, Form(max_length=64)] = "",
    visit_at: Annotated[str, Form(max_length=32)] = "",
    installation_ok: Annotated[str, Form(max_length=3)] = "",
    new_meter_number: MeterField = "",
    carried_kwh: Annotated[str, Form(max_length=12)] = "",
    rollover: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    tickets = tickets_of(services)
    me = operator.subject
    issued: tuple[str, ...] = ()
    pending: ApprovalRequest | None = None
    try:
        if action not in ACTIONS:
            raise InvalidRequest("Langkah tidak dikenal.", "Unknown step.")
        current = support_call(tickets.get, number)
        if action not in allowed_steps(current, status_only=True):
            raise InvalidRequest(
                f"Langkah ini tidak tersedia untuk tiket berstatus {current.status.value}.",
                f"This step is not available on a ticket that is {current.status.value}.",
            )
        if action == "assign":
            support_call(tickets.assign, number, technician, me)
        elif action == "visit":
            support_call(tickets.schedule_visit, number, _visit_time(visit_at), me)
        elif action == "inspect":
            support_call(tickets.record_inspection, number, text,
                         installation_ok=installation_ok == "yes", actor=me)  # fmt: skip
        elif action == "comment":
            support_call(tickets.comment, number, text, me)
        elif action == "resolve":
            support_call(tickets.resolve, number, text, me)
        elif action == "reopen":
            support_call(tickets.reopen, number, text, me)
        elif action == "close":
            support_call(tickets.close, number, me)
        elif action == "clear_tamper":
            issued = support_call(lambda: services.call(tickets.clear_tamper, number, me))
        elif action == "key_change":
            pending = support_call(lambda: services.call(tickets.key_change, number, me, rollover=rollover == "yes"))
        else:
            pending = support_call(lambda: services.call(tickets.replace_meter, number, me,
                                                         new_meter_number.strip(), _kwh(carried_kwh)))  # fmt: skip
    except WebError as exc:
        flash_texts(request, exc.message_id, exc.message_en)
        return RedirectResponse(f"/konsol/tiket/{number}", status_code=303)
    if issued:
        listed = " | ".join(" ".join(t[i : i + 4] for i in range(0, 20, 4)) for t in issued)
        flash(request, "desk.tokens_issued", tokens=listed)
    if pending is not None:
        flash(request, "approvals.pending_notice", what=pending.label, id=str(pending.id))
    return RedirectResponse(f"/konsol/tiket/{number}", status_code=303)


def _visit_time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidRequest("Waktu kunjungan tidak valid.", "Invalid visit time.") from None
    return when.replace(tzinfo=WIB) if when.tzinfo is None else when


def _kwh(text: str) -> Decimal:
    try:
        value = Decimal(text.strip() or "0")
    except InvalidOperation:
        raise InvalidRequest("Sisa kWh tidak valid.", "Invalid remaining kWh.") from None
    if not value.is_finite() or value < 0 or value > 99999:
        raise InvalidRequest("Sisa kWh tidak valid.", "Invalid remaining kWh.")
    return value
