"""The virtual meter page: an LCD and a keypad driving the real emulator, state kept server-side."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from prabayar.meter import ResultKind
from prabayar.web.deps import LimiterDep, LimitsDep, ServicesDep
from prabayar.web.errors import NotFound
from prabayar.web.i18n import language_of
from prabayar.web.pages.guards import Csrf, PageUser
from prabayar.web.pages.rendering import render
from prabayar.web.security import Principal
from prabayar.web.services import Services
from prabayar.web.virtual_meters import VirtualMeters, result_document

router = APIRouter(prefix="/meter")

TYPED_KEY = "meter_typed"  # session: the digits of the last refused entry, per meter
_METER_NUMBER = re.compile(r"[0-9]{11,13}")  # used with fullmatch: "$" would accept a newline


def _allowed(services: Services, user: Principal, meter_number: str) -> None:
    """A customer opens only their own meters; operators and admins any meter."""
    if not _METER_NUMBER.fullmatch(meter_number):
        raise NotFound()
    if user.role == "customer" and not services.owns_meter(user, meter_number):
        raise NotFound("Meter tidak ditemukan di akun Anda.", "This meter is not in your account.")


def _meters(request: Request) -> VirtualMeters:
    meters: VirtualMeters = request.app.state.virtual_meters
    return meters


@router.get("/{meter_number}")
def virtual_meter(request: Request, meter_number: str, user: PageUser, services: ServicesDep) -> Response:
    _allowed(services, user, meter_number)
    last = request.session.pop("meter_result", None)
    if not isinstance(last, dict) or last.get("meter") != meter_number:
        last = None
    with _meters(request).open(meter_number, user.subject) as meter:
        view = _meters(request).view(meter, language_of(request), last)
    return render(request, "meter/virtual.html", {"view": view, "last": last})


@router.post("/{meter_number}/tombol")
def key_in(
    request: Request,
    meter_number: str,
    _: Csrf,
    user: PageUser,
    services: ServicesDep,
    limiter: LimiterDep,
    limits: LimitsDep,
    keys: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    _allowed(services, user, meter_number)
    limiter.hit(f"meter:{user.subject}", limits.meter_entries)
    with _meters(request).open(meter_number, user.subject) as meter:
        result = meter.key_in(keys)
        if result.kind is ResultKind.KEY_CHANGED:
            _meters(request).after_key_change(meter, user.subject)
    document = result_document(result)
    document["meter"] = meter_number
    request.session["meter_result"] = document
    if document["rejected"]:
        # What the customer typed goes with them to "Token gagal?" through the server-side
        # session only: never in a URL (access logs) nor in the page until they ask for it.
        request.session[TYPED_KEY] = {"meter": meter_number, "keys": re.sub(r"[^0-9]", "", keys)[:40]}
    else:
        request.session.pop(TYPED_KEY, None)
    return RedirectResponse(f"/meter/{meter_number}", status_code=303)
