"""The channel API for payment points (banks, minimarkets, e-wallets): PLN's prepaid flow.

inquiry -> purchase (the channel's reference is the idempotency key) -> confirm; advice when a
purchase answer was lost; reprint for the last tokens of a meter. Each channel authenticates
with its own API key in ``X-Api-Key``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from prabayar.web.api.schemas import (
    ConfirmOut,
    InquiryIn,
    InquiryOut,
    PurchaseIn,
    PurchaseListOut,
    PurchaseOut,
    ReferenceIn,
    ReprintIn,
    error_responses,
)
from prabayar.web.deps import (
    CurrentChannel,
    LimiterDep,
    LimitsDep,
    ServicesDep,
    api_key_scheme,
    api_principal,
    bearer_scheme,
    channel_purchase_limit,
    get_limiter,
    get_limits,
    get_services,
)
from prabayar.web.errors import Forbidden

router = APIRouter(prefix="/channel", tags=["channel"])

_ERRORS = error_responses(401, 403, 404, 409, 422, 429, 503)


@router.post(
    "/inquiry",
    response_model=InquiryOut,
    responses=_ERRORS,
    summary="Customer data for a meter number or IDPEL (and a price when nominal is given)",
)
def inquiry(body: InquiryIn, channel: CurrentChannel, services: ServicesDep) -> InquiryOut:
    vending = services.vending
    # vending filters undelivered tokens to this channel's own sales: a token paid through one
    # seller is never handed to another.
    found = services.call(vending.inquiry, body.identifier, channel=channel.subject)
    price = None
    if body.nominal is not None:
        price = services.call(vending.quote, channel.subject, body.identifier, body.nominal)
    return InquiryOut.of(found, list(found.unsold), price)


@router.post(
    "/purchase",
    response_model=PurchaseOut,
    responses=_ERRORS,
    summary="Buy a token; the same channel_reference returns the same purchase",
)
async def purchase(
    request: Request,
    body: PurchaseIn,
    api_key: Annotated[str | None, Security(api_key_scheme)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
) -> PurchaseOut:
    """The path a national peak runs through: body and headers are read on the event loop, then
    the whole sale (the caller's key, the channel's rate limit, the vending use case) runs in ONE
    worker-thread hop instead of one per dependency. Same checks, same answers as the
    ``CurrentChannel`` dependencies of the other routes."""
    return await run_in_threadpool(_purchase, request, body, api_key, bearer)


def _purchase(
    request: Request, body: PurchaseIn, api_key: str | None, bearer: HTTPAuthorizationCredentials | None
) -> PurchaseOut:
    services = get_services(request)
    channel = api_principal(request, services, api_key, bearer)
    if channel.role != "channel":
        raise Forbidden()
    limiter = get_limiter(request)
    limits = get_limits(request)
    limiter.hit(
        f"channel:{channel.subject}", channel_purchase_limit(channel.purchases_per_minute, limits.channel_tokens)
    )
    result = services.call(
        services.vending.purchase,
        channel.subject,
        body.channel_reference,
        body.identifier,
        body.nominal,
    )
    return PurchaseOut.of(result)


@router.post(
    "/confirm",
    response_model=ConfirmOut,
    responses=_ERRORS,
    summary="The token reached the customer (until then it is an unsold token)",
)
def confirm(body: ReferenceIn, channel: CurrentChannel, services: ServicesDep) -> ConfirmOut:
    services.call(services.vending.confirm_delivery, channel.subject, body.channel_reference)
    return ConfirmOut(channel_reference=body.channel_reference)


@router.post(
    "/advice",
    response_model=PurchaseOut,
    responses=_ERRORS,
    summary="The answer again for a purchase whose response was lost",
)
def advice(
    body: ReferenceIn,
    channel: CurrentChannel,
    services: ServicesDep,
    limiter: LimiterDep,
    limits: LimitsDep,
) -> PurchaseOut:
    limiter.hit(
        f"channel:{channel.subject}", channel_purchase_limit(channel.purchases_per_minute, limits.channel_tokens)
    )
    result = services.call(services.vending.advice, channel.subject, body.channel_reference)
    return PurchaseOut.of(result)


@router.post(
    "/reprint",
    response_model=PurchaseListOut,
    responses=_ERRORS,
    summary="The last tokens of a meter or IDPEL sold through this channel, newest first",
)
def reprint(
    body: ReprintIn,
    channel: CurrentChannel,
    services: ServicesDep,
    limiter: LimiterDep,
    limits: LimitsDep,
) -> PurchaseListOut:
    limiter.hit(
        f"channel:{channel.subject}", channel_purchase_limit(channel.purchases_per_minute, limits.channel_tokens)
    )
    results = services.call(services.vending.reprint, body.identifier, limit=body.limit)
    return PurchaseListOut(purchases=[PurchaseOut.of(r) for r in results if r.channel == channel.subject])
