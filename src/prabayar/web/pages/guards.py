"""Page-side guards: who is signed in, role checks and CSRF on every form post."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from prabayar.web.errors import CsrfFailed, Forbidden, NotAuthenticated
from prabayar.web.pages.rendering import session_user
from prabayar.web.security import Principal, csrf_matches


def _page_user(*roles: str):  # type: ignore[no-untyped-def]
    def check(request: Request) -> Principal:
        user = session_user(request)
        if user is None:
            raise NotAuthenticated()
        if user.role not in roles:
            raise Forbidden()
        return user

    return check


async def csrf_protected(request: Request) -> None:
    """Refuse a form post whose ``csrf_token`` does not match the session's."""
    form = await request.form()
    given = form.get("csrf_token")
    if not csrf_matches(request.session.get("csrf"), given if isinstance(given, str) else None):
        raise CsrfFailed()


PageCustomer = Annotated[Principal, Depends(_page_user("customer"))]
PageOperator = Annotated[Principal, Depends(_page_user("operator", "admin"))]
PageUser = Annotated[Principal, Depends(_page_user("customer", "operator", "admin"))]
Csrf = Annotated[None, Depends(csrf_protected)]
