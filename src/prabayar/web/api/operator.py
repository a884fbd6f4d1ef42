"""The operator API: look up customers and meters, purchases, the audit log, management tokens."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from prabayar.vending import ApprovalRequest
from prabayar.web.api.approvals import PENDING_RESPONSE, accepted
from prabayar.web.api.schemas import (
    AuditEntryOut,
    AuditListOut,
    CustomerOut,
    ManagementIn,
    ManagementOut,
    MeterOut,
    PurchaseListOut,
    PurchaseOut,
    error_responses,
)
from prabayar.web.deps import CurrentOperator, LimiterDep, LimitsDep, ServicesDep
from prabayar.web.errors import Forbidden

router = APIRouter(prefix="/operator", tags=["operator"])

_ERRORS = error_responses(401, 403, 404, 409, 422, 429, 503)
IdentifierPath = Path(pattern=r"^[0-9]{11,13}$", description="meter number or IDPEL")


@router.get(
    "/customers/{identifier}",
    response_model=CustomerOut,
    responses=_ERRORS,
    summary="A customer, found by IDPEL or by one of their meter numbers",
)
def customer(operator: CurrentOperator, services: ServicesDep, identifier: str = IdentifierPath) -> CustomerOut:
    meters = services.lookup_customer(identifier)
    first = meters[0]
    return CustomerOut(
        idpel=first.idpel,
        name=first.name,
        address=first.address,
        meters=[MeterOut.of(m) for m in meters],
    )


@router.get(
    "/meters/{identifier}",
    response_model=MeterOut,
    responses=_ERRORS,
    summary="A meter, by its number (or the customer's IDPEL)",
)
def meter(operator: CurrentOperator, services: ServicesDep, identifier: str = IdentifierPath) -> MeterOut:
    meters = services.lookup_customer(identifier)
    for found in meters:
        if found.meter_number == identifier:
            return MeterOut.of(found)
    return MeterOut.of(meters[0])


@router.get(
    "/purchases",
    response_model=PurchaseListOut,
    responses=_ERRORS,
    summary="Purchases of a meter or customer, newest first",
)
def purchases(
    operator: CurrentOperator,
    services: ServicesDep,
    identifier: str = Query(pattern=r"^[0-9]{11,13}$"),
    limit: int = Query(default=20, ge=1, le=100),
) -> PurchaseListOut:
    results = services.call(services.vending.reprint, identifier, limit=limit)
    return PurchaseListOut(purchases=[PurchaseOut.of(r) for r in results])


@router.get("/audit", response_model=AuditListOut, responses=_ERRORS, summary="The append-only audit log, newest first")
def audit(
    operator: CurrentOperator,
    services: ServicesDep,
    meter_number: str | None = Query(default=None, pattern=r"^[0-9]{11,13}$"),
    actor: str | None = Query(default=None, max_length=64),
    action: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=100, ge=1, le=500),
) -> AuditListOut:
    entries = services.call(
        services.vending.audit_log,
        meter_number=meter_number,
        actor=actor,
        action=action,
        limit=limit,
    )
    return AuditListOut(entries=[AuditEntryOut.of(e) for e in entries])


@router.post(
    "/management-tokens",
    response_model=ManagementOut,
    responses={**_ERRORS, **PENDING_RESPONSE},
    summary="Issue a management token (clear tamper, power limit); clear credit and key change "
    "(admins only) are recorded as pending approval (202)",
)
def management_token(
    body: ManagementIn,
    operator: CurrentOperator,
    services: ServicesDep,
    limiter: LimiterDep,
    limits: LimitsDep,
) -> ManagementOut | JSONResponse:
    if body.kind == "key_change" and operator.role != "admin":
        raise Forbidden("Penggantian kunci (KCT) hanya oleh admin.", "Key change tokens are for admins only.")
    limiter.hit(f"operator:{operator.subject}", limits.operator_tokens)
    result = services.issue_management_token(
        operator.subject,
        body.meter_number,
        body.kind,
        body.reason,
        watts=body.watts,
        register=body.credit_register,
        rollover=body.rollover,
    )
    if isinstance(result, ApprovalRequest):
        return accepted(result)
    return ManagementOut.of(result)
