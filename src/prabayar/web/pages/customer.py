"""The customer's pages, like PLN Mobile: my meters, buy a token, history, help and complaints."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from prabayar.web.api.support import run_diagnosis, support_call, tickets_of
from prabayar.web.deps import LimiterDep, LimitsDep, ServicesDep
from prabayar.web.errors import InvalidRequest, NotFound, WebError
from prabayar.web.i18n import MESSAGES, language_of, pick, translate
from prabayar.web.pages.guards import Csrf, PageCustomer
from prabayar.web.pages.rendering import WIB, flash, render
from prabayar.web.receipt_pdf import receipt_pdf_bytes
from prabayar.web.security import Principal
from prabayar.web.services import Services

router = APIRouter()


def _own_meter(services: Services, customer: Principal, meter_number: str) -> Any:
    for meter in services.customer_meters(customer):
        if meter.meter_number == meter_number:
            return meter
    raise NotFound("Meter tidak ditemukan di akun Anda.", "This meter is not in your account.")


@router.get("/akun")
def my_meters(request: Request, customer: PageCustomer, services: ServicesDep) -> Response:
    """Each meter with its status, its remaining credit where the virtual meter knows it and
    its last token; the form to add another meter the customer owns."""
    meters = services.customer_meters(customer)
    virtual = request.app.state.virtual_meters
    cards = []
    for meter in meters:
        last = services.call(services.vending.reprint, meter.meter_number, limit=1)
        cards.append(
            {
                "meter": meter,
                "credit": virtual.known_credit(meter.meter_number),
                "last": last[0] if last else None,
            }
        )
    return render(request, "customer/meters.html", {"meters": meters, "cards": cards})


@router.get("/beli")
def buy_form(request: Request, customer: PageCustomer, services: ServicesDep, meter: str | None = None) -> Response:
    return render(
        request,
        "customer/buy.html",
        {"meters": services.customer_meters(customer), "selected": meter, "nominals": services.app_channel().nominals},
    )


@router.post("/beli/rincian")
def buy_breakdown(
    request: Request,
    _: Csrf,
    customer: PageCustomer,
    services: ServicesDep,
    meter_number: Annotated[str, Form(max_length=13)] = "",
    nominal: Annotated[int, Form(gt=0, le=1_000_000_000)] = 0,
) -> Response:
    meter = _own_meter(services, customer, meter_number)
    channel = services.app_channel()
    lang = language_of(request)
    try:
        price = services.call(services.vending.quote, channel.code, meter_number, nominal)
    except WebError as exc:
        return render(
            request,
            "customer/buy.html",
            {
                "meters": services.customer_meters(customer),
                "selected": meter_number,
                "nominals": channel.nominals,
                "nominal": nominal,
                "error": pick(lang, exc.message_id, exc.message_en),
                "code": exc.response_code,
            },
            status_code=exc.status_code,
        )
    return render(
        request,
        "customer/breakdown.html",
        {
            "meter": meter,
            "price": price,
            "channel": channel,
            # A fresh reference per confirmation page: paying twice from it buys once.
            "reference": "WEB-" + uuid.uuid4().hex,
        },
    )


@router.post("/beli/bayar")
def buy_pay(
    request: Request,
    _: Csrf,
    customer: PageCustomer,
    services: ServicesDep,
    limiter: LimiterDep,
    limits: LimitsDep,
    meter_number: Annotated[str, Form(max_length=13)] = "",
    nominal: Annotated[int, Form(gt=0, le=1_000_000_000)] = 0,
    reference: Annotated[str, Form(pattern=r"^WEB-[0-9a-f]{32}$")] = "",
) -> Response:
    _own_meter(services, customer, meter_number)
    limiter.hit(f"customer:{customer.subject}", limits.customer_tokens)
    channel = services.app_channel()
    result = services.call(services.vending.purchase, channel.code, reference, meter_number, nominal)
    # The web app is the channel and the browser is about to show the token: delivered.
    services.call(services.vending.confirm_delivery, channel.code, reference)
    return RedirectResponse(f"/struk/{result.reference_number}?baru=1", status_code=303)


_REFERENCE = re.compile(r"[A-Za-z0-9-]{1,40}")


def _find_purchase(services: Services, customer: Principal, reference_number: str) -> Any:
    if _REFERENCE.fullmatch(reference_number):
        found = services.purchase_history(customer, search=reference_number, limit=5).items
        for purchase in found:
            if purchase.reference_number == reference_number:
                return purchase
    raise NotFound("Transaksi tidak ditemukan di akun Anda.", "No such purchase in your account.")


def _receipt_context(services: Services, purchase: Any) -> dict[str, Any]:
    names = services.channel_names()
    return {"purchase": purchase, "channel_name": names.get(purchase.channel, purchase.channel)}


@router.get("/struk/{reference_number}")
def receipt(
    request: Request,
    reference_number: str,
    customer: PageCustomer,
    services: ServicesDep,
    baru: int = 0,
) -> Response:
    purchase = _find_purchase(services, customer, reference_number)
    context = _receipt_context(services, purchase)
    context["fresh"] = bool(baru)
    return render(request, "customer/receipt.html", context)


@router.get("/struk/{reference_number}/pdf")
def receipt_pdf(request: Request, reference_number: str, customer: PageCustomer, services: ServicesDep) -> Response:
    """The struk as a PDF (A6-like page; the same lines as the printed receipt)."""
    purchase = _find_purchase(services, customer, reference_number)
    names = services.channel_names()
    document = receipt_pdf_bytes(purchase, names.get(purchase.channel, purchase.channel), language_of(request))
    return Response(
        document,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="struk-{purchase.reference_number}.pdf"',
            "Cache-Control": "no-store",
        },
    )


HISTORY_PAGE = 20


def _date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(*(MESSAGES["history.bad_date"])) from None


@router.get("/riwayat")
def history(
    request: Request,
    customer: PageCustomer,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=40)] = "",
    dari: Annotated[str, Query(max_length=10)] = "",
    sampai: Annotated[str, Query(max_length=10)] = "",
    hal: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Search (meter number, reference, token digits), a date range in WIB, pages of 20."""
    lang = language_of(request)
    error = None
    try:
        since_day, until_day = _date(dari), _date(sampai)
    except InvalidRequest as exc:
        error = pick(lang, exc.message_id or "", exc.message_en or "")
        since_day = until_day = None
    since = datetime.combine(since_day, time.min, WIB) if since_day else None
    until = datetime.combine(until_day + timedelta(days=1), time.min, WIB) if until_day else None
    page = services.purchase_history(
        customer, search=q, since=since, until=until, offset=(hal - 1) * HISTORY_PAGE, limit=HISTORY_PAGE
    )
    pages = max(1, -(-page.total // HISTORY_PAGE))

    def link(number: int) -> str:
        params = {k: v for k, v in (("q", q), ("dari", dari), ("sampai", sampai)) if v}
        params["hal"] = str(number)
        return "/riwayat?" + urlencode(params)

    return render(
        request,
        "customer/history.html",
        {
            "purchases": page.items,
            "total": page.total,
            "page_number": hal,
            "pages": pages,
            "prev_link": link(hal - 1) if hal > 1 else None,
            "next_link": link(hal + 1) if hal < pages else None,
            "filters": {"q": q, "dari": dari, "sampai": sampai},
            "filtered": bool(q or dari or sampai),
            "channel_names": services.channel_names(),
            "error": error,
        },
    )


@router.get("/pengaduan")
def complaint_form(request: Request, customer: PageCustomer, services: ServicesDep) -> Response:
    return render(
        request,
        "customer/complaint.html",
        {
            "meters": services.customer_meters(customer),
            "categories": COMPLAINT_CATEGORIES,
            "tickets": services.customer_tickets(customer),
        },
    )


# Categories a customer can pick (support's ticket categories); their words are ``category.<code>``.
COMPLAINT_CATEGORIES: tuple[str, ...] = (
    "typo", "already_used", "wrong_meter", "sale_not_completed", "tamper", "broken_meter", "other",
)  # fmt: skip


@router.post("/pengaduan")
def complaint_submit(
    request: Request,
    _: Csrf,
    customer: PageCustomer,
    services: ServicesDep,
    meter_number: Annotated[str, Form(max_length=13)] = "",
    category: Annotated[str, Form(max_length=32)] = "other",
    description: Annotated[str, Form(max_length=2000)] = "",
    contact: Annotated[str, Form(max_length=120)] = "",
    token: Annotated[str, Form(max_length=64)] = "",
    display: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    lang = language_of(request)
    form = {"meter_number": meter_number, "category": category, "description": description, "contact": contact}
    context: dict[str, Any] = {
        "meters": services.customer_meters(customer),
        "categories": COMPLAINT_CATEGORIES,
        "form": form | {"token": token, "display": display},
    }
    if category not in COMPLAINT_CATEGORIES or len(description.strip()) < 10:
        context["error"] = translate("complaint.incomplete", lang)
        context["tickets"] = services.customer_tickets(customer)
        return render(request, "customer/complaint.html", context, status_code=422)
    if token.strip() or display.strip():
        # the token check runs on what the customer typed and its result goes with the ticket
        try:
            diagnosis = run_diagnosis(request, services, customer, meter_number, token, display)
        except WebError as exc:
            context["error"] = pick(lang, exc.message_id or "", exc.message_en or "")
            context["tickets"] = services.customer_tickets(customer)
            return render(request, "customer/complaint.html", context, status_code=exc.status_code)
        ticket = support_call(
            tickets_of(services).open,
            channel="app",
            identifier=meter_number,
            actor=customer.subject,
            category=category,
            description=description,
            contact=contact,
            diagnosis=diagnosis,
            typed=token.strip(),
            display=display.strip(),
        )
    else:
        ticket = services.open_complaint(customer, meter_number, category, description, contact)
    flash(request, "complaint.received", number=ticket.number)
    return RedirectResponse("/pengaduan", status_code=303)
