"""The console's approvals page: what waits for a checker, with approve / reject for admins.

Operators see the list (their own requests included); only an admin other than the maker gets
the buttons, and vending refuses anyone else anyway (``prabayar.vending.approvals``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from prabayar.web.deps import ServicesDep
from prabayar.web.errors import Forbidden, WebError
from prabayar.web.pages.guards import Csrf, PageOperator
from prabayar.web.pages.rendering import flash, flash_texts, render

router = APIRouter(prefix="/konsol/persetujuan")
ApprovalId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _grouped(token: str) -> str:
    return " ".join(token[i : i + 4] for i in range(0, len(token), 4))


@router.get("")
def approvals_page(request: Request, operator: PageOperator, services: ServicesDep) -> Response:
    vending = services.vending
    pending = services.call(vending.pending_approvals, limit=200)
    decided = [r for r in services.call(vending.approvals, limit=30) if not r.pending]
    return render(request, "operator/approvals.html", {"pending": pending, "decided": decided})


def _decide(request: Request, operator: Any, call: Any) -> Response:
    try:
        if operator.role != "admin":
            raise Forbidden("Hanya admin yang dapat memutuskan.", "Only an admin can decide.")
        done = call()
    except WebError as exc:
        flash_texts(request, exc.message_id, exc.message_en)
        return RedirectResponse("/konsol/persetujuan", status_code=303)
    what = done.label
    if done.status.value == "approved" and done.tokens:
        listed = " | ".join(_grouped(t) for t in done.tokens)
        flash(request, "approvals.approved_tokens", id=str(done.id), what=what, tokens=listed)
    elif done.status.value == "approved":
        flash(request, "approvals.approved_notice", id=str(done.id), what=what)
    else:
        flash(request, "approvals.rejected_notice", id=str(done.id), what=what)
    return RedirectResponse("/konsol/persetujuan", status_code=303)


@router.post("/{approval_id}/setujui")
def approve(
    request: Request,
    approval_id: ApprovalId,
    _: Csrf,
    operator: PageOperator,
    services: ServicesDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    vending = services.vending
    return _decide(
        request, operator, lambda: services.call(vending.approve, approval_id, operator.subject, reason=reason)
    )


@router.post("/{approval_id}/tolak")
def reject(
    request: Request,
    approval_id: ApprovalId,
    _: Csrf,
    operator: PageOperator,
    services: ServicesDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    vending = services.vending
    return _decide(request, operator, lambda: services.call(vending.reject, approval_id, operator.subject, reason))
