"""Migrations run from empty on SQLite and PostgreSQL and give exactly the ORM's schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from prabayar.vending.db import alembic_config, downgrade, upgrade
from prabayar.vending.models import AuditRow, Base

TABLES = {
    "units", "tariff_classes", "unit_tax_rates", "customers", "meters", "channels",
    "channel_api_keys", "user_accounts", "vending_keys", "purchases", "monthly_usage",
    "management_tokens", "audit_log", "approval_requests", "purchase_refs",
}  # fmt: skip
#: PostgreSQL partitions ``purchases`` by month (migration c001): a partitioned table cannot
#: hold these unique keys (``purchase_refs`` guards (channel, reference)); plain indexes instead.
PG_PARTITION_ONLY = {"uq_purchases_channel_ref", "purchases_reference_number_key", "ix_purchases_channel_ref",
                     "ix_purchases_reference_number"}  # fmt: skip


def _ours(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
    """Vending's tables and indexes (support adds its own in a later revision)."""
    if kind == "table":
        return name in TABLES
    if name in PG_PARTITION_ONLY or (
        kind == "unique_constraint"
        and getattr(obj, "columns", None) is not None
        and [c.name for c in obj.columns] == ["reference_number"]
    ):  # type: ignore[attr-defined]
        return False
    if kind == "index":
        return not (name or "").startswith("ix_support_")
    table = getattr(obj, "table", None)
    return table is None or getattr(table, "name", None) in TABLES


def test_upgrade_from_empty_matches_models(empty_engine: Engine) -> None:
    upgrade(engine=empty_engine)
    assert set(inspect(empty_engine).get_table_names()) >= TABLES
    with empty_engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "compare_type": False,
                # Other packages (support) add their own tables in later revisions.
                "include_object": _ours,
            },
        )
        assert compare_metadata(ctx, Base.metadata) == []
        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() in heads


def test_upgrade_is_repeatable_and_downgrade_empties(empty_engine: Engine) -> None:
    upgrade(engine=empty_engine)
    upgrade(engine=empty_engine)
    downgrade(empty_engine)
    assert not TABLES & set(inspect(empty_engine).get_table_names())
    upgrade(engine=empty_engine)
    assert set(inspect(empty_engine).get_table_names()) >= TABLES


def test_upgrade_by_url(tmp_path: object) -> None:
    from pathlib import Path

    db = Path(str(tmp_path)) / "by-url.sqlite3"
    upgrade(f"sqlite:///{db}")
    assert db.exists()
    with pytest.raises(ValueError, match="URL or an engine"):
        upgrade()


def test_audit_log_is_append_only(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(AuditRow(at=datetime.now(UTC), actor="t", action="x", detail="{}"))
        session.commit()
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_log")).scalars().all() == ["t"]


def test_engine_choices() -> None:
    from prabayar.vending.db import create_engine_for

    plain = create_engine_for("postgresql://u:secret@db.example/x", schema="s1", lock_timeout_ms=50)
    assert plain.dialect.driver == "psycopg"
    plain.dispose()
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        create_engine_for("mysql+pymysql://u@db/x")
