"""Live chat: conversations and their messages (support_chats, support_chat_messages).

A conversation starts with the guided assistant (``prabayar.support.chat``) and may be handed
to an agent; every message is a row, so any server process can serve it (fan-out via Redis
pub/sub, or polling this table on the embedded database). Owned by
``prabayar.support.chat_service``.

Revision ID: x001_chat
Revises: d001_dashboard
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "x001_chat"
down_revision = "d001_dashboard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "support_chats",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("customer", sa.String(64), nullable=False),
        sa.Column("idpel", sa.String(12), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("ticket_number", sa.String(24), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_support_chats_status", "support_chats", ["status", "updated_at"])
    op.create_index("ix_support_chats_customer", "support_chats", ["customer", "status"])
    op.create_table(
        "support_chat_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column(
            "chat_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("support_chats.id"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
    )
    op.create_index("ix_support_chat_messages_chat", "support_chat_messages", ["chat_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_support_chat_messages_chat", table_name="support_chat_messages")
    op.drop_table("support_chat_messages")
    op.drop_index("ix_support_chats_customer", table_name="support_chats")
    op.drop_index("ix_support_chats_status", table_name="support_chats")
    op.drop_table("support_chats")
