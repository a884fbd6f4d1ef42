"""Typed errors a person can cause in support; each carries an Indonesian and English message."""

from __future__ import annotations

from prabayar.support.text import Text


class SupportError(Exception):
    """Base of every support error; ``message`` is what a face shows."""

    def __init__(self, message: Text) -> None:
        super().__init__(message.en)
        self.message = message


class MeterNotFound(SupportError):
    """Neither a meter number nor an IDPEL we know."""

    def __init__(self, identifier: str) -> None:
        super().__init__(
            Text(
                id=f"Nomor meter / IDPEL {identifier} tidak ditemukan. Periksa kembali nomor di meteran Anda.",
                en=f"Meter number / IDPEL {identifier} was not found. Check the number printed on your meter.",
            )
        )
        self.identifier = identifier


class InvalidDiagnosisRequest(SupportError):
    """A request the engine cannot work with (e.g. no meter identifier at all)."""


class TicketNotFound(SupportError):
    """No ticket with that number."""

    def __init__(self, number: str) -> None:
        super().__init__(
            Text(
                id=f"Tiket pengaduan {number} tidak ditemukan.",
                en=f"Complaint ticket {number} was not found.",
            )
        )
        self.number = number


class TicketTransitionError(SupportError):
    """A status change the ticket flow does not allow (e.g. closing an unresolved ticket)."""


class InspectionRequired(SupportError):
    """A closing step that needs the technician's inspection on record first: the clear-tamper
    token (and a fine installation), or a meter replacement. The message names the step asked
    for, so the agent is told what is missing for *that* step."""

    def __init__(self, number: str, action: str = "clear_tamper") -> None:
        if action == "replace_meter":
            text = Text(
                id=f"Penggantian meter untuk tiket {number} hanya dapat diajukan "
                "setelah hasil pemeriksaan petugas dicatat (langkah 'Catat pemeriksaan').",
                en=f"A meter replacement for ticket {number} can only be asked for after "
                "the technician's inspection has been recorded (step 'Record inspection').",
            )
        else:
            text = Text(
                id=f"Token clear tamper untuk tiket {number} hanya dapat diterbitkan "
                "setelah hasil pemeriksaan petugas dicatat.",
                en=f"The clear-tamper token for ticket {number} is only issued after "
                "the technician's inspection has been recorded.",
            )
        super().__init__(text)
        self.number = number
        self.action = action
