"""Key-change campaigns: the campaign, its chunks (the unit of work of a worker), the selected
meters per unit, and one row per meter with its KCT set.

Revision ID: k001_campaigns
Revises: c001_purchase_partitions
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k001_campaigns"
down_revision = "c001_purchase_partitions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("selection", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("approved_at", ts, nullable=True),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("selected", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("planned_at", ts, nullable=True),
        sa.Column("finished_at", ts, nullable=True),
    )
    op.create_table(
        "campaign_chunks",
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("chunk_no", sa.Integer(), primary_key=True),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("meters", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("generated", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("skipped", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("worker", sa.String(80), nullable=True),
        sa.Column("done_at", ts, nullable=True),
    )
    op.create_table(
        "campaign_units",
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("unit_code", sa.String(8), primary_key=True),
        sa.Column("selected", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "campaign_meters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("meter_number", sa.String(13), nullable=False),
        sa.Column("unit_code", sa.String(8), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("from_key", sa.String(24), nullable=False),
        sa.Column("to_key", sa.String(24), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("generated_at", ts, nullable=False),
        sa.Column("delivered_at", ts, nullable=True),
        sa.Column("delivered_via", sa.String(80), nullable=True),
        sa.Column("confirmed_at", ts, nullable=True),
        sa.Column("confirmed_by", sa.String(80), nullable=True),
        sa.UniqueConstraint("meter_number", "campaign_id", name="uq_campaign_meters_meter_campaign"),
    )


def downgrade() -> None:
    op.drop_table("campaign_meters")
    op.drop_table("campaign_units")
    op.drop_table("campaign_chunks")
    op.drop_table("campaigns")
