"""Rows of the customer-account use cases (:mod:`prabayar.vending.customer_accounts`).

Migration ``u001_customer_accounts``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from prabayar.vending.models import Base
from prabayar.vending.types import UTCDateTime


class AccountLinkRow(Base):
    """A further customer (IDPEL) a web login may see, after it proved ownership."""

    __tablename__ = "account_links"
    __table_args__ = (UniqueConstraint("user_id", "customer_id", name="uq_account_links_user_customer"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_accounts.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    #: how ownership was shown: ``token`` (a recent token of the meter) or ``idpel`` (meter + IDPEL)
    verified_by: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PasswordResetRow(Base):
    """A one-time password reset code an operator issued (only its argon2 hash is kept)."""

    __tablename__ = "password_resets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_accounts.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    issued_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
