"""A customer's own complaint tickets: reply, confirm the fix, reopen (support's
:mod:`prabayar.support.customer_tickets`); the ticket page shows these forms for the steps the
ticket's state allows (``customer_steps`` is a template global)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from prabayar.support.customer_tickets import CustomerTickets, customer_steps
from prabayar.web.api.support import support_call, tickets_of
from prabayar.web.deps import LimiterDep, LimitsDep, ServicesDep
from prabayar.web.pages.guards import Csrf, PageCustomer
from prabayar.web.pages.rendering import flash, templates
from prabayar.web.security import Principal
from prabayar.web.services import Services

router = APIRouter(prefix="/pengaduan/tiket")
templates.env.globals["customer_steps"] = customer_steps

Words = Annotated[str, Form(max_length=2000)]


def _step(
    request: Request, services: Services, customer: Principal, number: str, action: Callable[..., Any], *args: Any
) -> Response:
    idpels = services.call(services.vending.account_idpels, customer.subject)
    support_call(action, number, idpels, customer.subject, *args)
    return RedirectResponse(f"/pengaduan/tiket/{number}", status_code=303)


def _customer_tickets(services: Services) -> CustomerTickets:
    return CustomerTickets(tickets_of(services))


@router.post("/{number}/balas")
def reply(request: Request, number: str, _: Csrf, customer: PageCustomer, services: ServicesDep,
          limiter: LimiterDep, limits: LimitsDep, text: Words = "") -> Response:  # fmt: skip
    limiter.hit(f"ticket-reply:{customer.subject}", limits.meter_entries)
    response = _step(request, services, customer, number, _customer_tickets(services).reply, text)
    flash(request, "mytickets.replied")
    return response


@router.post("/{number}/konfirmasi")
def confirm(request: Request, number: str, _: Csrf, customer: PageCustomer, services: ServicesDep) -> Response:
    response = _step(request, services, customer, number, _customer_tickets(services).confirm)
    flash(request, "mytickets.confirmed")
    return response


@router.post("/{number}/buka-kembali")
def reopen(request: Request, number: str, _: Csrf, customer: PageCustomer, services: ServicesDep,
           reason: Words = "") -> Response:  # fmt: skip
    response = _step(request, services, customer, number, _customer_tickets(services).reopen, reason)
    flash(request, "mytickets.reopened")
    return response
