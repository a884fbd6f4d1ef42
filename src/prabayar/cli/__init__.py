"""The ``prabayar`` command: one sub-command group per package, registered here."""

from __future__ import annotations

import typer


app = typer.Typer(no_args_is_help=True, help="prabayar: prepaid electricity on STS (IEC 62055-41).")


def main() -> None:
    """Console-script entry point."""
    app()
