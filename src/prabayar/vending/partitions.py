"""Monthly partitions of the purchase ledger on PostgreSQL (declarative range partitioning).

``purchases`` is partitioned by ``created_at`` (UTC calendar months): ``purchases_y2026m03``
holds March 2026, ``purchases_default`` catches anything no month partition covers (so a sale
never fails for want of a partition). Partitions are created ahead: by the migration, by
``prabayar serve`` at start (this month and the next three) and by the synthetic history
generator for the months it fills. A month created after rows for it landed in the default
partition takes those rows over (moved in the same transaction, then attached).

SQLite has no partitions: every function here does nothing there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, text

DEFAULT_PARTITION = "purchases_default"
MONTHS_AHEAD = 3


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"purchases_y{month.year:04d}m{month.month:02d}"


def is_partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return bool(
        conn.execute(
            text(
                "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
                " WHERE c.relname = 'purchases' AND c.relnamespace = to_regnamespace(current_schema())::oid"
            )
        ).first()
    )


def existing_partitions(conn: Connection) -> set[str]:
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent"
            " WHERE p.relname = 'purchases' AND p.relnamespace = to_regnamespace(current_schema())::oid"
        )
    )
    return {r[0] for r in rows}


def create_month(conn: Connection, month: date) -> bool:
    """Create the partition of ``month`` unless it exists; True when created."""
    month = _month_start(month)
    name = partition_name(month)
    if name in existing_partitions(conn):
        return False
    start = datetime(month.year, month.month, 1, tzinfo=UTC).isoformat()
    nxt = _next_month(month)
    end = datetime(nxt.year, nxt.month, 1, tzinfo=UTC).isoformat()
    bounds = f"FROM ('{start}') TO ('{end}')"
    stray = conn.execute(
        text(f"SELECT 1 FROM {DEFAULT_PARTITION} WHERE created_at >= :a AND created_at < :b LIMIT 1"),
        {"a": start, "b": end},
    ).first()
    if stray is None:
        conn.execute(text(f"CREATE TABLE {name} PARTITION OF purchases FOR VALUES {bounds}"))
        return True
    # Rows for this month went to the default partition: move them into the new month.
    conn.execute(text(f"CREATE TABLE {name} (LIKE purchases INCLUDING DEFAULTS)"))
    conn.execute(
        text(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE created_at >= :a AND created_at < :b"
            f" RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        ),
        {"a": start, "b": end},
    )
    conn.execute(text(f"ALTER TABLE purchases ATTACH PARTITION {name} FOR VALUES {bounds}"))
    return True


def ensure_months(conn: Connection, first: date, last: date) -> list[str]:
    """Partitions for every month from ``first`` to ``last`` (inclusive); returns those created."""
    if not is_partitioned(conn):
        return []
    created = []
    month = _month_start(first)
    while month <= _month_start(last):
        if create_month(conn, month):
            created.append(partition_name(month))
        month = _next_month(month)
    return created


def ensure_ahead(engine: Engine, *, today: date | None = None, months: int = MONTHS_AHEAD) -> list[str]:
    """This month's partition and the next ``months`` ones (what ``prabayar serve`` runs at start)."""
    if engine.dialect.name != "postgresql":
        return []
    today = today or datetime.now(UTC).date()
    last = today
    for _ in range(months):
        last = _next_month(last)
    with engine.begin() as conn:
        # one creator at a time (several workers or hosts may start together)
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('prabayar.partitions'))"))
        return ensure_months(conn, today, last)
