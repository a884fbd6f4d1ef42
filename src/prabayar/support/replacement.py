"""Meter replacement for a complaint ticket: vending's ``replace_meter`` use case, in support's terms.

Vending records the replacement as a request that an admin other than the maker (and other than
whoever recorded the inspection) approves; only then does it register the new meter, mark the
old one replaced and issue the remaining credit as a token for the new meter (one transaction,
audited). Support adds the ticket step around it (``TicketService.replace_meter``) and speaks its
own error type, except for permission errors, which stay vending's ``NotAuthorized``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from prabayar.support.errors import SupportError
from prabayar.support.text import Text
from prabayar.vending import ApprovalRequest, NotAuthorized, VendingError, VendingService


class ReplacementError(SupportError):
    """The replacement cannot be done as asked (unknown meter, number taken, above the cap, ...)."""


@dataclass(frozen=True)
class Replacement:
    old_meter_number: str
    new_meter_number: str
    carried_kwh: Decimal
    token: str | None  # credit for the new meter; None when nothing was left to carry

    @classmethod
    def of(cls, request: ApprovalRequest) -> Replacement:
        """What an approved ``meter_replacement`` request did."""
        p = request.payload
        token = request.tokens[0] if request.tokens else None
        carried = Decimal(p["carried_kwh"]) if token else Decimal(0)
        return cls(p["old_meter_number"], p["new_meter_number"], carried, token)


def replace_meter(
    service: VendingService,
    operator: str,
    old_meter_number: str,
    new_meter_number: str,
    carried_kwh: Decimal,
    reason: str,
    *,
    inspector: str | Sequence[str] | None = None,
    ticket: str | None = None,
) -> ApprovalRequest:
    """Ask for the swap (pending approval); the carried credit is rounded down, capped by vending."""
    try:
        return service.replace_meter(
            operator, old_meter_number, new_meter_number, carried_kwh, reason,
            inspector=inspector, context={"ticket": ticket} if ticket else None,
        )  # fmt: skip
    except NotAuthorized:
        raise
    except VendingError as exc:
        raise ReplacementError(Text(exc.message_id, exc.message_en)) from exc
