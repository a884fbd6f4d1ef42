"""Scale: the purchase ledger for a region (issue 11).

* ``purchase_refs`` (both databases): one row per (channel, channel reference), the
  idempotency guard of a purchase (a partitioned table cannot hold a unique key without the
  partition column). The lean purchase path inserts here with ``ON CONFLICT DO NOTHING``.
* indexes for reprint by meter and by IDPEL (newest first) and for a meter's unsold tokens.
* PostgreSQL: ``purchases`` becomes a table partitioned by month of ``created_at``
  (``prabayar.vending.partitions``), with a default partition and the months around now;
  its primary key becomes (id, created_at); the unique keys on (channel, reference) and on the
  reference number become plain indexes (``purchase_refs`` keeps the first unique; the
  second is 24 random characters).

Revision ID: c001_purchase_partitions
Revises: g001_gateway
Create Date: 2026-11-30
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "c001_purchase_partitions"
down_revision = "g001_gateway"
branch_labels = None
depends_on = None

_NEW_INDEXES = (
    ("ix_purchases_meter_id", ["meter_number", "id"], None),
    ("ix_purchases_idpel_id", ["idpel", "id"], None),
    ("ix_purchases_unsold", ["meter_number"], "delivered_at IS NULL"),
)


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "purchase_refs",
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id"), nullable=False),
        sa.Column("channel_reference", sa.String(64), nullable=False),
        sa.Column("purchase_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "channel_reference"),
    )
    op.execute(
        "INSERT INTO purchase_refs (channel_id, channel_reference, purchase_id, created_at)"
        " SELECT channel_id, channel_reference, id, created_at FROM purchases"
    )
    if _pg():
        _partition()
    for name, columns, where in _NEW_INDEXES:
        op.create_index(
            name,
            "purchases",
            columns,
            postgresql_where=sa.text(where) if where else None,
            sqlite_where=sa.text(where) if where else None,
        )


def _partition() -> None:
    from prabayar.vending.partitions import DEFAULT_PARTITION, ensure_months

    bind = op.get_bind()
    op.execute("ALTER TABLE purchases RENAME TO purchases_flat")
    op.execute("ALTER INDEX ix_purchases_meter_created RENAME TO ix_purchases_flat_meter_created")
    op.execute("ALTER INDEX ix_support_purchases_token RENAME TO ix_support_purchases_flat_token")
    for old in ("purchases_pkey", "uq_purchases_channel_ref", "purchases_reference_number_key",
                "purchases_channel_id_fkey"):  # fmt: skip
        op.execute(f"ALTER TABLE purchases_flat RENAME CONSTRAINT {old} TO flat_{old}")
    op.execute("ALTER SEQUENCE purchases_id_seq OWNED BY NONE")
    op.execute("CREATE TABLE purchases (LIKE purchases_flat INCLUDING DEFAULTS) PARTITION BY RANGE (created_at)")
    op.execute("ALTER SEQUENCE purchases_id_seq OWNED BY purchases.id")
    op.execute("ALTER TABLE purchases ADD CONSTRAINT purchases_pkey PRIMARY KEY (id, created_at)")
    op.execute(
        "ALTER TABLE purchases ADD CONSTRAINT purchases_channel_id_fkey"
        " FOREIGN KEY (channel_id) REFERENCES channels (id)"
    )
    op.execute("CREATE INDEX ix_purchases_meter_created ON purchases (meter_number, created_at)")
    op.execute("CREATE INDEX ix_support_purchases_token ON purchases (token)")
    op.execute("CREATE INDEX ix_purchases_channel_ref ON purchases (channel_id, channel_reference)")
    op.execute("CREATE INDEX ix_purchases_reference_number ON purchases (reference_number)")
    op.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF purchases DEFAULT")
    first = bind.execute(sa.text("SELECT min(created_at) FROM purchases_flat")).scalar()
    today = datetime.now(UTC).date()
    start = min(first.date(), today) if first is not None else today
    end = date(today.year + (today.month > 9), (today.month + 2) % 12 + 1, 1)
    ensure_months(bind, start, end)
    op.execute("INSERT INTO purchases SELECT * FROM purchases_flat")
    op.execute("DROP TABLE purchases_flat")


def _unpartition() -> None:
    op.execute("CREATE TABLE purchases_flat (LIKE purchases INCLUDING DEFAULTS)")
    op.execute("ALTER SEQUENCE purchases_id_seq OWNED BY NONE")
    op.execute("INSERT INTO purchases_flat SELECT * FROM purchases")
    op.execute("DROP TABLE purchases")
    op.execute("ALTER TABLE purchases_flat RENAME TO purchases")
    op.execute("ALTER SEQUENCE purchases_id_seq OWNED BY purchases.id")
    op.execute("ALTER TABLE purchases ADD CONSTRAINT purchases_pkey PRIMARY KEY (id)")
    op.execute("ALTER TABLE purchases ADD CONSTRAINT uq_purchases_channel_ref UNIQUE (channel_id, channel_reference)")
    op.execute("ALTER TABLE purchases ADD CONSTRAINT purchases_reference_number_key UNIQUE (reference_number)")
    op.execute(
        "ALTER TABLE purchases ADD CONSTRAINT purchases_channel_id_fkey"
        " FOREIGN KEY (channel_id) REFERENCES channels (id)"
    )
    op.execute("CREATE INDEX ix_purchases_meter_created ON purchases (meter_number, created_at)")
    op.execute("CREATE INDEX ix_support_purchases_token ON purchases (token)")


def downgrade() -> None:
    for name, _columns, _where in _NEW_INDEXES:
        op.drop_index(name, table_name="purchases")
    if _pg():
        _unpartition()
    op.drop_table("purchase_refs")
