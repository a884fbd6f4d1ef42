"""The operator console: search by meter number, IDPEL, name, address, phone or ticket number;
a customer's status, contact, purchases and past management tokens; management tokens with a
reason and a confirm step; the audit log in words with filters, paging and a CSV export."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from prabayar.digits import is_digits, parse_digits
from prabayar.support.present import WIB
from prabayar.vending import ApprovalRequest, console_queries
from prabayar.vending.errors import ReasonRequired
from prabayar.web import audit_words
from prabayar.web.deps import LimiterDep, LimitsDep, ServicesDep
from prabayar.web.errors import Forbidden, InvalidRequest, WebError
from prabayar.web.i18n import language_of, pick, translate
from prabayar.web.pages.guards import Csrf, PageOperator
from prabayar.web.pages.rendering import render
from prabayar.web.services import Services, web_error_from

router = APIRouter(prefix="/konsol")

MANAGEMENT_KINDS = ("clear_tamper", "clear_credit", "set_power_limit", "key_change")
_DIGITS = re.compile(r"[0-9]{11,13}")  # fullmatch, never "$"
_TICKET = re.compile(r"PGD-[0-9]{8}-[0-9]{6}")
AUDIT_PAGE = 50


def _customer_view(services: Services, identifier: str) -> dict[str, Any]:
    meters = services.lookup_customer(identifier)
    purchases = services.call(services.vending.reprint, meters[0].idpel, limit=30)
    engine = services.vending.engine
    contact = console_queries.customer_contact(engine, meters[0].idpel)
    past = console_queries.past_management_tokens(engine, [m.meter_number for m in meters])
    return {"customer": meters[0], "meters": meters, "purchases": purchases, "contact": contact, "past_tokens": past}


@router.get("")
def console(request: Request, operator: PageOperator, services: ServicesDep, q: str = "") -> Response:
    query = re.sub(r"[\s-]", "", q)
    context: dict[str, Any] = {"q": q, "kinds": MANAGEMENT_KINDS}
    if query:
        lang = language_of(request)
        ticket = q.strip().upper()
        if _TICKET.fullmatch(ticket):
            return RedirectResponse(f"/konsol/tiket/{ticket}", status_code=303)
        if _DIGITS.fullmatch(query):
            try:
                context.update(_customer_view(services, query))
            except WebError as exc:
                context["error"] = pick(lang, exc.message_id, exc.message_en)
                context["code"] = exc.response_code
            return render(request, "operator/console.html", context)
        hits = console_queries.search_customers(services.vending.engine, q.strip()[:80])
        if len(hits) == 1:
            with contextlib.suppress(WebError):
                context.update(_customer_view(services, hits[0].idpel))
        elif hits:
            context["hits"] = hits
        if "customer" not in context and not hits:
            context["error"] = translate("console.no_match", lang)
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
    confirm: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Checks the request, then asks to confirm (kind, meter, reason in words); only the
    confirmed form (``confirm=yes``) issues the token or files the approval request."""
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
        if not reason.strip():
            raise web_error_from(ReasonRequired())
        if kind == "set_power_limit" and watt_value is None:
            raise InvalidRequest("Batas daya (watt) wajib diisi.", "The power limit in watts is required.")
        if confirm != "yes":
            context["confirm"] = {"meter_number": meter_number, "kind": kind, "reason": reason.strip(),
                                  "watts": watts.strip(), "rollover": rollover == "yes"}  # fmt: skip
            with contextlib.suppress(WebError):
                context.update(_customer_view(services, meter_number))
            return render(request, "operator/console.html", context)
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


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _audit_filters(meter: str, actor: str, action: str, since: str, until: str) -> dict[str, Any]:
    """The filters as the query understands them (days are WIB calendar days, both inclusive)."""
    first, last = _day(since), _day(until)
    return {
        "meter_number": meter if _DIGITS.fullmatch(meter) else None,
        "actor": actor.strip()[:64] or None,
        "action": action.strip()[:48] or None,
        "since": datetime.combine(first, datetime.min.time(), WIB) if first else None,
        "until": datetime.combine(last + timedelta(days=1), datetime.min.time(), WIB) if last else None,
    }


@router.get("/audit")
def audit(
    request: Request, operator: PageOperator, services: ServicesDep, meter: str = "", actor: str = "",
    action: str = "", since: str = "", until: str = "", page: int = 1,
) -> Response:  # fmt: skip
    """The audit log in words, newest first, 50 a page, filtered by meter, actor, action
    family and WIB dates."""
    lang = language_of(request)
    page = max(1, min(page, 10_000))
    filters = _audit_filters(meter, actor, action, since, until)
    entries, more = console_queries.audit_page(
        services.vending.engine, **filters, offset=(page - 1) * AUDIT_PAGE, limit=AUDIT_PAGE
    )
    rows = [
        {"entry": e, "words": audit_words.action_words(e.action, lang), "detail": audit_words.describe(e.detail, lang)}
        for e in entries
    ]
    query = {"meter": meter, "actor": actor, "action": action, "since": since, "until": until}
    context = {
        "rows": rows, "meter": meter, "actor": actor, "action": action, "since": since, "until": until,
        "page": page, "more": more, "query": {k: v for k, v in query.items() if v},
        "actors": console_queries.audit_actors(services.vending.engine), "families": audit_words.filters(lang),
    }  # fmt: skip
    return render(request, "operator/audit.html", context)


@router.get("/audit.csv")
def audit_csv(
    request: Request, operator: PageOperator, services: ServicesDep, meter: str = "", actor: str = "",
    action: str = "", since: str = "", until: str = "",
) -> Response:  # fmt: skip
    """The filtered audit log as CSV (up to 10 000 lines): time (WIB), actor, action code, the
    action in words, meter, the whole JSON detail."""
    lang = language_of(request)
    entries, _ = console_queries.audit_page(
        services.vending.engine, **_audit_filters(meter, actor, action, since, until), limit=10_000
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time_wib", "actor", "action", "action_words", "meter_number", "detail"])
    for e in entries:
        writer.writerow([
            e.at.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S"), _cell(e.actor), e.action,
            audit_words.action_words(e.action, lang), e.meter_number or "",
            _cell(json.dumps(e.detail, sort_keys=True, ensure_ascii=False, default=str)),
        ])  # fmt: skip
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


def _cell(text: str) -> str:
    """No spreadsheet formula injection: a cell starting with = + - @ gets a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
