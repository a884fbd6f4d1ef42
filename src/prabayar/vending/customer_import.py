"""The bulk-import use case: ``VendingService.import_customers(path, ...)``.

Reading and validation live in :mod:`prabayar.vending.bulk_import` (pure), the set-based batch
writer in :mod:`prabayar.vending.import_writer`; this module ties them to the service (who
imports, reference data, default unit) and is what the faces call.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from prabayar.vending._core import ServiceCore
from prabayar.vending.bulk_import import (
    ImportFileError,
    ReferenceData,
    RowError,
    RowValidator,
    TariffRef,
    read_records,
    validate_stream,
)
from prabayar.vending.db import reading_session
from prabayar.vending.errors import NotAuthorized, ReasonRequired
from prabayar.vending.import_claims import KeyClaims
from prabayar.vending.import_writer import (
    DEFAULT_BATCH_SIZE,
    WRITERS_POSTGRES,
    BatchWriter,
    ImportSummary,
    batches,
    run_batches,
)
from prabayar.vending.models import Role, TariffClass, Unit, UserAccount

__all__ = ["CustomerImportUseCases", "ImportFileError", "ImportSummary", "RowError"]


class CustomerImportUseCases(ServiceCore):
    """``import_customers``: a region's customers and meters from a CSV file."""

    def import_reference(self, *, unit: str | None = None) -> ReferenceData:
        """Tariff classes and units as the import validates against them.

        ``unit`` (a unit code) overrides the database's default unit for rows without one.
        """
        with reading_session(self.engine) as session:
            tariffs = tuple(
                TariffRef(t.id, t.code, t.print_code, t.va_min, t.va_max, t.subsidised)
                for t in session.scalars(select(TariffClass).order_by(TariffClass.id))
            )
            units = {u.code: u.id for u in session.scalars(select(Unit))}
            default = unit or session.scalar(
                select(Unit.code).where(Unit.is_default.is_(True)).order_by(Unit.id).limit(1)
            )
        if not tariffs:
            raise ImportFileError("the database has no tariff classes: run `prabayar seed --reference` first")
        if unit is not None and unit not in units:
            raise ImportFileError(f"unknown unit {unit!r} (known: {', '.join(sorted(units)) or 'none'})")
        return ReferenceData(tariffs, units, default)

    def import_customers(
        self,
        path: str | Path,
        *,
        actor: str | None,
        server: bool = False,
        reason: str | None = None,
        unit: str | None = None,
        dry_run: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        writers: int | None = None,
        on_errors: Callable[[list[RowError]], None] | None = None,
        on_progress: Callable[[ImportSummary, int], None] | None = None,
    ) -> ImportSummary:
        """Import (or with ``dry_run`` only check) customers with their meters.

        Raises :class:`ImportFileError` when the file cannot be read as an import file (nothing
        is written then); rejected rows are handed to ``on_errors`` and counted. Every written
        row has an audit entry naming ``actor`` and ``reason``. ``actor`` must be an active
        operator or admin account, unless ``server`` says the caller runs on the server itself
        (the CLI, audited as ``cli:<os user>``, like the other master-data commands).
        ``on_progress`` gets the running counts and the bytes of the file read so far.
        ``writers`` batch writers merge at once (default: two on PostgreSQL, one on SQLite,
        whose writers take turns anyway).
        """
        source = Path(path)
        why = (reason or f"bulk import of {source.name}").strip()
        if len(why) < 3:
            raise ReasonRequired()
        if not dry_run and not server:
            self._importer(actor)
        who = actor or "dry-run"
        ref = self.import_reference(unit=unit)
        try:
            binary = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise ImportFileError(f"cannot read {source}: {exc.strerror or exc}") from exc
        with binary, io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
            header, records = read_records(stream)
            validator = RowValidator(header, ref)
            at = self.now()
            if writers is None:
                writers = WRITERS_POSTGRES if self.engine.dialect.name == "postgresql" else 1
            with ExitStack() as stack:
                claims = stack.enter_context(KeyClaims(self.engine))
                merging = [
                    stack.enter_context(self._writer(who, why, at, source.name, validator.has_phone, dry_run))
                    for _ in range(writers)
                ]
                return run_batches(
                    merging,
                    batches(validate_stream(records, validator), size=batch_size, position=binary.tell),
                    claims=claims,
                    on_errors=on_errors,
                    on_progress=on_progress,
                )

    def _writer(
        self, actor: str, reason: str, at: datetime, source: str, has_phone: bool, dry_run: bool
    ) -> BatchWriter:
        return BatchWriter(
            self.engine, actor=actor, reason=reason, at=at, source=source, has_phone=has_phone, dry_run=dry_run
        )

    def _importer(self, username: str | None) -> None:
        """Only an active operator or admin may write master data."""
        with reading_session(self.engine) as session:
            user = session.scalar(select(UserAccount).where(UserAccount.username == (username or "")))
            if user is None or not user.active or user.role not in (Role.OPERATOR, Role.ADMIN):
                raise NotAuthorized(username or "(nobody)", "import customers")
