"""``prabayar import customers FILE.csv``: a region's customers and meters in one go.

Thin: the use case is ``VendingService.import_customers``. Exit codes: 0 the file was read
(whatever was rejected), 1 with ``--strict`` when a row was rejected (or on a database/permission
error), 2 when the file (or the errors file) cannot be used at all. The last line printed is
exactly ``N imported, U updated, M unchanged, K rejected``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from prabayar.cli.onboarding import actor
from prabayar.cli.vending import _err, _failures, _out
from prabayar.vending import open_service
from prabayar.vending.bulk_import import ImportFileError, RowError
from prabayar.vending.import_writer import DEFAULT_BATCH_SIZE, ImportSummary

import_app = typer.Typer(no_args_is_help=True, help="Bulk import: customers with their meters from CSV.")

#: Rejections shown on the terminal when no ``--errors`` file is given.
SHOWN_REJECTIONS = 10


@import_app.command("customers")
def import_customers(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with header: idpel,name,address,tariff,power_va,meter_number,"
            "sgc,tariff_index,krn,key_type,ea,dkga,base_date[,unit][,phone]"
        ),
    ],
    errors: Annotated[
        Path | None, typer.Option("--errors", help="write rejected rows here (CSV: line,column,reason)")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate and compare only; change nothing")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="exit 1 when any row is rejected")] = False,
    unit: Annotated[
        str | None, typer.Option("--unit", help="unit code for rows without one (default: the configured default unit)")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", "-r", help="why (kept in the audit log)")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="rows per transaction")] = DEFAULT_BATCH_SIZE,
) -> None:
    """Import customers with the meter installed on each (idempotent: a second run changes nothing)."""
    sink: IO[str] | None = None
    if errors is not None:
        try:
            sink = errors.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            _err().print(f"[red]cannot write the errors file {errors}:[/red] {exc.strerror or exc}")
            raise typer.Exit(2) from None
    shown: list[RowError] = []
    try:
        writer = csv.writer(sink, lineterminator="\n") if sink is not None else None
        if writer is not None:
            writer.writerow(("line", "column", "reason"))

        def on_errors(batch: list[RowError]) -> None:
            if writer is not None:
                writer.writerows((e.line, e.column, e.reason) for e in batch)
            elif len(shown) < SHOWN_REJECTIONS:
                shown.extend(batch[: SHOWN_REJECTIONS - len(shown)])

        summary = _run_import(file, on_errors, dry_run=dry_run, unit=unit, reason=reason, batch_size=batch_size)
    finally:
        if sink is not None:
            sink.close()
    for e in shown:
        _err().print(f"line {e.line}: {e.column or 'row'}: {e.reason}", highlight=False, markup=False, soft_wrap=True)
    if summary.rejected > len(shown) and errors is None:
        _err().print(f"... {summary.rejected - len(shown)} more rejected rows: use --errors FILE to get them all")
    if dry_run:
        _err().print("dry run: nothing was changed")
    _out().print(summary.line(), highlight=False, markup=False)
    if strict and summary.rejected:
        raise typer.Exit(1)


def _run_import(
    file: Path,
    on_errors: Callable[[list[RowError]], None],
    *,
    dry_run: bool,
    unit: str | None,
    reason: str | None,
    batch_size: int,
) -> ImportSummary:
    console = _err()
    size = _size(file)
    with _failures():
        service = open_service()
        try:
            if console.is_terminal and size:
                columns = (
                    TextColumn("[bold]importing[/bold]"), BarColumn(), DownloadColumn(),
                    TextColumn("{task.fields[counts]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                )  # fmt: skip
                with Progress(*columns, console=console, transient=True) as progress:
                    task = progress.add_task("import", total=size, counts="")

                    def on_progress(total: ImportSummary, position: int) -> None:
                        progress.update(task, completed=position, counts=total.line())

                    return service.import_customers(
                        file, actor=actor(), server=True, reason=reason, unit=unit, dry_run=dry_run,
                        batch_size=batch_size, on_errors=on_errors, on_progress=on_progress,
                    )  # fmt: skip
            return service.import_customers(
                file, actor=actor(), server=True, reason=reason, unit=unit, dry_run=dry_run,
                batch_size=batch_size, on_errors=on_errors,
            )  # fmt: skip
        except ImportFileError as exc:
            console.print(f"[red]cannot import {file}:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        finally:
            service.engine.dispose()


def _size(file: Path) -> int:
    try:
        return os.stat(file).st_size
    except OSError:
        return 0
