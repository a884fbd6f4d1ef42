"""The back office's tables (SQLAlchemy 2 typed ORM); the migrations create exactly these.

Purchase-path tables (purchases, monthly_usage, management_tokens) carry the meter number
itself so that they can later be distributed by meter; a purchase touches one meter only.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from prabayar.vending.types import ScaledDecimal, UTCDateTime

#: kWh are kept in hundredths, Rp/kWh in sen, tax rates in millionths.
KWH = ScaledDecimal(2)
RUPIAH_PER_KWH = ScaledDecimal(2)
RATE = ScaledDecimal(6)


class Base(DeclarativeBase):
    pass


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    #: The connection was ended (berhenti langganan): nothing is sold to it any more.
    CLOSED = "closed"


class MeterStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    REPLACED = "replaced"
    #: Taken off the customer's connection (it may be installed again, keeping its TIDs).
    REMOVED = "removed"
    #: Reported broken: no token is sold for it.
    BROKEN = "broken"


class Role(StrEnum):
    CUSTOMER = "customer"
    OPERATOR = "operator"
    ADMIN = "admin"


class ChannelKind(StrEnum):
    BANK = "bank"
    MINIMARKET = "minimarket"
    EWALLET = "ewallet"
    APP = "app"
    AGGREGATOR = "aggregator"


class Unit(Base):
    """A PLN unit (UID/UP3); the PBJT-TL rate depends on where the connection is."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    uid_name: Mapped[str] = mapped_column(String(80))
    up3_name: Mapped[str] = mapped_column(String(80))
    #: The unit a customer gets when none is named (bulk import); at most one is the default.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    tax_rates: Mapped[list[UnitTaxRate]] = relationship(back_populates="unit")


class TariffClass(Base):
    """A golongan tarif with its power band and Rp/kWh (PLN.md 2.1)."""

    __tablename__ = "tariff_classes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    #: What the receipt prints before the power, e.g. "R1".
    print_code: Mapped[str] = mapped_column(String(4))
    description: Mapped[str] = mapped_column(String(80))
    va_min: Mapped[int] = mapped_column(BigInteger)
    va_max: Mapped[int | None] = mapped_column(BigInteger)
    rp_per_kwh: Mapped[Decimal] = mapped_column(RUPIAH_PER_KWH)
    household: Mapped[bool] = mapped_column(Boolean)
    subsidised: Mapped[bool] = mapped_column(Boolean)


class UnitTaxRate(Base):
    """PBJT-TL rate for one tariff class in one unit's area."""

    __tablename__ = "unit_tax_rates"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    tariff_class_id: Mapped[int] = mapped_column(ForeignKey("tariff_classes.id"), primary_key=True)
    pbjt_rate: Mapped[Decimal] = mapped_column(RATE)
    unit: Mapped[Unit] = relationship(back_populates="tax_rates")


class Customer(Base):
    """A PLN customer, identified by the 12-digit IDPEL."""

    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idpel: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(25))
    address: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    tariff_class_id: Mapped[int] = mapped_column(ForeignKey("tariff_classes.id"))
    va: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=CustomerStatus.ACTIVE)
    #: Debt recovered by angsuran: what is still owed and the slice taken per purchase.
    debt_remaining: Mapped[int] = mapped_column(BigInteger, default=0)
    angsuran_per_purchase: Mapped[int] = mapped_column(BigInteger, default=0)
    phone: Mapped[str | None] = mapped_column(String(20))
    #: Why the customer is blocked or closed (the audit log keeps every change).
    status_reason: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[Unit] = relationship()
    tariff_class: Mapped[TariffClass] = relationship()
    meters: Mapped[list[Meter]] = relationship(back_populates="customer")


class Meter(Base):
    """A prepaid meter: its number, its STS key parameters and the last TID vended to it."""

    __tablename__ = "meters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meter_number: Mapped[str] = mapped_column(String(13), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=MeterStatus.ACTIVE)
    replaced_by: Mapped[str | None] = mapped_column(String(13))
    key_type: Mapped[int] = mapped_column(Integer)
    sgc: Mapped[str] = mapped_column(String(6))
    tariff_index: Mapped[str] = mapped_column(String(2))
    krn: Mapped[int] = mapped_column(Integer)
    ken: Mapped[int] = mapped_column(Integer, default=255)
    algorithm: Mapped[str] = mapped_column(String(2))
    base_date: Mapped[str] = mapped_column(String(2))
    dkga: Mapped[str] = mapped_column(String(2))
    #: Highest TID ever used for this meter: the next token gets a higher one.
    last_tid: Mapped[int] = mapped_column(BigInteger, default=0)
    customer: Mapped[Customer] = relationship(back_populates="meters")


class Channel(Base):
    """A sales channel (bank, minimarket, e-wallet, app) with its fee and denomination rules."""

    __tablename__ = "channels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    admin_fee_rule: Mapped[str] = mapped_column(Text)
    #: JSON list of nominals, or NULL for free amounts between min and max.
    allowed_nominals: Mapped[str | None] = mapped_column(Text)
    min_nominal: Mapped[int] = mapped_column(BigInteger)
    max_nominal: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Purchases per minute this channel may make (0 = unlimited).
    purchases_per_minute: Mapped[int] = mapped_column(Integer, default=600, server_default="600")
    #: Bumped whenever a key is rotated or the channel disabled: a cache of API keys compares it.
    key_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ChannelApiKey(Base):
    """A channel credential; only the SHA-256 of the key is kept."""

    __tablename__ = "channel_api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[Channel] = relationship()


class UserAccount(Base):
    """A login for the web app: customer, operator or admin (argon2 password hash)."""

    __tablename__ = "user_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    customer: Mapped[Customer | None] = relationship()


class VendingKeyRecord(Base):
    """A vending key for one supply group and key revision, AES-GCM encrypted at rest."""

    __tablename__ = "vending_keys"
    __table_args__ = (UniqueConstraint("sgc", "krn", name="uq_vending_keys_sgc_krn"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sgc: Mapped[str] = mapped_column(String(6))
    krn: Mapped[int] = mapped_column(Integer)
    dkga: Mapped[str] = mapped_column(String(2))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeterStock(Base):
    """A registered meter not yet installed on a customer (or broken before installation)."""

    __tablename__ = "meter_stock"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meter_number: Mapped[str] = mapped_column(String(13), unique=True)
    key_type: Mapped[int] = mapped_column(Integer)
    sgc: Mapped[str] = mapped_column(String(6))
    tariff_index: Mapped[str] = mapped_column(String(2))
    krn: Mapped[int] = mapped_column(Integer)
    ken: Mapped[int] = mapped_column(Integer)
    algorithm: Mapped[str] = mapped_column(String(2))
    base_date: Mapped[str] = mapped_column(String(2))
    dkga: Mapped[str] = mapped_column(String(2))
    #: "in_stock" or "broken".
    status: Mapped[str] = mapped_column(String(16))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by: Mapped[str] = mapped_column(String(64))


class TariffPrice(Base):
    """One effective-dated Rp/kWh of a tariff class; a sale uses the newest one in force."""

    __tablename__ = "tariff_prices"
    __table_args__ = (UniqueConstraint("tariff_class_id", "effective_from", name="uq_tariff_prices_class_from"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tariff_class_id: Mapped[int] = mapped_column(ForeignKey("tariff_classes.id"))
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    rp_per_kwh: Mapped[Decimal] = mapped_column(RUPIAH_PER_KWH)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)


class Purchase(Base):
    """One sale: exactly one row per (channel, channel reference), with its token."""

    __tablename__ = "purchases"
    __table_args__ = (
        UniqueConstraint("channel_id", "channel_reference", name="uq_purchases_channel_ref"),
        Index("ix_purchases_meter_created", "meter_number", "created_at"),
        # reprint by meter / by IDPEL (newest first) and a meter's unsold tokens (migration c001)
        Index("ix_purchases_meter_id", "meter_number", "id"),
        Index("ix_purchases_idpel_id", "idpel", "id"),
        Index(
            "ix_purchases_unsold",
            "meter_number",
            postgresql_where=text("delivered_at IS NULL"),
            sqlite_where=text("delivered_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    reference_number: Mapped[str] = mapped_column(String(32), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    channel_reference: Mapped[str] = mapped_column(String(64))
    meter_number: Mapped[str] = mapped_column(String(13))
    idpel: Mapped[str] = mapped_column(String(12))
    customer_name: Mapped[str] = mapped_column(String(25))
    tariff_code: Mapped[str] = mapped_column(String(4))
    va: Mapped[int] = mapped_column(BigInteger)
    nominal: Mapped[int] = mapped_column(BigInteger)
    admin_fee: Mapped[int] = mapped_column(BigInteger)
    meterai: Mapped[int] = mapped_column(BigInteger)
    ppn: Mapped[int] = mapped_column(BigInteger)
    pbjt: Mapped[int] = mapped_column(BigInteger)
    angsuran: Mapped[int] = mapped_column(BigInteger)
    stroom: Mapped[int] = mapped_column(BigInteger)
    kwh: Mapped[Decimal] = mapped_column(KWH)
    tariff_rp_per_kwh: Mapped[Decimal] = mapped_column(RUPIAH_PER_KWH)
    pbjt_rate: Mapped[Decimal] = mapped_column(RATE)
    tid: Mapped[int] = mapped_column(BigInteger)
    token: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[Channel] = relationship()


class PurchaseRef(Base):
    """The idempotency guard of a sale: one row per (channel, channel reference).

    On PostgreSQL ``purchases`` is partitioned by month and cannot hold this unique key itself
    (migration c001); the lean purchase path inserts here first, ``ON CONFLICT DO NOTHING``.
    """

    __tablename__ = "purchase_refs"
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    channel_reference: Mapped[str] = mapped_column(String(64), primary_key=True)
    purchase_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MonthlyUsage(Base):
    """kWh bought per meter per calendar month (WIB), for the 720 jam nyala cap."""

    __tablename__ = "monthly_usage"
    meter_number: Mapped[str] = mapped_column(String(13), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    kwh: Mapped[Decimal] = mapped_column(KWH)


class ManagementTokenRecord(Base):
    """A management token set issued by an operator (clear tamper, key change, …)."""

    __tablename__ = "management_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meter_number: Mapped[str] = mapped_column(String(13), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: The 20-digit tokens, space separated, in the order they must be entered.
    tokens: Mapped[str] = mapped_column(Text)
    tid: Mapped[int | None] = mapped_column(BigInteger)
    operator: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditRow(Base):
    """Append-only record of every sale and key operation (triggers refuse UPDATE/DELETE)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    meter_number: Mapped[str | None] = mapped_column(String(13), index=True)
    detail: Mapped[str] = mapped_column(Text)


class ApprovalRequestRow(Base):
    """A maker's request waiting for a checker (four eyes): see ``prabayar.vending.approvals``.

    ``payload`` and ``result`` are JSON; neither ever holds key bytes in clear.
    """

    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_status", "status", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))
    payload: Mapped[str] = mapped_column(Text)
    meter_number: Mapped[str | None] = mapped_column(String(13), index=True)
    maker: Mapped[str] = mapped_column(String(64))
    maker_role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    #: pending, approved, rejected or failed (approved, but the action itself was refused)
    status: Mapped[str] = mapped_column(String(16))
    checker: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
