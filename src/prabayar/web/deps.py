"""FastAPI dependencies as ``Annotated`` aliases: the services, who is calling, and the limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from prabayar.web.errors import Forbidden, NotAuthenticated
from prabayar.web.ratelimit import Limit, RateLimiter
from prabayar.web.security import Principal, TokenSigner
from prabayar.web.services import Services


@dataclass(frozen=True)
class Limits:
    """Rate limits; the app keeps one instance in ``app.state.limits`` (tests pass smaller ones)."""

    login_per_client: Limit = field(default_factory=lambda: Limit(20, 300))
    login_per_user: Limit = field(default_factory=lambda: Limit(8, 300))
    channel_tokens: Limit = field(default_factory=lambda: Limit(600, 60))
    customer_tokens: Limit = field(default_factory=lambda: Limit(30, 60))
    operator_tokens: Limit = field(default_factory=lambda: Limit(60, 60))
    meter_entries: Limit = field(default_factory=lambda: Limit(60, 60))


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def get_limits(request: Request) -> Limits:
    limits: Limits = request.app.state.limits
    return limits


ServicesDep = Annotated[Services, Depends(get_services)]
LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]
LimitsDep = Annotated[Limits, Depends(get_limits)]

api_key_scheme = APIKeyHeader(name="X-Api-Key", auto_error=False, description="A payment channel's own API key.")
bearer_scheme = HTTPBearer(auto_error=False, description="A user's token from POST /api/v1/auth/token.")


def api_principal(
    request: Request,
    services: ServicesDep,
    api_key: Annotated[str | None, Security(api_key_scheme)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
) -> Principal:
    """The caller of an API endpoint: a channel (``X-Api-Key``) or a user (bearer token)."""
    if api_key:
        return services.channel_for_key(api_key)
    if bearer is not None and bearer.credentials:
        signer: TokenSigner = request.app.state.token_signer
        claims = signer.read(bearer.credentials)
        if claims is None:
            raise NotAuthenticated(
                "Token akses tidak valid atau kedaluwarsa.", "The access token is invalid or expired."
            )
        username, role, idpel = claims
        return Principal(role=role, subject=username, display_name=username, customer_id=idpel)
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


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
