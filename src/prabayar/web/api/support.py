"""Support API: "why did my token fail?" and complaint tickets (prabayar.support).

Customers diagnose and complain about their own meters only; operators see every ticket and
perform the steps that close one. Routes hold no rules: they call ``prabayar.support``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from prabayar.support import (
    DiagnosisEngine,
    DiagnosisRequest,
    InspectionRequired,
    MeterNotFound,
    SupportError,
    Ticket,
    TicketNotFound,
    TicketService,
    TicketStatus,
    TicketTransitionError,
    VendingSources,
)
from prabayar.support.dashboard import LoggedDiagnosisEngine
from prabayar.support.result import Diagnosis
from prabayar.support.setup import meter_state_reader
from prabayar.web.api.approvals import PENDING_RESPONSE, ApprovalOut
from prabayar.web.api.schemas import Identifier, error_responses
from prabayar.web.deps import (
    ApiPrincipal,
    CurrentAdmin,
    CurrentOperator,
    LimiterDep,
    LimitsDep,
    ServicesDep,
)
from prabayar.web.errors import Forbidden, InvalidRequest, NotFound, WebError
from prabayar.web.security import Principal
from prabayar.web.services import Services

router = APIRouter(prefix="/support", tags=["support"])
T = TypeVar("T")
_ERRORS = error_responses(401, 403, 404, 409, 422, 429, 503)
TicketNumber = Path(pattern=r"^PGD-[0-9]{8}-[0-9]{6}$", description="ticket number")


class Conflict(WebError):
    status_code = 409
    slug = "ticket_conflict"


# --- glue shared with the support pages ---------------------------------------------------


def support_call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a support use case; its typed errors become the web's error model."""
    try:
        return fn(*args, **kwargs)
    except (MeterNotFound, TicketNotFound) as exc:
        raise NotFound(exc.message.id, exc.message.en) from exc
    except (TicketTransitionError, InspectionRequired) as exc:
        raise Conflict(exc.message.id, exc.message.en) from exc
    except SupportError as exc:
        raise InvalidRequest(exc.message.id, exc.message.en) from exc


def diagnosis_engine(request: Request, services: Services, actor: str) -> DiagnosisEngine:
    settings = request.app.state.settings
    sources = VendingSources(services.vending, meter_state_reader(settings), actor=actor)
    # logged (cause, unit, time) for the utility's dashboard (prabayar.support.dashboard)
    return LoggedDiagnosisEngine(sources, log_engine=services.vending.engine, source="web")


def tickets_of(services: Services) -> TicketService:
    return TicketService(services.vending)


def check_own_meter(services: Services, user: Principal, identifier: str) -> None:
    """Customers only ever look at their own meters (by meter number or their IDPEL)."""
    if user.role in ("operator", "admin"):
        return
    if user.role != "customer":
        raise Forbidden()
    if identifier == user.customer_id or services.owns_meter(user, identifier):
        return
    raise NotFound("Meter tidak ditemukan di akun Anda.", "This meter is not in your account.")


def run_diagnosis(
    request: Request,
    services: Services,
    user: Principal,
    identifier: str,
    token: str | None,
    display: str | None,
) -> Diagnosis:
    check_own_meter(services, user, identifier)
    engine = diagnosis_engine(request, services, user.subject)
    req = DiagnosisRequest(identifier, token or None, display)
    return support_call(lambda: services.call(engine.diagnose, req))


def ticket_for(services: Services, user: Principal, number: str) -> Ticket:
    if user.role not in ("customer", "operator", "admin"):
        raise Forbidden()  # before the lookup: a channel learns nothing about tickets
    ticket = support_call(tickets_of(services).get, number)
    if user.role == "customer" and ticket.idpel != user.customer_id and (
        ticket.idpel not in services.call(services.vending.account_idpels, user.subject)
    ):  # the login's own customer, or one it added (verified) to its account
        raise NotFound("Tiket tidak ditemukan.", "No such ticket.")
    return ticket


# --- documents ----------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DiagnosisIn(_In):
    identifier: Identifier
    token: str | None = Field(default=None, max_length=64, description="the digits as typed (spaces/hyphens allowed)")
    display: str | None = Field(default=None, max_length=40, description="what the meter showed")


class TextOut(BaseModel):
    id: str
    en: str


class StepOut(BaseModel):
    action: str
    text: TextOut
    tokens: list[str]


class CandidateOut(BaseModel):
    token: str
    typo: str
    positions: list[int]
    description: str
    in_ledger: bool


class EvidenceOut(BaseModel):
    source: str
    fact: str


class DiagnosisOut(BaseModel):
    cause: str = Field(examples=["typo"])
    confidence: str = Field(examples=["certain"])
    explanation: TextOut
    next_steps: list[StepOut]
    ticket_needed: bool
    evidence: list[EvidenceOut]
    candidates: list[CandidateOut]
    meter_number: str | None
    other_findings: list[TextOut]


class TicketIn(_In):
    identifier: Identifier
    channel: str = Field(default="app", pattern=r"^(cc123|app|x|facebook|instagram|whatsapp)$")
    category: str | None = Field(default=None, max_length=32)
    description: str = Field(default="", max_length=2000)
    contact: str = Field(default="", max_length=120)
    token: str | None = Field(default=None, max_length=64, description="typed digits to diagnose")
    display: str | None = Field(default=None, max_length=40)


class EventOut(BaseModel):
    at: str | None
    actor: str
    kind: str
    status: str
    detail: str


class TicketOut(BaseModel):
    number: str
    channel: str
    channel_label: str
    category: str
    meter_number: str
    idpel: str
    contact: str
    description: str
    diagnosis: dict[str, Any] | None
    status: str
    technician: str | None
    visit_at: str | None
    inspection_note: str | None
    inspected_at: str | None
    installation_ok: bool | None
    resolution: str | None
    issued_tokens: list[str]
    replacement_meter: str | None
    created_at: str | None
    response_due: str | None
    resolution_due: str | None
    response_overdue: bool
    resolution_overdue: bool
    overdue: bool
    events: list[EventOut]

    @classmethod
    def of(cls, t: Ticket) -> TicketOut:
        return cls.model_validate(t.as_dict())


class TicketListOut(BaseModel):
    tickets: list[TicketOut]


class AssignIn(_In):
    technician: str = Field(min_length=1, max_length=64)


class VisitIn(_In):
    at: datetime = Field(description="visit time with a UTC offset, e.g. 2026-11-27T09:00+07:00")


class InspectionIn(_In):
    note: str = Field(min_length=1, max_length=2000)
    installation_ok: bool


class TextIn(_In):
    text: str = Field(min_length=1, max_length=2000)


class KeyChangeIn(_In):
    rollover: bool = False


class ReplaceIn(_In):
    new_meter_number: Identifier
    carried_kwh: Decimal = Field(ge=0, le=99999, decimal_places=2)


class TokensOut(BaseModel):
    tokens: list[str]
    ticket: TicketOut


# --- routes -------------------------------------------------------------------------------


@router.post("/diagnosis", response_model=DiagnosisOut, responses=_ERRORS,
             summary="Why did this token fail? Cause, evidence and next steps")  # fmt: skip
def diagnose(
    request: Request,
    body: DiagnosisIn,
    user: ApiPrincipal,
    services: ServicesDep,
    limiter: LimiterDep,
    limits: LimitsDep,
) -> DiagnosisOut:
    limiter.hit(f"diagnosis:{user.subject}", limits.meter_entries)
    d = run_diagnosis(request, services, user, body.identifier, body.token, body.display)
    return DiagnosisOut.model_validate(d.as_dict())


@router.get("/tickets", response_model=TicketListOut, responses=_ERRORS,
            summary="Tickets: a customer's own, or all for an operator")  # fmt: skip
def list_tickets(
    user: ApiPrincipal,
    services: ServicesDep,
    status: Annotated[TicketStatus | None, Query()] = None,
    overdue: Annotated[bool, Query(description="only tickets past an SLA")] = False,
    meter_number: Annotated[str | None, Query(pattern=r"^[0-9]{11,13}$")] = None,
) -> TicketListOut:
    tickets = tickets_of(services)
    if user.role == "customer":
        if not user.customer_id:
            return TicketListOut(tickets=[])
        found = tickets.list(idpel=user.customer_id, status=status, overdue_only=overdue,
                             meter_number=meter_number)  # fmt: skip
    elif user.role in ("operator", "admin"):
        found = tickets.list(status=status, overdue_only=overdue, meter_number=meter_number)
    else:
        raise Forbidden()
    return TicketListOut(tickets=[TicketOut.of(t) for t in found])


@router.post("/tickets", response_model=TicketOut, status_code=201, responses=_ERRORS,
             summary="Open a complaint ticket (the diagnosis is attached)")  # fmt: skip
def open_ticket(
    request: Request,
    body: TicketIn,
    user: ApiPrincipal,
    services: ServicesDep,
    limiter: LimiterDep,
    limits: LimitsDep,
) -> TicketOut:
    limiter.hit(f"tickets:{user.subject}", limits.customer_tokens)
    channel = body.channel
    if user.role == "customer":
        channel = "app"  # a customer writes through the app
    d = run_diagnosis(request, services, user, body.identifier, body.token, body.display)
    ticket = support_call(
        tickets_of(services).open, channel=channel, identifier=body.identifier,
        actor=user.subject, category=body.category, description=body.description,
        contact=body.contact, diagnosis=d,
    )  # fmt: skip
    return TicketOut.of(ticket)


@router.get("/tickets/{number}", response_model=TicketOut, responses=_ERRORS,
            summary="One ticket with its history")  # fmt: skip
def get_ticket(user: ApiPrincipal, services: ServicesDep, number: str = TicketNumber) -> TicketOut:
    return TicketOut.of(ticket_for(services, user, number))


def _step(services: Services, call: Callable[[TicketService], Ticket]) -> TicketOut:
    return TicketOut.of(support_call(call, tickets_of(services)))


@router.post("/tickets/{number}/assign", response_model=TicketOut, responses=_ERRORS,
             summary="Assign a technician")  # fmt: skip
def assign(body: AssignIn, operator: CurrentOperator, services: ServicesDep,
           number: str = TicketNumber) -> TicketOut:  # fmt: skip
    return _step(services, lambda s: s.assign(number, body.technician, operator.subject))


@router.post("/tickets/{number}/visit", response_model=TicketOut, responses=_ERRORS,
             summary="Schedule the technician's visit")  # fmt: skip
def schedule(body: VisitIn, operator: CurrentOperator, services: ServicesDep,
             number: str = TicketNumber) -> TicketOut:  # fmt: skip
    return _step(services, lambda s: s.schedule_visit(number, body.at, operator.subject))


@router.post("/tickets/{number}/inspection", response_model=TicketOut, responses=_ERRORS,
             summary="Record the on-site inspection")  # fmt: skip
def inspection(body: InspectionIn, operator: CurrentOperator, services: ServicesDep,
               number: str = TicketNumber) -> TicketOut:  # fmt: skip
    return _step(services, lambda s: s.record_inspection(
        number, body.note, installation_ok=body.installation_ok, actor=operator.subject))  # fmt: skip


@router.post("/tickets/{number}/comment", response_model=TicketOut, responses=_ERRORS,
             summary="Add a note to the history")  # fmt: skip
def comment(body: TextIn, operator: CurrentOperator, services: ServicesDep,
            number: str = TicketNumber) -> TicketOut:  # fmt: skip
    return _step(services, lambda s: s.comment(number, body.text, operator.subject))


@router.post("/tickets/{number}/resolve", response_model=TicketOut, responses=_ERRORS,
             summary="Mark resolved")  # fmt: skip
def resolve(body: TextIn, operator: CurrentOperator, services: ServicesDep,
            number: str = TicketNumber) -> TicketOut:  # fmt: skip
    return _step(services, lambda s: s.resolve(number, body.text, operator.subject))


@router.post("/tickets/{number}/reopen", response_model=TicketOut, responses=_ERRORS,
             summary="Reopen a resolved ticket")  # fmt: skip
def reopen(body: TextIn, operator: CurrentOperator, services: ServicesDep,
           number: str = TicketNumber) -> TicketOut:  # fmt: skip
    return _step(services, lambda s: s.reopen(number, body.text, operator.subject))


@router.post("/tickets/{number}/close", response_model=TicketOut, responses=_ERRORS,
             summary="Close a resolved ticket")  # fmt: skip
def close(operator: CurrentOperator, services: ServicesDep,
          number: str = TicketNumber) -> TicketOut:  # fmt: skip
    return _step(services, lambda s: s.close(number, operator.subject))


def _tokens(services: Services, number: str, call: Callable[[TicketService], object]) -> TokensOut:
    tickets = tickets_of(services)
    issued = support_call(services.call, call, tickets)
    tokens = list(getattr(issued, "tokens", issued)) if not isinstance(issued, str) else [issued]
    return TokensOut(tokens=[t for t in tokens if t], ticket=TicketOut.of(tickets.get(number)))


@router.post("/tickets/{number}/clear-tamper", response_model=TokensOut, responses=_ERRORS,
             summary="Issue the clear-tamper token (after a recorded inspection)")  # fmt: skip
def clear_tamper(operator: CurrentOperator, services: ServicesDep,
                 number: str = TicketNumber) -> TokensOut:  # fmt: skip
    return _tokens(services, number, lambda s: s.clear_tamper(number, operator.subject))


@router.post("/tickets/{number}/key-change", status_code=202, response_model=ApprovalOut,
             responses={**_ERRORS, **PENDING_RESPONSE},
             summary="Ask for key change tokens (KCT): admins only; a second admin approves")  # fmt: skip
def key_change(body: KeyChangeIn, admin: CurrentAdmin, services: ServicesDep,
               number: str = TicketNumber) -> ApprovalOut:  # fmt: skip
    # vending refuses a non-admin too (AdminRequired); the face says so before any lookup
    tickets = tickets_of(services)
    request = support_call(services.call, tickets.key_change, number, admin.subject, rollover=body.rollover)
    return ApprovalOut.of(request)


@router.post("/tickets/{number}/replace-meter", status_code=202, response_model=ApprovalOut,
             responses={**_ERRORS, **PENDING_RESPONSE},
             summary="Ask to replace the meter (remaining credit as a token for the new one); "
                     "an admin who is neither the maker nor the inspector approves")  # fmt: skip
def replace(body: ReplaceIn, operator: CurrentOperator, services: ServicesDep,
            number: str = TicketNumber) -> ApprovalOut:  # fmt: skip
    tickets = tickets_of(services)
    request = support_call(
        services.call, tickets.replace_meter, number, operator.subject, body.new_meter_number, body.carried_kwh
    )
    return ApprovalOut.of(request)
