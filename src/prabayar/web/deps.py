"""FastAPI dependencies as ``Annotated`` aliases: the services, who is calling, and the limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from prabayar.web.clientaddr import client_address
from prabayar.web.errors import Forbidden, NotAuthenticated, UnknownChannel
from prabayar.web.ratelimit import Limit, LoginPolicy, LoginThrottle, RateLimiter
from prabayar.web.security import Principal, TokenSigner
from prabayar.web.services import Services


@dataclass(frozen=True)
class Limits:
    """Rate limits; the app keeps one instance in ``app.state.limits`` (tests pass smaller ones).

    ``channel_tokens`` is the default per-channel purchase limit; a channel row's own
    ``purchases_per_minute`` (when set) replaces it, 0 meaning unlimited
    (:func:`channel_purchase_limit`).
    """

    login: LoginPolicy = field(default_factory=LoginPolicy)
    api_key_failures: Limit = field(default_factory=lambda: Limit(20, 60))
    channel_tokens: Limit = field(default_factory=lambda: Limit(600, 60))
    customer_tokens: Limit = field(default_factory=lambda: Limit(30, 60))
    operator_tokens: Limit = field(default_factory=lambda: Limit(60, 60))
    meter_entries: Limit = field(default_factory=lambda: Limit(60, 60))


def channel_purchase_limit(per_minute: int | None, default: Limit) -> Limit:
    """The purchase limit of a channel: its own per-minute figure (0 = unlimited) or the default."""
    if per_minute is None:
        return default
    return Limit(max(0, int(per_minute)), 60)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def get_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def get_limits(request: Request) -> Limits:
    limits: Limits = request.app.state.limits
    return limits


ServicesDep = Annotated[Services, Depends(get_services)]
LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
ThrottleDep = Annotated[LoginThrottle, Depends(get_throttle)]

api_key_scheme = APIKeyHeader(name="X-Api-Key", auto_error=False, description="A payment channel's own API key.")
bearer_scheme = HTTPBearer(auto_error=False, description="A user's token from POST /api/v1/auth/token.")


def api_principal(
    request: Request,
    services: ServicesDep,
    api_key: Annotated[str | None, Security(api_key_scheme)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
) -> Principal:
    """The caller of an API endpoint: a channel (``X-Api-Key``) or a user (bearer token).

    Wrong API keys are counted per client address: past ``Limits.api_key_failures`` (20 a
    minute) every key from that address gets 429 until the window slides, so a guesser cannot
    tell a right key from a wrong one by the answer.
    """
    if api_key:
        limiter: RateLimiter = request.app.state.rate_limiter
        limits: Limits = request.app.state.limits
        key = f"api-key-fail:{client_address(request)}"
        limiter.check(key, limits.api_key_failures)
        try:
            return services.channel_for_key(api_key)
        except UnknownChannel:
            limiter.hit(key, limits.api_key_failures)
            raise
    if bearer is not None and bearer.credentials:
        signer: TokenSigner = request.app.state.token_signer
        claims = signer.claims(bearer.credentials)
        if claims is None or request.app.state.shared_state.token_revoked(
            claims.jti, claims.username, claims.issued_at
        ):
            raise NotAuthenticated(
                "Token akses tidak valid atau kedaluwarsa.", "The access token is invalid or expired."
            )
        request.state.token_claims = claims
        return Principal(
            role=claims.role, subject=claims.username, display_name=claims.username, customer_id=claims.idpel
        )
    raise NotAuthenticated()


ApiPrincipal = Annotated[Principal, Depends(api_principal)]


def _require(*roles: str):  # type: ignore[no-untyped-def]
    def check(principal: ApiPrincipal) -> Principal:
        if principal.role not in roles:
            raise Forbidden()
        return principal

    return check


CurrentChannel = Annotated[Principal, Depends(_require("channel"))]
CurrentCustomer = Annotated[Principal, Depends(_require("customer"))]
CurrentOperator = Annotated[Principal, Depends(_require("operator", "admin"))]
CurrentAdmin = Annotated[Principal, Depends(_require("admin"))]
CurrentUser = Annotated[Principal, Depends(_require("customer", "operator", "admin"))]
