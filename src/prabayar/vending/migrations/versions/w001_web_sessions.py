"""Web: server-side browser sessions and revoked bearer tokens, shared by every server process.

Revision ID: w001_web_sessions
Revises: o001_onboarding
Create Date: 2026-11-30

Times are epoch seconds (float) so that expiry compares the same way on SQLite and PostgreSQL.
A session row is keyed by the SHA-256 of the opaque cookie value, never by the value itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "w001_web_sessions"
down_revision = "o001_onboarding"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_web_sessions_username", "web_sessions", ["username"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    op.create_table(
        "web_revocations",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("revoked_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_web_revocations_expires_at", "web_revocations", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_web_revocations_expires_at", table_name="web_revocations")
    op.drop_table("web_revocations")
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_username", table_name="web_sessions")
    op.drop_table("web_sessions")
