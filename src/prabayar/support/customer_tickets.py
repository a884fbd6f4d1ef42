"""What a customer may do with their own complaint tickets: reply, confirm the fix, reopen.

Over :class:`~prabayar.support.ticket_service.TicketService` (same rows, same history): a reply
is a ``comment`` step by the customer, a confirmation closes a resolved ticket, a reopen (with
the customer's reason, required) sends a resolved ticket back to the agents. Every step is an
event of the ticket, so the customer's page lists each status change with who made it.

Ownership is checked here, not by the face: the ticket's IDPEL must be one of the customer's
(their own and the ones their login added, see ``prabayar.vending.customer_accounts``); a
stranger's ticket reads as not found.
"""

from __future__ import annotations

from collections.abc import Collection

from prabayar.support.errors import SupportError, TicketNotFound, TicketTransitionError
from prabayar.support.text import Text
from prabayar.support.ticket_service import TicketService
from prabayar.support.tickets import Ticket, TicketStatus

MAX_REPLY = 2000


def customer_steps(ticket: Ticket) -> tuple[str, ...]:
    """The customer's choices now: ``reply`` while the ticket is not closed; ``confirm`` and
    ``reopen`` once the agents resolved it."""
    if ticket.status is TicketStatus.CLOSED:
        return ()
    if ticket.status is TicketStatus.RESOLVED:
        return ("reply", "confirm", "reopen")
    return ("reply",)


class CustomerTickets:
    """A customer's ticket steps, each checked against the ticket's state and owner."""

    def __init__(self, tickets: TicketService) -> None:
        self.tickets = tickets

    def own(self, number: str, idpels: Collection[str]) -> Ticket:
        ticket = self.tickets.get(number)
        if ticket.idpel not in idpels:
            raise TicketNotFound(number)
        return ticket

    def _require(self, ticket: Ticket, step: str) -> None:
        if step not in customer_steps(ticket):
            raise TicketTransitionError(
                Text(
                    f"Tiket {ticket.number} berstatus {ticket.status.value}: langkah ini tidak tersedia.",
                    f"Ticket {ticket.number} is {ticket.status.value}: this step is not available.",
                )
            )

    def reply(self, number: str, idpels: Collection[str], actor: str, text: str) -> Ticket:
        ticket = self.own(number, idpels)
        self._require(ticket, "reply")
        words = text.strip()
        if not words or len(words) > MAX_REPLY:
            raise SupportError(Text("Tulis balasan (1-2000 karakter).", "Write a reply (1-2000 characters)."))
        return self.tickets.comment(number, words, actor)

    def confirm(self, number: str, idpels: Collection[str], actor: str) -> Ticket:
        """The customer confirms the fix: the resolved ticket is closed."""
        ticket = self.own(number, idpels)
        self._require(ticket, "confirm")
        return self.tickets.close(number, actor)

    def reopen(self, number: str, idpels: Collection[str], actor: str, reason: str) -> Ticket:
        """Not fixed after all: back to the agents with the customer's reason."""
        ticket = self.own(number, idpels)
        self._require(ticket, "reopen")
        if len(reason.strip()) < 5:
            raise SupportError(
                Text("Jelaskan mengapa masalahnya belum selesai.", "Say why the problem is not solved.")
            )
        return self.tickets.reopen(number, reason.strip()[:MAX_REPLY], actor)
