"""Browser sessions kept on the server: the cookie carries only an opaque random id.

Pure ASGI middleware. The session's content (who is signed in, the CSRF token, one-time notices
that may carry management tokens) lives in :mod:`prabayar.web.state` (database or Redis), so a
copied cookie ends with "Keluar" or an operator's revocation, nothing readable travels to the
browser, and every server process sees the same sessions. ``request.session`` is a plain dict.

API paths (``/api/``) never touch the store: they authenticate with keys or bearer tokens.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prabayar.web.state import SharedState

ROTATE = "prabayar.session_rotate"
TOUCH_AFTER_SECONDS = 600  # an unchanged session's expiry moves forward at most this often


def rotate_session(request: Request) -> None:
    """Give the session a new id when the response is sent (after log-in: no session fixation)."""
    request.scope[ROTATE] = True


def _user_of(data: dict[str, Any]) -> str | None:
    user = data.get("user")
    name = user.get("u") if isinstance(user, dict) else None
    return name if isinstance(name, str) else None


class ServerSessionMiddleware:
    """Loads ``scope["session"]`` from the shared store by the cookie's id; saves it if changed."""

    def __init__(
        self,
        app: ASGIApp,
        state: SharedState,
        *,
        cookie: str = "prabayar_session",
        max_age: int = 8 * 3600,
        anonymous_max_age: int = 3600,
        secure: bool = True,
        skip_prefix: str = "/api/",
    ) -> None:
        self.app = app
        self.state = state
        self.cookie = cookie
        self.max_age = max_age
        # A visitor who has not signed in (only a CSRF token for the log-in form) is kept for a
        # shorter time, so anonymous page views do not pile up rows in the store.
        self.anonymous_max_age = min(anonymous_max_age, max_age)
        self.flags = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
        self.skip_prefix = skip_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.skip_prefix):
            if scope["type"] == "http":
                scope["session"] = {}
            await self.app(scope, receive, send)
            return

        session_id = HTTPConnection(scope).cookies.get(self.cookie)
        loaded: tuple[dict[str, Any], float] | None = None
        if session_id and 20 <= len(session_id) <= 128:
            loaded = await run_in_threadpool(self.state.load_session, session_id)
        else:
            session_id = None
        data: dict[str, Any] = loaded[0] if loaded else {}
        before = json.dumps(data, sort_keys=True)
        scope["session"] = data

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = await self._persist(scope, session_id, loaded, before)
                if cookie is not None:
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", cookie)
                    headers.add_vary_header("Cookie")
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def _persist(
        self,
        scope: Scope,
        session_id: str | None,
        loaded: tuple[dict[str, Any], float] | None,
        before: str,
    ) -> str | None:
        """Save what changed; the Set-Cookie value to send, if any."""
        data: dict[str, Any] = scope.get("session") or {}
        rotate = bool(scope.get(ROTATE))
        changed = json.dumps(data, sort_keys=True) != before
        if not data:
            if loaded is not None and session_id:
                await run_in_threadpool(self.state.delete_session, session_id)
            if session_id:  # ended, unknown or expired: tell the browser to forget the cookie
                return f"{self.cookie}=; Max-Age=0; {self.flags}"
            return None
        if rotate or loaded is None or not session_id:
            if loaded is not None and session_id:
                await run_in_threadpool(self.state.delete_session, session_id)
            session_id = secrets.token_urlsafe(32)
            changed = True
        user = _user_of(data)
        ttl = self.max_age if user else self.anonymous_max_age
        if not changed and loaded is not None and loaded[1] - time.time() > ttl - TOUCH_AFTER_SECONDS:
            return None  # unchanged and recently extended
        await run_in_threadpool(self.state.save_session, session_id, data, user, ttl)
        return f"{self.cookie}={session_id}; Max-Age={ttl}; {self.flags}"
