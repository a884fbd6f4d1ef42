"""Support: complaint tickets and their step history (owned by prabayar.support).

Revision ID: s001_support_tickets
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s001_support_tickets"
down_revision = "0001"
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True
    )


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "support_tickets",
        _id(),
        sa.Column("number", sa.String(24), nullable=False, unique=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("meter_number", sa.String(13), nullable=False),
        sa.Column("idpel", sa.String(12), nullable=False),
        sa.Column("contact", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("diagnosis", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("technician", sa.String(64), nullable=True),
        sa.Column("visit_at", ts, nullable=True),
        sa.Column("inspection_note", sa.Text(), nullable=True),
        sa.Column("inspected_at", ts, nullable=True),
        sa.Column("installation_ok", sa.Boolean(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("issued_tokens", sa.Text(), nullable=True),
        sa.Column("replacement_meter", sa.String(13), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("response_due", ts, nullable=False),
        sa.Column("resolution_due", ts, nullable=False),
        sa.Column("assigned_at", ts, nullable=True),
        sa.Column("resolved_at", ts, nullable=True),
        sa.Column("closed_at", ts, nullable=True),
    )
    op.create_index("ix_support_tickets_meter_number", "support_tickets", ["meter_number"])
    op.create_index("ix_support_tickets_idpel", "support_tickets", ["idpel"])
    op.create_index(
        "ix_support_tickets_status_due", "support_tickets", ["status", "resolution_due"]
    )
    op.create_table(
        "support_ticket_events",
        _id(),
        sa.Column(
            "ticket_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("support_tickets.id"),
            nullable=False,
        ),
        sa.Column("at", ts, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_support_ticket_events_ticket_id", "support_ticket_events", ["ticket_id"]
    )
    # "which meter was this token sold for?" is the first question of every wrong-meter case
    op.create_index("ix_support_purchases_token", "purchases", ["token"])


def downgrade() -> None:
    op.drop_index("ix_support_purchases_token", table_name="purchases")
    op.drop_index("ix_support_ticket_events_ticket_id", table_name="support_ticket_events")
    op.drop_table("support_ticket_events")
    op.drop_index("ix_support_tickets_status_due", table_name="support_tickets")
    op.drop_index("ix_support_tickets_idpel", table_name="support_tickets")
    op.drop_index("ix_support_tickets_meter_number", table_name="support_tickets")
    op.drop_table("support_tickets")
