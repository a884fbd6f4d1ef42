"""The console's ISO 8583 partner page: the partners for staff, add and remove for admins.

Texts are the catalogues' ``gateway.*`` keys; a running gateway applies a change within
seconds without touching other partners (docs/iso8583.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from prabayar.web.deps import ServicesDep
from prabayar.web.errors import Forbidden, WebError
from prabayar.web.pages.guards import Csrf, PageOperator
from prabayar.web.pages.rendering import flash, flash_texts, render

router = APIRouter(prefix="/konsol/h2h")
_HOME = "/konsol/h2h"


@router.get("")
def partners_page(request: Request, operator: PageOperator, services: ServicesDep) -> Response:
    partners = services.call(services.vending.gateway_partners)
    context: dict[str, Any] = {"partners": partners}
    return render(request, "operator/gateway.html", context)


def _admin_only(operator: Any) -> None:
    if operator.role != "admin":
        raise Forbidden("Hanya admin yang dapat mengubah mitra H2H.", "Only an admin can change H2H partners.")


@router.post("")
def add_partner(
    request: Request,
    _: Csrf,
    operator: PageOperator,
    services: ServicesDep,
    channel: Annotated[str, Form(max_length=16)],
    port: Annotated[int, Form(ge=1, le=65535)],
    switcher_id: Annotated[str, Form(max_length=7)],
    pcid: Annotated[str, Form(max_length=11)],
    bank_codes: Annotated[str, Form(max_length=400)],
    sources: Annotated[str, Form(max_length=1000)] = "127.0.0.1/32",
    framing: Annotated[str, Form(max_length=8)] = "trailer",
    admin_fee: Annotated[int, Form(ge=0, le=1_000_000)] = 0,
) -> Response:
    try:
        _admin_only(operator)
        partner = services.call(
            services.vending.add_gateway_partner,
            channel, port=port, framing=framing, switcher_id=switcher_id, pcid=pcid,
            bank_codes=bank_codes.split(), sources=sources.split(), actor=operator.subject, admin_fee=admin_fee,
        )  # fmt: skip
    except WebError as exc:
        flash_texts(request, exc.message_id, exc.message_en)
        return RedirectResponse(_HOME, status_code=303)
    flash(request, "gateway.partner_added", channel=partner.channel, port=str(partner.port))
    return RedirectResponse(_HOME, status_code=303)


@router.post("/{channel}/hapus")
def remove_partner(
    request: Request,
    channel: str,
    _: Csrf,
    operator: PageOperator,
    services: ServicesDep,
) -> Response:
    try:
        _admin_only(operator)
        services.call(services.vending.remove_gateway_partner, channel[:16], actor=operator.subject)
    except WebError as exc:
        flash_texts(request, exc.message_id, exc.message_en)
        return RedirectResponse(_HOME, status_code=303)
    flash(request, "gateway.partner_removed", channel=channel[:16])
    return RedirectResponse(_HOME, status_code=303)
