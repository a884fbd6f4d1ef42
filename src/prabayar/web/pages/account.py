"""A customer's own account: add a meter they own, change the password, reset a forgotten one
with a code an operator issues (:mod:`prabayar.vending.customer_accounts` explains the choice).

Adding a meter and using a reset code are throttled per account and per client address; every
link, refusal, change and reset is audited by vending.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from prabayar.web.clientaddr import client_address
from prabayar.web.deps import LimiterDep, ServicesDep
from prabayar.web.errors import WebError
from prabayar.web.i18n import language_of, pick, translate
from prabayar.web.pages.guards import Csrf, PageCustomer, PageOperator
from prabayar.web.pages.rendering import flash, flash_texts, render
from prabayar.web.ratelimit import Limit
from prabayar.web.sessions import rotate_session

router = APIRouter()

#: tries to prove ownership of a meter (per account and per address)
LINK_LIMIT = Limit(5, 900)
#: tries of a reset code (per user name and per address); vending also voids a code after 5
RESET_LIMIT = Limit(10, 900)

Password = Annotated[str, Form(max_length=256)]


def _end_other_sessions(request: Request, username: str) -> None:
    """A new password ends every session and API token the old one opened (all processes)."""
    state = request.app.state.shared_state
    state.revoke_user(username, request.app.state.token_signer.max_age_seconds)


@router.post("/akun/tambah-meter")
def add_meter(
    request: Request,
    _: Csrf,
    customer: PageCustomer,
    services: ServicesDep,
    limiter: LimiterDep,
    meter_number: Annotated[str, Form(max_length=20)] = "",
    token: Annotated[str, Form(max_length=40)] = "",
    idpel: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Add another meter/IDPEL the customer owns: a recent token of it, or its IDPEL."""
    try:
        limiter.hit(f"link:{customer.subject}", LINK_LIMIT)
        limiter.hit(f"link-ip:{client_address(request)}", LINK_LIMIT)
        meter = services.call(
            services.vending.link_customer,
            customer.subject,
            meter_number.strip(),
            token=token or None,
            idpel=idpel.strip() or None,
        )
    except WebError as exc:
        if exc.status_code == 429:
            flash(request, "account.too_many_attempts", kind="error")
        else:
            flash_texts(request, exc.message_id or "", exc.message_en or "")
        return RedirectResponse("/akun#tambah", status_code=303)
    flash(request, "meters.linked", meter=meter.meter_number, name=meter.name)
    return RedirectResponse("/akun", status_code=303)


@router.get("/akun/kata-sandi")
def password_form(request: Request, customer: PageCustomer) -> Response:
    return render(request, "customer/password.html", {})


@router.post("/akun/kata-sandi")
def password_change(
    request: Request,
    _: Csrf,
    customer: PageCustomer,
    services: ServicesDep,
    limiter: LimiterDep,
    current: Password = "",
    new: Password = "",
    repeat: Password = "",
) -> Response:
    lang = language_of(request)
    error = None
    if new != repeat:
        error = translate("account.repeat_differs", lang)
    else:
        try:
            limiter.hit(f"password:{customer.subject}", RESET_LIMIT)
            services.call(services.vending.change_password, customer.subject, current, new)
        except WebError as exc:
            error = pick(lang, exc.message_id or "", exc.message_en or "")
            if exc.status_code == 401:
                error = translate("account.current_wrong", lang)
    if error:
        return render(request, "customer/password.html", {"error": error}, status_code=422)
    _end_other_sessions(request, customer.subject)
    rotate_session(request)  # this browser stays signed in, under a new session id
    request.session["user"] = dict(request.session.get("user") or {})
    flash(request, "account.password_changed")
    return RedirectResponse("/akun", status_code=303)


@router.get("/lupa-sandi")
def reset_form(request: Request) -> Response:
    return render(request, "customer/reset.html", {"form": {}})


@router.post("/lupa-sandi")
def reset_password(
    request: Request,
    _: Csrf,
    services: ServicesDep,
    limiter: LimiterDep,
    username: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
    new: Password = "",
    repeat: Password = "",
) -> Response:
    lang = language_of(request)
    error = None
    if new != repeat:
        error = translate("account.repeat_differs", lang)
    else:
        try:
            limiter.hit(f"reset:{username.strip().lower()}", RESET_LIMIT)
            limiter.hit(f"reset-ip:{client_address(request)}", RESET_LIMIT)
            services.call(services.vending.reset_password, username.strip(), code.strip(), new)
        except WebError as exc:
            error = pick(lang, exc.message_id or "", exc.message_en or "")
            if exc.status_code == 401:
                error = translate("reset.code_invalid", lang)
    if error:
        form = {"username": username}
        return render(request, "customer/reset.html", {"form": form, "error": error}, status_code=422)
    _end_other_sessions(request, username.strip())
    flash(request, "reset.done")
    return RedirectResponse("/masuk", status_code=303)


@router.get("/konsol/reset-sandi")
def reset_code_form(request: Request, operator: PageOperator) -> Response:
    return render(request, "customer/reset_issue.html", {"form": {}})


@router.post("/konsol/reset-sandi")
def reset_code_issue(
    request: Request,
    _: Csrf,
    operator: PageOperator,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """An operator, having checked the caller, issues a one-time code (shown once, here)."""
    lang = language_of(request)
    form = {"username": username, "reason": reason}
    try:
        code = services.call(services.vending.issue_password_reset, operator.subject, username.strip(), reason)
    except WebError as exc:
        error = pick(lang, exc.message_id or "", exc.message_en or "")
        return render(request, "customer/reset_issue.html", {"form": form, "error": error}, status_code=exc.status_code)
    return render(request, "customer/reset_issue.html", {"form": {}, "code": code, "for_user": username.strip()})
