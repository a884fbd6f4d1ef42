"""Console pages for master data: customers and meters (staff), channels, tariffs, units and
vending keys (admins). Server-rendered like the rest of the console; every form posts with the
CSRF token to one action route and the page comes back with a notice (or the error, in the
reader's language). New tariff versions and key imports become pending approval requests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from prabayar.web.deps import ServicesDep
from prabayar.web.errors import Forbidden, InvalidRequest, WebError
from prabayar.web.i18n import language_of, pick, translate
from prabayar.web.pages.guards import Csrf, PageOperator
from prabayar.web.pages.rendering import render
from prabayar.web.security import Principal
from prabayar.web.services import Services

router = APIRouter(prefix="/konsol/data")
WIB = timezone(timedelta(hours=7), "WIB")
STAFF = ("operator", "admin")
ADMIN = ("admin",)

PAGES = {
    "customers": ("/konsol/data", "operator/masterdata.html"),
    "channels": ("/konsol/data/loket", "operator/channels.html"),
    "reference": ("/konsol/data/referensi", "operator/reference.html"),
}


def _customers_context(services: Services, request: Request, q: str = "", idpel: str = "") -> dict[str, Any]:
    context: dict[str, Any] = {"q": q, "selected": None, "results": [], "stock": []}
    lang = language_of(request)
    try:
        if q.strip():
            context["results"] = services.call(services.vending.search_customers, q, limit=50)
        if idpel.strip():
            context["selected"] = services.call(services.vending.customer_record, idpel.strip())
        context["stock"] = services.call(services.vending.meter_stock, limit=50)
    except WebError as exc:
        context["error"] = pick(lang, exc.message_id, exc.message_en)
        context["code"] = exc.response_code
    context["units"] = services.call(services.vending.units)
    return context


def _channels_context(services: Services, request: Request) -> dict[str, Any]:
    return {"channels": services.call(services.vending.channel_details)}


def _reference_context(services: Services, request: Request, user: Principal) -> dict[str, Any]:
    context: dict[str, Any] = {
        "tariffs": services.call(services.vending.tariff_classes),
        "units": services.call(services.vending.units),
        "keys": services.call(services.vending.vending_keys) if user.role == "admin" else [],
    }
    return context


def _page(
    request: Request,
    services: Services,
    user: Principal,
    page: str,
    extra: dict[str, Any],
    status: int = 200,
    query: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    if page == "channels":
        context = _channels_context(services, request)
    elif page == "reference":
        context = _reference_context(services, request, user)
    else:
        query = query or {}
        context = _customers_context(services, request, query.get("q", ""), query.get("idpel", ""))
    context.update(extra)
    context["page"] = page
    return render(request, PAGES[page][1], context, status_code=status)


@router.get("")
def customers(
    request: Request, operator: PageOperator, services: ServicesDep, q: str = "", idpel: str = ""
) -> Response:
    return _page(request, services, operator, "customers", {}, 200, {"q": q[:80], "idpel": idpel[:13]})


@router.get("/loket")
def channels(request: Request, operator: PageOperator, services: ServicesDep) -> Response:
    if operator.role != "admin":
        raise Forbidden("Loket hanya dikelola admin.", "Sales channels are managed by admins.")
    return _page(request, services, operator, "channels", {})


@router.get("/referensi")
def reference(request: Request, operator: PageOperator, services: ServicesDep) -> Response:
    return _page(request, services, operator, "reference", {})


def _when(text: str) -> datetime:
    """A datetime-local value (WIB) from the form."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidRequest("Tanggal berlaku tidak valid.", "The effective date is not valid.") from None
    return (when if when.tzinfo else when.replace(tzinfo=WIB)).astimezone(UTC)


def _int(text: str, field: str) -> int:
    value = text.strip().replace(".", "")
    if not value or not value.isascii() or not value.lstrip("-").isdigit():
        raise InvalidRequest(f"{field}: harus angka.", f"{field}: must be a whole number.")
    return int(value)


def _opt(text: str) -> str | None:
    return text.strip() or None


Action = Callable[[Any, str, dict[str, str]], Any]

#: action -> (roles, page, what to call, the notice's catalogue key)
ACTIONS: dict[str, tuple[tuple[str, ...], str, Action, str]] = {
    "register_customer": (STAFF, "customers", lambda v, who, f: v.register_customer(
        who, idpel=f["idpel"], name=f["name"], address=f["address"], tariff=f["tariff"],
        power_va=_int(f["power_va"], "VA"), unit=_opt(f.get("unit", "")), phone=_opt(f.get("phone", "")),
        reason=f["reason"]), "md.done.register_customer"),
    "change_power": (STAFF, "customers", lambda v, who, f: v.change_power(
        who, f["idpel"], _int(f["power_va"], "VA"), f["reason"], tariff=_opt(f.get("tariff", ""))),
        "md.done.change_power"),
    "update_customer": (STAFF, "customers", lambda v, who, f: v.update_customer(
        who, f["idpel"], f["reason"], name=_opt(f.get("name", "")), address=_opt(f.get("address", "")),
        phone=_opt(f.get("phone", "")), unit=_opt(f.get("unit", ""))), "md.done.update_customer"),
    "block": (STAFF, "customers", lambda v, who, f: v.block_customer(who, f["idpel"], f["reason"]),
              "md.done.block"),
    "unblock": (STAFF, "customers", lambda v, who, f: v.unblock_customer(who, f["idpel"], f["reason"]),
                "md.done.unblock"),
    "close": (STAFF, "customers", lambda v, who, f: v.close_customer(who, f["idpel"], f["reason"]),
              "md.done.close"),
    "register_meter": (STAFF, "customers", lambda v, who, f: v.register_meter(
        who, f["meter_number"], sgc=f["sgc"], tariff_index=f.get("tariff_index", "01"), krn=f["krn"],
        key_type=f.get("key_type", "2"), ea=f.get("ea", "07"), dkga=f.get("dkga", "04"),
        base_date=f.get("base_date", "2014"), reason=f["reason"]), "md.done.register_meter"),
    "install_meter": (STAFF, "customers", lambda v, who, f: v.install_meter(who, f["meter_number"], f["idpel"],
                                                                             f["reason"]),
                      "md.done.install_meter"),
    "remove_meter": (STAFF, "customers", lambda v, who, f: v.remove_meter(who, f["meter_number"], f["reason"]),
                     "md.done.remove_meter"),
    "broken_meter": (STAFF, "customers", lambda v, who, f: v.mark_meter_broken(who, f["meter_number"], f["reason"]),
                     "md.done.broken_meter"),
    "add_channel": (ADMIN, "channels", lambda v, who, f: v.add_channel(
        who, f["code"], f["reason"], name=_opt(f.get("name", "")), kind=f.get("kind", "aggregator"),
        admin_fee=f.get("admin_fee", "0") or "0",
        purchases_per_minute=_int(f.get("purchases_per_minute", "600") or "600", "limit"),
        allowed_nominals=_opt(f.get("nominals", ""))), "md.done.add_channel"),
    "update_channel": (ADMIN, "channels", lambda v, who, f: v.update_channel(
        who, f["code"], f["reason"], admin_fee=_opt(f.get("admin_fee", "")),
        purchases_per_minute=_int(f["purchases_per_minute"], "limit") if f.get("purchases_per_minute") else None,
        allowed_nominals=_opt(f.get("nominals", ""))), "md.done.update_channel"),
    "rotate_key": (ADMIN, "channels", lambda v, who, f: v.rotate_channel_key(who, f["code"], f["reason"]),
                   "md.done.rotate_key"),
    "disable_channel": (ADMIN, "channels", lambda v, who, f: v.disable_channel(who, f["code"], f["reason"]),
                        "md.done.disable_channel"),
    "tariff_version": (ADMIN, "reference", lambda v, who, f: v.request_tariff_version(
        who, f["tariff"], f["rp_per_kwh"], _when(f["effective_from"]), f["reason"]),
        "md.done.tariff_version"),
    "unit_rate": (ADMIN, "reference", lambda v, who, f: v.set_unit_tax_rate(who, f["unit"], f["tariff"],
                                                                             f["pbjt_rate"], f["reason"]),
                  "md.done.unit_rate"),
    "add_unit": (ADMIN, "reference", lambda v, who, f: v.add_unit(who, f["code"], f["uid_name"], f["up3_name"],
                                                                   f["reason"], default_rate=f.get("pbjt", "0") or "0"),
                 "md.done.add_unit"),
    "key_import": (ADMIN, "reference", lambda v, who, f: v.request_vending_key_import(
        who, f["sgc"], f["krn"], f["wrapped_key_hex"], f["reason"], dkga=_opt(f.get("dkga", ""))),
        "md.done.key_import"),
}  # fmt: skip


@router.post("/aksi")
async def action(request: Request, _: Csrf, operator: PageOperator, services: ServicesDep) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    name = form.get("action", "")
    lang = language_of(request)
    if name not in ACTIONS:
        raise InvalidRequest("Aksi tidak dikenal.", "Unknown action.")
    roles, page, call, notice = ACTIONS[name]
    if operator.role not in roles:
        raise Forbidden("Hanya admin.", "Admins only.")
    back = {"q": form.get("q", ""), "idpel": form.get("idpel", "") or form.get("back_idpel", "")}
    try:
        try:
            result = services.call(call, services.vending, operator.subject, form)
        except KeyError as exc:
            raise InvalidRequest(f"Isian {exc} wajib.", f"The field {exc} is required.") from None
    except WebError as exc:
        failed = {"error": pick(lang, exc.message_id, exc.message_en), "code": exc.response_code, "form": form}
        return _page(request, services, operator, page, failed, exc.status_code, back)
    extra: dict[str, Any] = {"notice": translate(notice, lang)}
    if name == "add_channel":
        extra["new_key"] = result[1]
    elif name == "rotate_key":
        extra["new_key"] = result
    elif name in ("tariff_version", "key_import"):
        extra["pending"] = result
    if name == "register_customer":
        back["idpel"] = result.idpel
    return _page(request, services, operator, page, extra, 200, back)
