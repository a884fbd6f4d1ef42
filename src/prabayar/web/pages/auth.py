"""Landing page, log-in and log-out, and the language switch."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from prabayar.web.clientaddr import client_address
from prabayar.web.deps import ServicesDep, ThrottleDep
from prabayar.web.errors import InvalidCredentials, RateLimited, WebError
from prabayar.web.i18n import LANG_COOKIE, LANGUAGES, language_of, pick, translate
from prabayar.web.pages.guards import Csrf, PageOperator
from prabayar.web.pages.rendering import csrf_token, render, session_user
from prabayar.web.sessions import rotate_session

router = APIRouter()


def home_of(role: str) -> str:
    return "/konsol" if role in ("operator", "admin") else "/akun"


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths (no ``//host`` or scheme) are followed after log-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/")
def landing(request: Request) -> Response:
    user = session_user(request)
    if user is not None:
        return RedirectResponse(home_of(user.role), status_code=303)
    return render(request, "landing.html")


@router.get("/masuk")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": safe_next(next) or ""})


@router.post("/masuk")
def login(
    request: Request,
    _: Csrf,
    services: ServicesDep,
    throttle: ThrottleDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    lang = language_of(request)
    client = client_address(request)
    try:
        throttle.check(username, client)
        if not username or not password:
            raise InvalidCredentials()
        try:
            principal = services.login(username, password)
        except InvalidCredentials:
            throttle.failed(username, client)
            raise
    except (InvalidCredentials, RateLimited) as exc:
        response = render(
            request,
            "login.html",
            {"next": safe_next(next) or "", "username": username, "error": pick(lang, exc.message_id, exc.message_en)},
            status_code=exc.status_code,
        )
        response.headers.update(exc.headers)
        return response
    throttle.succeeded(username, client)
    request.session.clear()
    rotate_session(request)  # a new session id after log-in: no session fixation
    request.session["user"] = {"u": principal.subject, "r": principal.role, "c": principal.customer_id}
    csrf_token(request)  # a fresh CSRF token for the new session
    return RedirectResponse(safe_next(next) or home_of(principal.role), status_code=303)


@router.post("/keluar")
def logout(request: Request, _: Csrf) -> Response:
    request.session.clear()  # the server-side session is deleted when the response is sent
    return RedirectResponse("/", status_code=303)


@router.get("/bahasa/{lang}")
def switch_language(request: Request, lang: str, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next) or "/", status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True, secure=True)
    return response


@router.get("/konsol/akses")
def access_form(request: Request, operator: PageOperator) -> Response:
    return render(request, "operator/access.html", {})


@router.post("/konsol/akses")
def access_revoke(
    request: Request,
    _: Csrf,
    operator: PageOperator,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    from prabayar.web.api.auth import revoke_access

    lang = language_of(request)
    context: dict[str, Any] = {"username": username, "reason": reason}
    try:
        result = revoke_access(request, services, operator.subject, username.strip(), reason)
    except WebError as exc:
        context["error"] = pick(lang, exc.message_id, exc.message_en)
        return render(request, "operator/access.html", context, status_code=exc.status_code)
    context["done"] = translate("access.done", lang).format(username=result.username, sessions=result.sessions_ended)
    context["username"] = context["reason"] = ""
    return render(request, "operator/access.html", context)
