"""Onboarding (master data): meter stock, effective-dated tariff prices, channel limits.

Adds only new tables and new nullable/defaulted columns: customers.phone and
customers.status_reason, channels.purchases_per_minute (600 = the old fixed limit, 0 =
unlimited) and channels.key_version (bumped on every key rotation or disable, so caches of
channel API keys know when to drop an entry), units.is_default.

Revision ID: o001_onboarding
Revises: s001_support_tickets
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "o001_onboarding"
down_revision = "s001_support_tickets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("phone", sa.String(20), nullable=True))
        batch.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("channels") as batch:
        batch.add_column(
            sa.Column("purchases_per_minute", sa.Integer(), nullable=False, server_default="600")
        )
        batch.add_column(sa.Column("key_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("units") as batch:
        batch.add_column(
            sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "meter_stock",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("meter_number", sa.String(13), nullable=False, unique=True),
        sa.Column("key_type", sa.Integer(), nullable=False),
        sa.Column("sgc", sa.String(6), nullable=False),
        sa.Column("tariff_index", sa.String(2), nullable=False),
        sa.Column("krn", sa.Integer(), nullable=False),
        sa.Column("ken", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(2), nullable=False),
        sa.Column("base_date", sa.String(2), nullable=False),
        sa.Column("dkga", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("registered_at", ts, nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "tariff_prices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tariff_class_id", sa.Integer(), sa.ForeignKey("tariff_classes.id"), nullable=False),
        sa.Column("effective_from", ts, nullable=False),
        sa.Column("rp_per_kwh", sa.BigInteger(), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.UniqueConstraint("tariff_class_id", "effective_from", name="uq_tariff_prices_class_from"),
    )


def downgrade() -> None:
    op.drop_table("tariff_prices")
    op.drop_table("meter_stock")
    with op.batch_alter_table("units") as batch:
        batch.drop_column("is_default")
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("key_version")
        batch.drop_column("purchases_per_minute")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("status_reason")
        batch.drop_column("phone")
