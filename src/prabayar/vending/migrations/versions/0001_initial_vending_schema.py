"""Initial vending schema, with triggers that keep the audit log append-only.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


_SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
_POSTGRES_TRIGGERS = (
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def _append_only_audit_log() -> None:
    """The audit log only grows: the database itself refuses UPDATE and DELETE."""
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_TRIGGERS if dialect == "sqlite" else _POSTGRES_TRIGGERS:
        op.execute(statement)


def _drop_audit_log_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("meter_number", sa.String(length=13), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    op.create_index("ix_audit_log_meter_number", "audit_log", ["meter_number"], unique=False)

    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("admin_fee_rule", sa.Text(), nullable=False),
        sa.Column("allowed_nominals", sa.Text(), nullable=True),
        sa.Column("min_nominal", sa.BigInteger(), nullable=False),
        sa.Column("max_nominal", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "management_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meter_number", sa.String(length=13), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
        sa.Column("tid", sa.BigInteger(), nullable=True),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_management_tokens_meter_number", "management_tokens", ["meter_number"], unique=False
    )

    op.create_table(
        "monthly_usage",
        sa.Column("meter_number", sa.String(length=13), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("kwh", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("meter_number", "month"),
    )
    op.create_table(
        "tariff_classes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("print_code", sa.String(length=4), nullable=False),
        sa.Column("description", sa.String(length=80), nullable=False),
        sa.Column("va_min", sa.BigInteger(), nullable=False),
        sa.Column("va_max", sa.BigInteger(), nullable=True),
        sa.Column("rp_per_kwh", sa.BigInteger(), nullable=False),
        sa.Column("household", sa.Boolean(), nullable=False),
        sa.Column("subsidised", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("uid_name", sa.String(length=80), nullable=False),
        sa.Column("up3_name", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "vending_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sgc", sa.String(length=6), nullable=False),
        sa.Column("krn", sa.Integer(), nullable=False),
        sa.Column("dkga", sa.String(length=2), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sgc", "krn", name="uq_vending_keys_sgc_krn"),
    )
    op.create_table(
        "channel_api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_index(
        "ix_channel_api_keys_channel_id", "channel_api_keys", ["channel_id"], unique=False
    )

    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idpel", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=25), nullable=False),
        sa.Column("address", sa.String(length=120), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("tariff_class_id", sa.Integer(), nullable=False),
        sa.Column("va", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("debt_remaining", sa.BigInteger(), nullable=False),
        sa.Column("angsuran_per_purchase", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tariff_class_id"],
            ["tariff_classes.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idpel"),
    )
    op.create_table(
        "purchases",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reference_number", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("channel_reference", sa.String(length=64), nullable=False),
        sa.Column("meter_number", sa.String(length=13), nullable=False),
        sa.Column("idpel", sa.String(length=12), nullable=False),
        sa.Column("customer_name", sa.String(length=25), nullable=False),
        sa.Column("tariff_code", sa.String(length=4), nullable=False),
        sa.Column("va", sa.BigInteger(), nullable=False),
        sa.Column("nominal", sa.BigInteger(), nullable=False),
        sa.Column("admin_fee", sa.BigInteger(), nullable=False),
        sa.Column("meterai", sa.BigInteger(), nullable=False),
        sa.Column("ppn", sa.BigInteger(), nullable=False),
        sa.Column("pbjt", sa.BigInteger(), nullable=False),
        sa.Column("angsuran", sa.BigInteger(), nullable=False),
        sa.Column("stroom", sa.BigInteger(), nullable=False),
        sa.Column("kwh", sa.BigInteger(), nullable=False),
        sa.Column("tariff_rp_per_kwh", sa.BigInteger(), nullable=False),
        sa.Column("pbjt_rate", sa.BigInteger(), nullable=False),
        sa.Column("tid", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id", "channel_reference", name="uq_purchases_channel_ref"),
        sa.UniqueConstraint("reference_number"),
    )
    op.create_index(
        "ix_purchases_meter_created", "purchases", ["meter_number", "created_at"], unique=False
    )

    op.create_table(
        "unit_tax_rates",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("tariff_class_id", sa.Integer(), nullable=False),
        sa.Column("pbjt_rate", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tariff_class_id"],
            ["tariff_classes.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("unit_id", "tariff_class_id"),
    )
    op.create_table(
        "meters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meter_number", sa.String(length=13), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("replaced_by", sa.String(length=13), nullable=True),
        sa.Column("key_type", sa.Integer(), nullable=False),
        sa.Column("sgc", sa.String(length=6), nullable=False),
        sa.Column("tariff_index", sa.String(length=2), nullable=False),
        sa.Column("krn", sa.Integer(), nullable=False),
        sa.Column("ken", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=2), nullable=False),
        sa.Column("base_date", sa.String(length=2), nullable=False),
        sa.Column("dkga", sa.String(length=2), nullable=False),
        sa.Column("last_tid", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meter_number"),
    )
    op.create_index("ix_meters_customer_id", "meters", ["customer_id"], unique=False)

    op.create_table(
        "user_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )

    _append_only_audit_log()


def downgrade() -> None:
    _drop_audit_log_triggers()
    op.drop_table("user_accounts")
    op.drop_index("ix_meters_customer_id", table_name="meters")

    op.drop_table("meters")
    op.drop_table("unit_tax_rates")
    op.drop_index("ix_purchases_meter_created", table_name="purchases")

    op.drop_table("purchases")
    op.drop_table("customers")
    op.drop_index("ix_channel_api_keys_channel_id", table_name="channel_api_keys")

    op.drop_table("channel_api_keys")
    op.drop_table("vending_keys")
    op.drop_table("units")
    op.drop_table("tariff_classes")
    op.drop_table("monthly_usage")
    op.drop_index("ix_management_tokens_meter_number", table_name="management_tokens")

    op.drop_table("management_tokens")
    op.drop_table("channels")
    op.drop_index("ix_audit_log_meter_number", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")

    op.drop_table("audit_log")
