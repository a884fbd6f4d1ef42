"""Gateway: ISO 8583 host-to-host partners and the journal of sales made over the link.

Revision ID: g001_gateway
Revises: a001_approvals
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "g001_gateway"
down_revision = "a001_approvals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "gateway_partners",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id"), nullable=False, unique=True),
        sa.Column("port", sa.Integer(), nullable=False, unique=True),
        sa.Column("framing", sa.String(8), nullable=False),
        sa.Column("switcher_id", sa.String(7), nullable=False),
        sa.Column("pcid", sa.String(11), nullable=False),
        sa.Column("bank_codes", sa.Text(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("max_connections", sa.Integer(), nullable=False),
        sa.Column("max_in_flight", sa.Integer(), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
    )
    op.create_table(
        "gateway_sales",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id"), nullable=False),
        sa.Column("srn", sa.String(32), nullable=False),
        sa.Column("stan", sa.String(12), nullable=False),
        sa.Column("local_time", sa.String(14), nullable=False),
        sa.Column("bank_code", sa.String(7), nullable=False),
        sa.Column("pcid", sa.String(11), nullable=False),
        sa.Column("terminal_id", sa.String(16), nullable=False),
        sa.Column("reference_number", sa.String(32), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.UniqueConstraint("channel_id", "srn", name="uq_gateway_sales_channel_srn"),
    )


def downgrade() -> None:
    op.drop_table("gateway_sales")
    op.drop_table("gateway_partners")
