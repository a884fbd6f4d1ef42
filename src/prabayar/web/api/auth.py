"""Log-in for API users (customers, operators, admins): a short-lived signed bearer token;
log-out, which revokes it for every server process; and an operator ending a user's access."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from prabayar.web.api.schemas import LoginIn, MeOut, Strict, TokenOut, error_responses
from prabayar.web.clientaddr import client_address
from prabayar.web.deps import CurrentOperator, CurrentUser, ServicesDep, ThrottleDep
from prabayar.web.errors import InvalidCredentials
from prabayar.web.security import TokenClaims, TokenSigner
from prabayar.web.services import Services

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses=error_responses(401, 422, 429),
    summary="Exchange a user name and password for a bearer token",
    description="Failed log-ins are throttled per (user name, client address) and per client address "
    "with growing delays (429 with Retry-After); a successful log-in never counts.",
)
def issue_token(body: LoginIn, request: Request, services: ServicesDep, throttle: ThrottleDep) -> TokenOut:
    client = client_address(request)
    throttle.check(body.username, client)
    try:
        principal = services.login(body.username, body.password)
    except InvalidCredentials:
        throttle.failed(body.username, client)
        raise
    throttle.succeeded(body.username, client)
    signer: TokenSigner = request.app.state.token_signer
    return TokenOut(
        access_token=signer.issue(principal),
        expires_in=signer.max_age_seconds,
        role=principal.role,
    )


@router.post(
    "/auth/logout",
    status_code=204,
    responses=error_responses(401, 403),
    summary="Revoke the bearer token of this request (for every server process)",
)
def logout(request: Request, user: CurrentUser) -> Response:
    claims: TokenClaims = request.state.token_claims
    signer: TokenSigner = request.app.state.token_signer
    request.app.state.shared_state.revoke_token(claims.jti, claims.issued_at + signer.max_age_seconds + 1)
    return Response(status_code=204)


@router.get(
    "/me",
    response_model=MeOut,
    responses=error_responses(401, 403),
    summary="Who the bearer token belongs to",
)
def me(user: CurrentUser) -> MeOut:
    return MeOut(username=user.subject, role=user.role, idpel=user.customer_id)


class RevokeIn(Strict):
    reason: str = Field(min_length=1, max_length=500, description="why (kept in the audit log)")


class RevokeOut(BaseModel):
    username: str
    role: str
    sessions_ended: int = Field(description="browser sessions that were open and are now ended")
    tokens_revoked: bool = Field(default=True, description="every bearer token issued before now is refused")


def revoke_access(request: Request, services: Services, actor: str, username: str, reason: str) -> RevokeOut:
    """The rule and the audit row in vending, then the shared session store (used by page and CLI)."""
    role = services.call(services.vending.record_access_revocation, actor, username, reason)
    signer = request.app.state.token_signer
    ended = request.app.state.shared_state.revoke_user(username, signer.max_age_seconds)
    return RevokeOut(username=username, role=role, sessions_ended=ended)


@router.post(
    "/operator/users/{username}/revoke-sessions",
    tags=["operator"],
    response_model=RevokeOut,
    responses=error_responses(401, 403, 422),
    summary="End every browser session and bearer token of a user (operators: not an admin's)",
)
def revoke_sessions(
    body: RevokeIn,
    request: Request,
    operator: CurrentOperator,
    services: ServicesDep,
    username: str = Path(min_length=1, max_length=64),
) -> RevokeOut:
    return revoke_access(request, services, operator.subject, username, body.reason)
