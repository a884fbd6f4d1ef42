"""Dashboard: one row per diagnosis run (cause, unit, time), for the utility's charts.

The diagnosis itself reads and never writes; the faces' engine (``prabayar.support.setup``)
logs each result's cause, confidence, meter and unit here so that "failed-entry causes per day
and per unit" is a GROUP BY, not a hand count. Owned by ``prabayar.support.dashboard``.

Revision ID: d001_dashboard
Revises: u001_customer_accounts
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d001_dashboard"
down_revision = "u001_customer_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "support_diagnosis_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cause", sa.String(32), nullable=False),
        sa.Column("confidence", sa.String(12), nullable=False),
        sa.Column("meter_number", sa.String(13), nullable=True),
        sa.Column("unit_code", sa.String(8), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
    )
    op.create_index("ix_support_diagnosis_log_at", "support_diagnosis_log", ["at"])
    op.create_index("ix_support_diagnosis_log_unit_at", "support_diagnosis_log", ["unit_code", "at"])


def downgrade() -> None:
    op.drop_index("ix_support_diagnosis_log_unit_at", table_name="support_diagnosis_log")
    op.drop_index("ix_support_diagnosis_log_at", table_name="support_diagnosis_log")
    op.drop_table("support_diagnosis_log")
