"""Tables of the ISO 8583 host-to-host link (profile ../shared/domain/ISO8583.md §1.1, §6.3).

``gateway_partners``: one row per partner (a sales channel with an ISO 8583 identity);
``gateway_sales``: the journal of sales made over the link (partner, SRN and the selling
request's fields 11, 12, 32, 33, 41). Both are owned by the vending back office and read and
written only through ``HostLinkUseCases``; the gateway face never opens a session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from prabayar.vending.models import Base
from prabayar.vending.types import UTCDateTime


class GatewayPartnerRow(Base):
    __tablename__ = "gateway_partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), unique=True)
    port: Mapped[int] = mapped_column(Integer, unique=True)
    framing: Mapped[str] = mapped_column(String(8))
    switcher_id: Mapped[str] = mapped_column(String(7))
    pcid: Mapped[str] = mapped_column(String(11))
    #: JSON lists
    bank_codes: Mapped[str] = mapped_column(Text)
    sources: Mapped[str] = mapped_column(Text)
    max_connections: Mapped[int] = mapped_column(Integer)
    max_in_flight: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GatewaySaleRow(Base):
    __tablename__ = "gateway_sales"
    __table_args__ = (UniqueConstraint("channel_id", "srn", name="uq_gateway_sales_channel_srn"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    srn: Mapped[str] = mapped_column(String(32))
    stan: Mapped[str] = mapped_column(String(12))
    local_time: Mapped[str] = mapped_column(String(14))
    bank_code: Mapped[str] = mapped_column(String(7))
    pcid: Mapped[str] = mapped_column(String(11))
    terminal_id: Mapped[str] = mapped_column(String(16))
    reference_number: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
