"""The ``prabayar`` command: one sub-command group per package, registered here."""

from __future__ import annotations

import typer

from prabayar.cli import sts as sts_cli

app = typer.Typer(no_args_is_help=True, help="prabayar: prepaid electricity on STS (IEC 62055-41).")
app.add_typer(sts_cli.app, name="sts", help="Token engine: keys, encode, decode, conformance.")


def main() -> None:
    """Console-script entry point."""
    app()
