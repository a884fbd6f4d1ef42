"""Meter replacement for a complaint ticket: vending's ``replace_meter`` use case, in support's terms.

Vending registers the new meter, marks the old one replaced and issues the remaining credit as
a token for the new meter (one transaction, audited); support adds the ticket step around it
(``TicketService.replace_meter``) and speaks its own error type.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from prabayar import sts
from prabayar.support.errors import SupportError
from prabayar.support.text import Text
from prabayar.vending import VendingError, VendingService


class ReplacementError(SupportError):
    """The replacement cannot be done as asked (unknown meter, number taken, ...)."""


@dataclass(frozen=True)
class Replacement:
    old_meter_number: str
    new_meter_number: str
    carried_kwh: Decimal
    token: str | None  # credit for the new meter; None when nothing was left to carry


def replace_meter(
    service: VendingService,
    operator: str,
    old_meter_number: str,
    new_meter_number: str,
    carried_kwh: Decimal,
    reason: str,
) -> Replacement:
    """Swap the customer's meter and issue the carried-over credit for the new one."""
    try:
        done = service.replace_meter(operator, old_meter_number, new_meter_number, carried_kwh, reason)
    except VendingError as exc:
        raise ReplacementError(Text(exc.message_id, exc.message_en)) from exc
    token = done.tokens[0] if done.tokens else None
    # what the token carries: vending rounds the asked amount up to what a token can hold
    carried = sts.amount.representable(carried_kwh) if token else Decimal(0)
    return Replacement(old_meter_number, done.meter_number, carried, token)
