"""Build support from the settings, the way the CLI and the web app need it."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

from prabayar.config import Settings, get_settings
from prabayar.support.dashboard import LoggedDiagnosisEngine
from prabayar.support.engine import DiagnosisEngine
from prabayar.support.meter_state import MeterStateReader
from prabayar.support.ticket_service import TicketService
from prabayar.support.vending_sources import VendingSources
from prabayar.vending import VendingService
from prabayar.vending.setup import master_key_for


def _utcnow() -> datetime:
    return datetime.now(UTC)


def meter_state_reader(settings: Settings, clock: Callable[[], datetime] = _utcnow) -> MeterStateReader:
    """Emulated meters' state files, sealed under a key derived from the master key, read as
    they are at ``clock()`` (energy drawn since the last save)."""
    master = base64.b64decode(master_key_for(settings).to_base64())
    return MeterStateReader.for_master_key(settings.data_dir, master, clock=clock)


def diagnosis_engine(
    service: VendingService,
    settings: Settings | None = None,
    *,
    actor: str = "support",
    clock: Callable[[], datetime] | None = None,
) -> DiagnosisEngine:
    """The engine over vending's ledger and keys plus any emulated meter's state."""
    settings = settings or get_settings()
    sources = VendingSources(service, meter_state_reader(settings, clock or _utcnow), actor=actor)
    # every run is logged (cause, unit, time) for the utility's dashboard (support.dashboard)
    if clock is None:
        return LoggedDiagnosisEngine(sources, log_engine=service.engine, source=actor)
    return LoggedDiagnosisEngine(sources, clock=clock, log_engine=service.engine, source=actor)


def ticket_service(service: VendingService) -> TicketService:
    return TicketService(service)
