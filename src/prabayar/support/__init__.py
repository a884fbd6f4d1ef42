"""prabayar.support: why did my token fail? Diagnosis of failed entries and complaint handling.

Library use::

    engine = DiagnosisEngine(VendingSources(service, reader))
    diagnosis = engine.diagnose(DiagnosisRequest("14100000018", "1234 ...", display="GAGAL"))
    tickets = TicketService(service)
    ticket = tickets.open(channel="cc123", identifier=..., actor=..., diagnosis=diagnosis)
"""

from prabayar.support.engine import DiagnosisEngine, DiagnosisRequest
from prabayar.support.errors import (
    InspectionRequired,
    MeterNotFound,
    SupportError,
    TicketNotFound,
    TicketTransitionError,
)
from prabayar.support.meter_state import MeterStateReader, snapshot_of
from prabayar.support.replacement import Replacement, ReplacementError
from prabayar.support.result import (
    Action,
    Cause,
    Confidence,
    Diagnosis,
    Evidence,
    NextStep,
    TokenCandidate,
)
from prabayar.support.sources import MeterRecord, MeterSnapshot, Sale, SupportSources
from prabayar.support.text import Text
from prabayar.support.ticket_service import TicketService
from prabayar.support.tickets import Channel, SlaPolicy, SlaTarget, Ticket, TicketStatus
from prabayar.support.typo_search import search_typos
from prabayar.support.typos import TypoClass
from prabayar.support.vending_sources import VendingSources

__all__ = [
    "Action", "Cause", "Channel", "Confidence", "Diagnosis", "DiagnosisEngine",
    "DiagnosisRequest", "Evidence", "InspectionRequired", "MeterNotFound", "MeterRecord",
    "MeterSnapshot", "MeterStateReader", "NextStep", "Replacement", "ReplacementError", "Sale",
    "SlaPolicy", "SlaTarget", "SupportError", "SupportSources", "Text", "Ticket",
    "TicketNotFound", "TicketService", "TicketStatus", "TicketTransitionError", "TokenCandidate",
    "TypoClass", "VendingSources", "search_typos", "snapshot_of",
]  # fmt: skip
