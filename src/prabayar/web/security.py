"""Who is calling (``Principal``), signed revocable bearer tokens for the API, CSRF tokens for forms.

Passwords are checked by ``prabayar.vending`` (argon2id); nothing here sees a password hash.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user of the web app or a payment channel.

    ``role`` is one of ``channel``, ``customer``, ``operator``, ``admin``. ``subject`` is the user
    name or the channel code; ``customer_id`` the IDPEL a customer owns (else None).
    """

    role: str
    subject: str
    display_name: str
    customer_id: str | None = None
    #: a channel's own purchase limit per minute (0 = unlimited, None = the app's default)
    purchases_per_minute: int | None = None


ROLES = ("channel", "customer", "operator", "admin")
TOKEN_LIFETIME_SECONDS = 3600


@dataclass(frozen=True)
class TokenClaims:
    """What a bearer token says: who, which role, and its own id and issue time (for revocation)."""

    username: str
    role: str
    idpel: str | None
    jti: str
    issued_at: float


class TokenSigner:
    """Short-lived signed bearer tokens carrying a user's name and role, an id and the issue time.

    The signature makes them unforgeable; revocation (log-out, an operator ending a user's
    access) is checked against :mod:`prabayar.web.state` by the token's id and issue time.
    """

    def __init__(self, secret: str, max_age_seconds: int = TOKEN_LIFETIME_SECONDS) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="prabayar.api-token")
        self.max_age_seconds = max_age_seconds

    def issue(self, principal: Principal) -> str:
        return self._serializer.dumps(
            {
                "u": principal.subject,
                "r": principal.role,
                "c": principal.customer_id,
                "j": secrets.token_urlsafe(16),
                "t": time.time(),
            }
        )

    def claims(self, token: str) -> TokenClaims | None:
        """The claims of a valid unexpired token, else None."""
        try:
            data = self._serializer.loads(token, max_age=self.max_age_seconds)
        except (SignatureExpired, BadSignature):
            return None
        if not isinstance(data, dict):
            return None
        username, role, idpel = data.get("u"), data.get("r"), data.get("c")
        jti, issued = data.get("j"), data.get("t")
        if not isinstance(username, str) or role not in ROLES or role == "channel":
            return None
        if idpel is not None and not isinstance(idpel, str):
            return None
        if not isinstance(jti, str) or not isinstance(issued, float | int) or isinstance(issued, bool):
            return None
        return TokenClaims(username, str(role), idpel, jti, float(issued))

    def read(self, token: str) -> tuple[str, str, str | None] | None:
        """(username, role, idpel) from a valid unexpired token, else None."""
        found = self.claims(token)
        return None if found is None else (found.username, found.role, found.idpel)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing value never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
