"""Jinja2 rendering for the pages: language, the signed-in user, CSRF token, display filters."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from prabayar.web.diagnosis_words import candidate_words, evidence_words, source_words, token_class
from prabayar.web.errors import WebError
from prabayar.web.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    in_language,
    labeller,
    language_of,
    notice_text,
    pick,
    translate,
    translator,
)
from prabayar.web.security import Principal, new_csrf_token

TEMPLATES_DIR = Path(__file__).parent / "templates"
WIB = timezone(timedelta(hours=7), "WIB")

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


@pass_context
def _gettext(context: Context, message: str) -> str:
    """Jinja2's i18n ``_()`` / ``{% trans %}``: the message in the page's language (``lang``)."""
    return translate(message, str(context.get("lang") or DEFAULT_LANGUAGE))


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _gettext(context, singular if n == 1 else plural)


@pass_context
def _in_lang(context: Context, value: object) -> str:
    """``{{ d.explanation | in_lang }}``: a text another module gives in both languages (support's
    ``Text``, a stored ``{"id", "en"}``), in the page's language; the web's own words use ``t``."""
    return in_language(value, str(context.get("lang") or DEFAULT_LANGUAGE))


templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]


def rupiah(value: int | None) -> str:
    """Indonesian money: ``Rp 23.500``."""
    if value is None:
        return "-"
    return "Rp " + f"{int(value):,}".replace(",", ".")


_CENTI = Decimal("0.01")


def kwh(value: Decimal | None) -> str:
    """Indonesian decimal comma, as PLN writes energy: ``67,6``, ``1.281,9``, ``12,34``.

    The same amount reads the same everywhere, however many places its Decimal carries
    (``13.6`` from a quote, ``13.60`` from the ledger); a meter register with more places is
    cut to two, rounded down as the meter itself shows it.
    """
    if value is None:
        return "-"
    amount = Decimal(value).quantize(_CENTI, rounding=ROUND_DOWN)
    sign = "-" if amount < 0 else ""
    whole, _, frac = format(abs(amount), "f").partition(".")
    frac = frac.rstrip("0") or "0"
    return f"{sign}{int(whole):,}".replace(",", ".") + f",{frac}"


def lcd_kwh(value: Decimal | None) -> str:
    """The register as the meter's own LCD shows it: two decimals, rounded down, a point."""
    if value is None:
        return "-"
    return f"{Decimal(value).quantize(_CENTI, rounding=ROUND_DOWN)}"


def wib(value: datetime | None) -> str:
    """A UTC instant as a person in Indonesia reads it."""
    if value is None:
        return "-"
    return value.astimezone(WIB).strftime("%d-%m-%Y %H:%M WIB")


def wib_seconds(value: datetime | None) -> str:
    """Date and time of a sale to the second, as the struk gives it."""
    if value is None:
        return "-"
    return value.astimezone(WIB).strftime("%d-%m-%Y %H:%M:%S WIB")


def pct(rate: Decimal | None) -> str:
    """A rate as Indonesians write it: ``Decimal("0.10")`` -> ``10%``, ``0.025`` -> ``2,5%``."""
    if rate is None:
        return "-"
    value = (Decimal(rate) * 100).normalize()
    return format(value, "f").replace(".", ",") + "%"


def grouped(token: str) -> str:
    return " ".join(token[i : i + 4] for i in range(0, len(token), 4))


templates.env.filters["rp"] = rupiah
templates.env.filters["kwh"] = kwh
templates.env.filters["lcd_kwh"] = lcd_kwh
templates.env.filters["wib"] = wib
templates.env.filters["grouped"] = grouped
templates.env.filters["pct"] = pct
templates.env.filters["wib_seconds"] = wib_seconds
templates.env.filters["evidence"] = evidence_words
templates.env.filters["candidate"] = candidate_words
templates.env.filters["source_words"] = source_words
templates.env.filters["token_class"] = token_class
templates.env.filters["in_lang"] = _in_lang


def session_user(request: Request) -> Principal | None:
    data = request.session.get("user")
    if not isinstance(data, dict):
        return None
    username, role, idpel = data.get("u"), data.get("r"), data.get("c")
    if not isinstance(username, str) or role not in ("customer", "operator", "admin"):
        return None
    return Principal(role=role, subject=username, display_name=username, customer_id=idpel)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


def _notice(stored: object, lang: str) -> dict[str, str] | None:
    if not isinstance(stored, dict):
        return None
    return {"kind": str(stored.get("kind", "ok")), "text": notice_text(stored, lang)}


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    lang = language_of(request)
    user = session_user(request)
    full = {
        "t": translator(lang),
        "label": labeller(lang),
        "lang": lang,
        "user": user,
        "csrf": csrf_token(request),
        "path": request.url.path,
        # where the language switch returns to: this page with its query (a search, a filter)
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "flash": _notice(request.session.pop("flash", None), lang),
        "switch_to": next(other for other in LANGUAGES if other != lang),
    }
    full.update(context or {})
    return templates.TemplateResponse(request, name, full, status_code=status_code)


def flash(request: Request, key: str, *, kind: str = "ok", **params: str | tuple[str, str]) -> None:
    """A one-time notice shown on the next page: a catalogue key and its ``{name}`` values (kept
    in the session, so the next page words it in its own language)."""
    request.session["flash"] = {"kind": kind, "key": key, "params": params}


def flash_texts(request: Request, message_id: str, message_en: str, kind: str = "error") -> None:
    """A one-time notice whose two texts come from elsewhere (an error's own messages)."""
    request.session["flash"] = {"kind": kind, "id": message_id, "en": message_en}


def render_error(request: Request, error: WebError) -> HTMLResponse:
    lang = language_of(request)
    return render(
        request,
        "error.html",
        {
            "error": error,
            "message": pick(lang, error.message_id, error.message_en),
            "request_id": getattr(request.state, "request_id", "-"),
        },
        status_code=error.status_code,
    )
