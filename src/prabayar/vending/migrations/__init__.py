"""Alembic migrations of the vending schema (run with ``prabayar db upgrade``)."""
