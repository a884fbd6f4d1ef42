"""``prabayar seed --synthetic-meters N --synthetic-purchases M``: a region for load tests."""

from __future__ import annotations

import time

import typer

from prabayar.config import get_settings


def seed_synthetic(meters: int, purchases: int) -> None:
    """Have ``meters`` synthetic meters, then add ``purchases`` past purchases (PostgreSQL)."""
    from prabayar.vending.db import create_engine_for
    from prabayar.vending.synthetic import region_counts, seed_history, seed_meters

    engine = create_engine_for(get_settings().resolved_database_url())
    try:
        started = time.monotonic()
        added = seed_meters(engine, meters) if meters else 0
        typer.echo(f"synthetic meters: {added} added in {time.monotonic() - started:.0f} s")
        if purchases:
            started = time.monotonic()
            seed_history(engine, purchases)
            typer.echo(f"past purchases: {purchases} added in {time.monotonic() - started:.0f} s")
        counts = region_counts(engine)
        typer.echo(f"region: {counts.meters} synthetic meters, {counts.purchases} purchases in total")
    except ValueError as exc:
        typer.echo(f"prabayar seed: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
