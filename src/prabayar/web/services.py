"""The web face's single door to the back office: vending use cases, with their typed errors
turned into the face's error model (HTTP status + PLN response code + both messages).

Routes hold no business rules; they call these methods. Everything here delegates to
``prabayar.vending.VendingService``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import text

from prabayar.config import Settings
from prabayar.web.errors import (
    InvalidCredentials,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    UnknownChannel,
    WebError,
)
from prabayar.web.security import Principal

log = logging.getLogger("prabayar.web.services")

T = TypeVar("T")

# PLN response code -> HTTP status for vending's typed errors.
_STATUS_BY_CODE = {
    "0013": 422,
    "0014": 404,
    "0015": 404,
    "0031": 401,
    "0041": 422,
    "0042": 422,
    "0047": 422,
    "0077": 403,
    "0090": 503,
    "0092": 404,
    "0093": 409,
    "0099": 503,
}
# Errors sharing the generic 0005 code, by class name -> (HTTP status, slug).
_BY_NAME = {
    "AuthenticationFailed": (401, "invalid_credentials"),
    "NotAuthorized": (403, "forbidden"),
    "AdminRequired": (403, "admin_required"),
    "FourEyesViolation": (403, "four_eyes"),
    "ApprovalNotFound": (404, "approval_not_found"),
    "ApprovalNotPending": (409, "approval_not_pending"),
    "UnknownCampaign": (404, "campaign_not_found"),
    "CampaignNotRunnable": (409, "campaign_not_approved"),
    "CarriedCreditAboveCap": (422, "carried_credit_above_cap"),
    "ReasonRequired": (422, "reason_required"),
    "KeyChangeRequired": (409, "key_change_required"),
    "KeyUnavailable": (503, "key_unavailable"),
    "InvalidRequest": (422, "invalid_request"),
    "InvalidField": (422, "invalid_request"),
}
_SLUG_BY_CODE = {
    "0013": "denomination_not_allowed",
    "0014": "unknown_meter",
    "0015": "unknown_idpel",
    "0031": "unregistered_channel",
    "0041": "below_minimum",
    "0042": "above_maximum",
    "0047": "monthly_kwh_cap",
    "0077": "customer_blocked",
    "0090": "cut_off",
    "0092": "unknown_reference",
    "0093": "reference_conflict",
    "0099": "in_process",
}


def web_error_from(exc: Exception) -> WebError:
    """The face's view of a vending error (status, PLN code, slug, both messages)."""
    code = str(getattr(exc, "code", "0005"))
    name = type(exc).__name__
    if name in _BY_NAME and code == "0005":
        status, slug = _BY_NAME[name]
    else:
        status = _STATUS_BY_CODE.get(code, 400)
        slug = _SLUG_BY_CODE.get(code, "rejected")
    headers = {"Retry-After": "60"} if status == 503 else None
    return WebError(
        getattr(exc, "message_id", None),
        getattr(exc, "message_en", None),
        status_code=status,
        response_code=code,
        slug=slug,
        headers=headers,
    )


@dataclass(frozen=True)
class AppChannel:
    """The sales channel the web app itself sells through (the PLN-Mobile-like app)."""

    code: str
    name: str
    nominals: tuple[int, ...]


class Services:
    """Vending use cases for the faces, with errors already in the web's error model."""

    def __init__(self, vending: Any) -> None:
        self.vending = vending

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        from prabayar.vending import open_service

        return cls(open_service(settings))

    @contextmanager
    def _translated(self) -> Iterator[None]:
        from prabayar.vending import VendingError

        try:
            yield
        except VendingError as exc:
            raise web_error_from(exc) from exc

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one vending use case; its typed error becomes a :class:`WebError`."""
        with self._translated():
            return fn(*args, **kwargs)

    # --- readiness -------------------------------------------------------------------------
    def check_ready(self) -> None:
        """Raise :class:`ServiceUnavailable` unless the database answers."""
        engine = getattr(self.vending, "engine", None)
        if engine is None:
            raise ServiceUnavailable()
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("readiness check failed: %s", type(exc).__name__)
            raise ServiceUnavailable() from exc

    # --- accounts --------------------------------------------------------------------------
    def login(self, username: str, password: str) -> Principal:
        from prabayar.vending import VendingError

        try:
            found = self.vending.authenticate_user(username, password)
        except VendingError as exc:
            raise InvalidCredentials() from exc
        return Principal(
            role=found.role,
            subject=found.username,
            display_name=found.username,
            customer_id=found.idpel,
        )

    def channel_for_key(self, api_key: str) -> Principal:
        from prabayar.vending import VendingError

        try:
            info = self.vending.authenticate_channel(api_key)
        except VendingError as exc:
            raise UnknownChannel() from exc
        return Principal(
            role="channel",
            subject=info.code,
            display_name=info.name,
            purchases_per_minute=getattr(info, "purchases_per_minute", None),
        )

    def app_channel(self) -> AppChannel:
        """The channel of kind ``app`` (PLN-Mobile-like) that web customers buy through."""
        channels = self.call(self.vending.channels)
        for info in channels:
            if str(getattr(info, "kind", "")).lower().endswith("app"):
                nominals = info.allowed_nominals or (20_000, 50_000, 100_000, 200_000, 500_000)
                return AppChannel(info.code, info.name, tuple(nominals))
        raise ServiceUnavailable("Kanal aplikasi belum terdaftar.", "No app sales channel is registered.")

    # --- a customer's own data ---------------------------------------------------------------
    def customer_meters(self, customer: Principal) -> list[Any]:
        """The meters of the logged-in customer (empty for an account without IDPEL)."""
        if customer.role != "customer":
            return []
        # its own customer's meters and those of the customers it added (proof of ownership)
        return list(self.call(self.vending.account_meters, customer.subject))

    def owns_meter(self, customer: Principal, meter_number: str) -> bool:
        return any(m.meter_number == meter_number for m in self.customer_meters(customer))

    def customer_purchases(self, customer: Principal, limit: int) -> list[Any]:
        """Purchases for all of the customer's meters, newest first."""
        if customer.role != "customer":
            return []
        return list(self.call(self.vending.purchase_history, customer.subject, limit=limit).items)

    def purchase_history(self, customer: Principal, **filters: Any) -> Any:
        """One page of the customer's purchases (``search``, ``since``, ``until``, ``offset``,
        ``limit``): a :class:`prabayar.vending.customer_accounts.HistoryPage`."""
        return self.call(self.vending.purchase_history, customer.subject, **filters)

    def channel_names(self) -> dict[str, str]:
        """Channel code -> the name people know it by (``PLNAPP`` -> ``Aplikasi PLN Demo``)."""
        return {info.code: info.name for info in self.call(self.vending.channels)}

    # --- operators -------------------------------------------------------------------------
    def issue_management_token(
        self,
        operator: str,
        meter_number: str,
        kind: str,
        reason: str,
        *,
        watts: int | None = None,
        register: int = 0,
        rollover: bool = False,
    ) -> Any:
        """One management token (or a key-change set), audited by vending with the reason."""
        vending = self.vending
        if kind == "clear_tamper":
            return self.call(vending.clear_tamper, operator, meter_number, reason)
        if kind == "clear_credit":
            return self.call(vending.clear_credit, operator, meter_number, reason, register=register)
        if kind == "set_power_limit":
            if watts is None:
                raise InvalidRequest("Batas daya (watt) wajib diisi.", "The power limit in watts is required.")
            return self.call(vending.set_power_limit, operator, meter_number, watts, reason)
        if kind == "key_change":
            return self.call(vending.key_change, operator, meter_number, reason, rollover=rollover)
        raise InvalidRequest("Jenis token tidak dikenal.", f"Unknown management token kind {kind!r}.")

    def lookup_customer(self, identifier: str, *, _hops: int = 0) -> list[Any]:
        """All meters of the customer behind an IDPEL or meter number, whatever their status.

        By IDPEL this reads the customer's meters directly. By meter number it asks the inquiry,
        which refuses a blocked customer (0077) and a replaced meter (0014): an operator must
        still find those, so the refusal's own facts lead to the customer (the blocked IDPEL,
        the replacement meter of the same customer).
        """
        from prabayar.vending.errors import CustomerBlocked, MeterReplaced

        idpel = identifier
        if len(identifier) != 12:
            with self._translated():
                try:
                    idpel = self.vending.inquiry(identifier).idpel
                except CustomerBlocked as exc:
                    if len(exc.identifier) != 12:
                        raise  # the meter itself is blocked: nothing leads further
                    idpel = exc.identifier
                except MeterReplaced as exc:
                    if not exc.replacement or _hops >= 8:  # a chain of replacements, never a loop
                        raise
                    return self.lookup_customer(exc.replacement, _hops=_hops + 1)
        meters = list(self.call(self.vending.customer_meters, idpel))
        if not meters:
            raise NotFound("Pelanggan belum memiliki meter.", "The customer has no meter.")
        return meters

    # --- complaints (prabayar.support) -------------------------------------------------------
    def tickets(self) -> Any:
        """Support's ticket service over the same database."""
        from prabayar.support.ticket_service import TicketService

        return TicketService(self.vending)

    def open_complaint(
        self,
        customer: Principal,
        meter_number: str,
        category: str,
        description: str,
        contact: str,
    ) -> Any:
        """A complaint from the web app (support channel ``app``), for the customer's own meter."""
        from prabayar.support.errors import SupportError

        if not self.owns_meter(customer, meter_number):
            raise NotFound("Meter tidak ditemukan di akun Anda.", "This meter is not in your account.")
        try:
            return self.tickets().open(
                channel="app",
                identifier=meter_number,
                actor=customer.subject,
                category=category,
                description=description,
                contact=contact,
            )
        except SupportError as exc:
            raise InvalidRequest(exc.message.id, exc.message.en) from exc

    def customer_tickets(self, customer: Principal) -> list[Any]:
        if not customer.customer_id:
            return []
        return list(self.tickets().list(idpel=customer.customer_id, limit=20))
