"""The operator console: search by meter number or IDPEL, a customer's purchases, management
tokens with a reason, the audit log."""

from __future__ import annotations

import contextlib
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from prabayar.digits import is_digits, parse_digits
from prabayar.vending import ApprovalRequest
from prabayar.web.deps import LimiterDep, LimitsDep, ServicesDep
from prabayar.web.errors import Forbidden, InvalidRequest, WebError
from prabayar.web.i18n import language_of, pick
from prabayar.web.pages.guards import Csrf, PageOperator
from prabayar.web.pages.rendering import render
from prabayar.web.services import Services

router = APIRouter(prefix="/konsol")

MANAGEMENT_KINDS = ("clear_tamper", "clear_credit", "set_power_limit", "key_change")
_DIGITS = re.compile(r"[0-9]{11,13}")  # fullmatch, never "$"


def _customer_view(services: Services, identifier: str) -> dict[str, Any]:
    meters = services.lookup_customer(identifier)
    purchases = services.call(services.vending.reprint, meters[0].idpel, limit=30)
    return {"customer": meters[0], "meters": meters, "purchases": purchases}


@router.get("")
def console(request: Request, operator: PageOperator, services: ServicesDep, q: str = "") -> Response:
    query = re.sub(r"[\s-]", "", q)
    context: dict[str, Any] = {"q": q, "kinds": MANAGEMENT_KINDS}
    if query:
        lang = language_of(request)
        if not _DIGITS.fullmatch(query):
            context["error"] = pick(
                lang,
                "Masukkan 11 digit nomor meter atau 12 digit IDPEL.",
                "Enter an 11-digit meter number or a 12-digit IDPEL.",
            )
        else:
            try:
                context.update(_customer_view(services, query))
            except WebError as exc:
                context["error"] = pick(lang, exc.message_id, exc.message_en)
                context["code"] = exc.response_code
    return render(request, "operator/console.html", context)


@router.post("/token-manajemen")
def management_token(
    request: Request,
    _: Csrf,
    operator: PageOperator,
    services: ServicesDep,
    limiter: LimiterDep,
    limits: LimitsDep,
    meter_number: Annotated[str, Form(pattern=r"^[0-9]{11,13}$")],
    kind: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=500)] = "",
    watts: Annotated[str, Form(max_length=9)] = "",
    rollover: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    lang = language_of(request)
    context: dict[str, Any] = {"q": meter_number, "kinds": MANAGEMENT_KINDS}
    try:
        if kind not in MANAGEMENT_KINDS:
            raise WebError(
                "Jenis token tidak dikenal.", "Unknown management token kind.", status_code=422, slug="invalid_request"
            )
        if kind == "key_change" and operator.role != "admin":
            raise Forbidden("Penggantian kunci (KCT) hanya oleh admin.", "Key change tokens are for admins only.")
        limiter.hit(f"operator:{operator.subject}", limits.operator_tokens)
        if kind == "set_power_limit" and watts.strip() and not is_digits(watts.strip()):
            raise InvalidRequest(
                "Batas daya harus berupa angka watt, mis. 1300.",
                "The power limit is a whole number of watts, e.g. 1300.",
            )
        watt_value = parse_digits(watts.strip())
        result = services.issue_management_token(
            operator.subject, meter_number, kind, reason.strip(), watts=watt_value, rollover=rollover == "yes"
        )
        if isinstance(result, ApprovalRequest):
            context["pending"] = result  # four eyes: recorded, waits for another admin
        else:
            context["issued"] = result
        status = 200
    except WebError as exc:
        context["error"] = pick(lang, exc.message_id, exc.message_en)
        context["code"] = exc.response_code
        context["form"] = {"kind": kind, "reason": reason, "watts": watts, "rollover": rollover == "yes"}
        status = exc.status_code
    with contextlib.suppress(WebError):
        context.update(_customer_view(services, meter_number))
    return render(request, "operator/console.html", context, status_code=status)


@router.get("/audit")
def audit(request: Request, operator: PageOperator, services: ServicesDep, meter: str = "") -> Response:
    meter_number = meter if _DIGITS.fullmatch(meter) else None
    entries = services.call(services.vending.audit_log, meter_number=meter_number, limit=200)
    return render(request, "operator/audit.html", {"entries": entries, "meter": meter})
