"""Complaint tickets: channels, categories, the status flow, SLA timers and their history.

Status flow (each arrow is one audited step)::

    open -> assigned -> visit_scheduled -> resolved -> closed
      \\________\\_____________________/^       |
                     (remote fix)              v (reopen) -> assigned

SLA: no official PLN figure exists for token complaints (PLN.md 4.4, open question 9); the
defaults below are our stated assumptions, modelled on TMP practice (response within hours,
field visits within a day) and configurable per category.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from prabayar.support.result import Cause


class Channel(StrEnum):
    """Where the complaint came in (PLN.md 4.3)."""

    CONTACT_CENTER_123 = "cc123"
    APP = "app"  # PLN Mobile
    X_TWITTER = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"

    @property
    def label(self) -> str:
        return _CHANNEL_LABELS[self]


_CHANNEL_LABELS = {
    Channel.CONTACT_CENTER_123: "Contact Center 123",
    Channel.APP: "PLN Mobile",
    Channel.X_TWITTER: "X/Twitter @pln_123",
    Channel.FACEBOOK: "Facebook",
    Channel.INSTAGRAM: "Instagram @pln_id",
    Channel.WHATSAPP: "WhatsApp",
}


class TicketStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    VISIT_SCHEDULED = "visit_scheduled"
    RESOLVED = "resolved"
    CLOSED = "closed"


#: Allowed status changes; anything else is a ``TicketTransitionError``.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.OPEN: frozenset({TicketStatus.ASSIGNED, TicketStatus.RESOLVED}),
    TicketStatus.ASSIGNED: frozenset({TicketStatus.ASSIGNED, TicketStatus.VISIT_SCHEDULED, TicketStatus.RESOLVED}),
    TicketStatus.VISIT_SCHEDULED: frozenset(
        {TicketStatus.ASSIGNED, TicketStatus.VISIT_SCHEDULED, TicketStatus.RESOLVED}
    ),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.ASSIGNED}),
    TicketStatus.CLOSED: frozenset(),
}

#: Ticket categories: the diagnosis causes plus what a diagnosis cannot name.
CATEGORIES: frozenset[str] = frozenset({c.value for c in Cause} | {"other"})


@dataclass(frozen=True)
class SlaTarget:
    """How long until first response (assignment) and until resolution."""

    response: timedelta
    resolution: timedelta


@dataclass(frozen=True)
class SlaPolicy:
    """SLA per category; categories not listed use ``default``."""

    default: SlaTarget = SlaTarget(timedelta(hours=4), timedelta(days=3))
    per_category: dict[str, SlaTarget] = field(
        default_factory=lambda: {
            # the house is without power or cannot top up: field crew the same day
            Cause.BROKEN_METER.value: SlaTarget(timedelta(hours=1), timedelta(hours=24)),
            Cause.TAMPER.value: SlaTarget(timedelta(hours=1), timedelta(hours=24)),
            Cause.KEY_CHANGE_NEEDED.value: SlaTarget(timedelta(hours=2), timedelta(hours=24)),
            Cause.UNKNOWN.value: SlaTarget(timedelta(hours=2), timedelta(days=2)),
        }
    )

    def target(self, category: str) -> SlaTarget:
        return self.per_category.get(category, self.default)


@dataclass(frozen=True)
class TicketEvent:
    at: datetime
    actor: str
    kind: str
    status: TicketStatus
    detail: str


@dataclass(frozen=True)
class Ticket:
    """A ticket as the faces show it; overdue flags are computed against ``as_of``."""

    number: str
    channel: Channel
    category: str
    meter_number: str
    idpel: str
    contact: str
    description: str
    diagnosis: dict[str, object] | None
    status: TicketStatus
    technician: str | None
    visit_at: datetime | None
    inspection_note: str | None
    inspected_at: datetime | None
    installation_ok: bool | None
    resolution: str | None
    issued_tokens: tuple[str, ...]
    replacement_meter: str | None
    created_by: str
    created_at: datetime
    response_due: datetime
    resolution_due: datetime
    assigned_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    as_of: datetime
    events: tuple[TicketEvent, ...] = ()

    @property
    def response_overdue(self) -> bool:
        """Not picked up in time: still open past the response deadline (or assigned late)."""
        if self.assigned_at is not None:
            return self.assigned_at > self.response_due
        if self.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            return False
        return self.as_of > self.response_due

    @property
    def resolution_overdue(self) -> bool:
        """Not resolved in time (resolved late counts as overdue too, for reporting)."""
        if self.resolved_at is not None:
            return self.resolved_at > self.resolution_due
        return self.as_of > self.resolution_due

    @property
    def overdue(self) -> bool:
        open_ = self.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        return open_ and (self.resolution_overdue or self.response_overdue)

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps an agent may take on the ticket now (the faces offer only these): what
        ``TRANSITIONS`` allows from the current status, the inspection only on an assigned
        ticket, clear tamper only after an inspection that found the installation fine, a
        meter replacement only after an inspection."""
        return allowed_steps(self)

    @property
    def notes(self) -> tuple[tuple[TicketEvent, str], ...]:
        """Every event that carries words (a note, a reopen reason, a resolution, inspection
        findings, the technician named), with those words, oldest first."""
        import json

        out: list[tuple[TicketEvent, str]] = []
        for event in self.events:
            try:
                detail = json.loads(event.detail) if event.detail else {}
            except ValueError:
                detail = {}
            for key in ("text", "reason", "resolution", "note", "technician"):
                value = detail.get(key) if isinstance(detail, dict) else None
                if value:
                    out.append((event, str(value)))
                    break
        return tuple(out)

    def as_dict(self) -> dict[str, object]:
        def t(v: datetime | None) -> str | None:
            return v.isoformat() if v else None

        return {
            "number": self.number,
            "channel": self.channel.value,
            "channel_label": self.channel.label,
            "category": self.category,
            "meter_number": self.meter_number,
            "idpel": self.idpel,
            "contact": self.contact,
            "description": self.description,
            "diagnosis": self.diagnosis,
            "status": self.status.value,
            "technician": self.technician,
            "visit_at": t(self.visit_at),
            "inspection_note": self.inspection_note,
            "inspected_at": t(self.inspected_at),
            "installation_ok": self.installation_ok,
            "resolution": self.resolution,
            "issued_tokens": list(self.issued_tokens),
            "replacement_meter": self.replacement_meter,
            "created_at": t(self.created_at),
            "response_due": t(self.response_due),
            "resolution_due": t(self.resolution_due),
            "response_overdue": self.response_overdue,
            "resolution_overdue": self.resolution_overdue,
            "overdue": self.overdue,
            "events": [
                {"at": t(e.at), "actor": e.actor, "kind": e.kind, "status": e.status.value,
                 "detail": e.detail}
                for e in self.events
            ],
        }  # fmt: skip


#: Every step the faces know, in the order they are offered.
STEPS: tuple[str, ...] = ("assign", "visit", "inspect", "clear_tamper", "key_change", "replace_meter",
                          "comment", "resolve", "reopen", "close")  # fmt: skip


def allowed_steps(ticket: Ticket, *, status_only: bool = False) -> tuple[str, ...]:
    """See :attr:`Ticket.steps`; ``status_only`` leaves out the inspection condition (the
    use case itself then refuses with the reason, ``InspectionRequired``)."""
    status = ticket.status
    if status is TicketStatus.CLOSED:
        return ()
    if status is TicketStatus.RESOLVED:
        return ("comment", "reopen", "close")
    working = status in (TicketStatus.ASSIGNED, TicketStatus.VISIT_SCHEDULED)
    allowed = {"assign", "comment", "resolve", "key_change"}
    if working:
        allowed |= {"visit", "inspect"}
    if status_only or ticket.inspected_at is not None:
        allowed.add("replace_meter")
        if status_only or ticket.installation_ok:
            allowed.add("clear_tamper")
    return tuple(s for s in STEPS if s in allowed)
