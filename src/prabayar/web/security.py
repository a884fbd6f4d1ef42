"""Who is calling (``Principal``), signed bearer tokens for the API, CSRF tokens for forms.

Passwords are checked by ``prabayar.vending`` (argon2id); nothing here sees a password hash.
"""

from __future__ import annotations

import hmac
import secrets
import threading
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


ROLES = ("channel", "customer", "operator", "admin")


class TokenSigner:
    """Short-lived signed bearer tokens carrying a user's name and role (no server-side state)."""

    def __init__(self, secret: str, max_age_seconds: int = 3600) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="prabayar.api-token")
        self.max_age_seconds = max_age_seconds

    def issue(self, principal: Principal) -> str:
        return self._serializer.dumps({"u": principal.subject, "r": principal.role, "c": principal.customer_id})

    def read(self, token: str) -> tuple[str, str, str | None] | None:
        """(username, role, idpel) from a valid unexpired token, else None."""
        try:
            data = self._serializer.loads(token, max_age=self.max_age_seconds)
        except (SignatureExpired, BadSignature):
            return None
        if not isinstance(data, dict):
            return None
        username, role, idpel = data.get("u"), data.get("r"), data.get("c")
        if not isinstance(username, str) or role not in ROLES or role == "channel":
            return None
        if idpel is not None and not isinstance(idpel, str):
            return None
        return username, role, idpel


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing value never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class SessionRegistry:
    """Server-side list of signed-in browser sessions, so that logging out really ends one.

    The session cookie is signed, not stored; without this a copied cookie would stay valid until
    it expired even after "Keluar". In-process like the rate limiter (``prabayar serve`` is one
    process): a restart signs everyone out, which is the safe direction.
    """

    def __init__(self) -> None:
        self._active: set[str] = set()
        self._lock = threading.Lock()

    def open(self) -> str:
        """A new session id, now active."""
        sid = secrets.token_urlsafe(18)
        with self._lock:
            self._active.add(sid)
        return sid

    def is_active(self, sid: object) -> bool:
        """Whether ``sid`` names a session that has not been closed."""
        with self._lock:
            return isinstance(sid, str) and sid in self._active

    def close(self, sid: object) -> None:
        """End a session (logout); unknown ids are ignored."""
        with self._lock:
            if isinstance(sid, str):
                self._active.discard(sid)


# One registry per process, like the sessions it tracks (apps built in the same process, as the
# tests do, share it).
SESSIONS = SessionRegistry()
