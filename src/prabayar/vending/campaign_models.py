"""Tables of key-change campaigns (migration ``k001_campaigns``).

``campaigns``: what is selected, the target key, who made and approved it. ``campaign_chunks``:
the selection cut into ranges of meter ids, the unit of work of one worker (done in one
transaction, so a killed worker leaves its chunk pending). ``campaign_units``: meters selected
per unit. ``campaign_meters``: one row per meter and campaign (unique), with the KCT set made
with the meter's key at generation (``from_key``) moving it to ``to_key``; tokens are not keys.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from prabayar.vending.models import Base
from prabayar.vending.types import UTCDateTime


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    #: pending_approval, approved, running, done, rejected
    status: Mapped[str] = mapped_column(String(16))
    #: JSON: the meter selection (sgc, krn, base_date, algorithm, unit, meters)
    selection: Mapped[str] = mapped_column(Text)
    #: JSON: the target key (krn, base_date, rollover, algorithm, dkga)
    target: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approval_id: Mapped[int | None] = mapped_column(Integer)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    chunk_size: Mapped[int] = mapped_column(Integer)
    selected: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CampaignChunkRow(Base):
    __tablename__ = "campaign_chunks"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_id: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int] = mapped_column(BigInteger)
    meters: Mapped[int] = mapped_column(Integer)
    #: pending, done
    state: Mapped[str] = mapped_column(String(12))
    generated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    worker: Mapped[str | None] = mapped_column(String(80))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CampaignUnitRow(Base):
    __tablename__ = "campaign_units"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    selected: Mapped[int] = mapped_column(BigInteger)


class CampaignMeterRow(Base):
    __tablename__ = "campaign_meters"
    __table_args__ = (UniqueConstraint("meter_number", "campaign_id", name="uq_campaign_meters_meter_campaign"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    meter_number: Mapped[str] = mapped_column(String(13))
    unit_code: Mapped[str] = mapped_column(String(8))
    chunk_no: Mapped[int] = mapped_column(Integer)
    #: the meter's key when the KCTs were made: "krn/base_date/algorithm/dkga/tariff_index/key_type"
    from_key: Mapped[str] = mapped_column(String(24))
    to_key: Mapped[str] = mapped_column(String(24))
    #: the KCT set, space separated, in keying order
    tokens: Mapped[str] = mapped_column(Text)
    #: generated, delivered, confirmed, stale
    state: Mapped[str] = mapped_column(String(12))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_via: Mapped[str | None] = mapped_column(String(80))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by: Mapped[str | None] = mapped_column(String(80))
