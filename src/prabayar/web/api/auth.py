"""Log-in for API users (customers, operators, admins): a short-lived signed bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Request

from prabayar.web.api.schemas import LoginIn, MeOut, TokenOut, error_responses
from prabayar.web.deps import CurrentUser, LimiterDep, LimitsDep, ServicesDep, client_address
from prabayar.web.security import TokenSigner

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses=error_responses(401, 422, 429),
    summary="Exchange a user name and password for a bearer token",
)
def issue_token(
    body: LoginIn, request: Request, services: ServicesDep, limiter: LimiterDep, limits: LimitsDep
) -> TokenOut:
    limiter.hit(f"login-ip:{client_address(request)}", limits.login_per_client)
    limiter.hit(f"login-user:{body.username.lower()}", limits.login_per_user)
    principal = services.login(body.username, body.password)
    limiter.reset(f"login-user:{body.username.lower()}")
    signer: TokenSigner = request.app.state.token_signer
    return TokenOut(
        access_token=signer.issue(principal),
        expires_in=signer.max_age_seconds,
        role=principal.role,
    )


@router.get(
    "/me",
    response_model=MeOut,
    responses=error_responses(401, 403),
    summary="Who the bearer token belongs to",
)
def me(user: CurrentUser) -> MeOut:
    return MeOut(username=user.subject, role=user.role, idpel=user.customer_id)
