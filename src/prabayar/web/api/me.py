"""A customer's own meters and purchases (never anyone else's)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from prabayar.web.api.schemas import MeterListOut, MeterOut, PurchaseListOut, PurchaseOut, error_responses
from prabayar.web.deps import CurrentCustomer, ServicesDep

router = APIRouter(prefix="/me", tags=["customer"])

_ERRORS = error_responses(401, 403, 404)


@router.get("/meters", response_model=MeterListOut, responses=_ERRORS, summary="My meters")
def my_meters(customer: CurrentCustomer, services: ServicesDep) -> MeterListOut:
    meters = services.customer_meters(customer)
    return MeterListOut(meters=[MeterOut.of(m) for m in meters])


@router.get("/purchases", response_model=PurchaseListOut, responses=_ERRORS, summary="My purchases, newest first")
def my_purchases(
    customer: CurrentCustomer,
    services: ServicesDep,
    limit: int = Query(default=20, ge=1, le=100),
) -> PurchaseListOut:
    results = services.customer_purchases(customer, limit)
    return PurchaseListOut(purchases=[PurchaseOut.of(r) for r in results])
