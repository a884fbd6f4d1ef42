"""Complaint tickets in the back office database (same declarative Base as vending).

Tables are prefixed ``support_`` so that they are clearly ours; the schema is created by the
support revision in the vending migration chain (``*_support_tickets.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from prabayar.vending.models import Base, Purchase
from prabayar.vending.types import UTCDateTime


class TicketRow(Base):
    """One complaint (pengaduan): who, about which meter, from which channel, where it stands."""

    __tablename__ = "support_tickets"
    __table_args__ = (
        Index("ix_support_tickets_status_due", "status", "resolution_due"),
        Index("ix_support_tickets_idpel", "idpel"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    meter_number: Mapped[str] = mapped_column(String(13), index=True)
    idpel: Mapped[str] = mapped_column(String(12))
    contact: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: The diagnosis as JSON (Diagnosis.as_dict()), attached when the ticket was opened.
    diagnosis: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    technician: Mapped[str | None] = mapped_column(String(64))
    visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    inspection_note: Mapped[str | None] = mapped_column(Text)
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    installation_ok: Mapped[bool | None] = mapped_column()
    resolution: Mapped[str | None] = mapped_column(Text)
    #: Tokens handed out by a closing action (clear tamper, key change, credit transfer).
    issued_tokens: Mapped[str | None] = mapped_column(Text)
    replacement_meter: Mapped[str | None] = mapped_column(String(13))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    response_due: Mapped[datetime] = mapped_column(UTCDateTime())
    resolution_due: Mapped[datetime] = mapped_column(UTCDateTime())
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    events: Mapped[list[TicketEventRow]] = relationship(back_populates="ticket", order_by="TicketEventRow.id")


class TicketEventRow(Base):
    """One step of a ticket's history (also written to the vending audit log)."""

    __tablename__ = "support_ticket_events"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("support_tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    ticket: Mapped[TicketRow] = relationship(back_populates="events")


# "Which meter was this token sold for?" opens every wrong-meter case: index the ledger's token.
Index("ix_support_purchases_token", Purchase.token)
