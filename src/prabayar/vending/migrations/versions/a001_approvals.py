"""Approvals: maker-checker (four eyes) requests for actions that create or move credit or keys.

Adds one table, ``approval_requests``; nothing existing changes. The payload is JSON and never
holds key bytes in clear.

Revision ID: a001_approvals
Revises: w001_web_sessions
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a001_approvals"
down_revision = "w001_web_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("meter_number", sa.String(13), nullable=True),
        sa.Column("maker", sa.String(64), nullable=False),
        sa.Column("maker_role", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("checker", sa.String(64), nullable=True),
        sa.Column("decided_at", ts, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index("ix_approval_requests_status", "approval_requests", ["status", "id"])
    op.create_index("ix_approval_requests_meter_number", "approval_requests", ["meter_number"])


def downgrade() -> None:
    op.drop_index("ix_approval_requests_meter_number", table_name="approval_requests")
    op.drop_index("ix_approval_requests_status", table_name="approval_requests")
    op.drop_table("approval_requests")
