"""Live chat rows (migration ``x001_chat``): a conversation and its messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from prabayar.vending.models import Base
from prabayar.vending.types import UTCDateTime


class ChatRow(Base):
    """One conversation: who, where it stands (bot, waiting, agent, closed), the assistant's
    state (JSON), the agent who took it and the ticket opened from it."""

    __tablename__ = "support_chats"
    __table_args__ = (
        Index("ix_support_chats_status", "status", "updated_at"),
        Index("ix_support_chats_customer", "customer", "status"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    customer: Mapped[str] = mapped_column(String(64))
    idpel: Mapped[str | None] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    agent: Mapped[str | None] = mapped_column(String(64))
    ticket_number: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChatMessageRow(Base):
    __tablename__ = "support_chat_messages"
    __table_args__ = (Index("ix_support_chat_messages_chat", "chat_id", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("support_chats.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: customer, bot, agent or system
    sender: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    #: JSON: the diagnosis attached to an assistant's answer, or the (id, en) texts of a bot line.
    payload: Mapped[str | None] = mapped_column(Text)
