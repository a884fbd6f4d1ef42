"""Complaint handling use cases: open, assign, schedule, inspect, act, resolve, close.

Every step is one transaction that writes the ticket, a ``support_ticket_events`` row and a
vending ``audit_log`` row together. Closing actions call vending for the tokens (clear
tamper, key change) or perform the meter replacement (``replacement.py``).
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prabayar.support.errors import (
    InspectionRequired,
    SupportError,
    TicketNotFound,
    TicketTransitionError,
)
from prabayar.support.models import TicketEventRow, TicketRow
from prabayar.support.present import WIB
from prabayar.support.replacement import replace_meter
from prabayar.support.result import Diagnosis
from prabayar.support.text import Text
from prabayar.support.tickets import (
    CATEGORIES,
    TRANSITIONS,
    Channel,
    SlaPolicy,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from prabayar.vending import ApprovalRequest, NotAuthorized, VendingError, VendingService, add_approval_hook
from prabayar.vending.db import claiming_session
from prabayar.vending.models import AuditRow, Customer, Meter

_T = TypeVar("_T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _invalid(id_: str, en: str) -> SupportError:
    return SupportError(Text(id_, en))


class TicketService:
    """Tickets over the back office database; ``vending`` issues the tokens that close them."""

    def __init__(
        self,
        vending: VendingService,
        *,
        clock: Callable[[], datetime] | None = None,
        sla: SlaPolicy | None = None,
    ) -> None:
        self.vending = vending
        self.engine: Engine = vending.engine
        self.clock = clock or _utcnow
        self.sla = sla or SlaPolicy()

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    # -- plumbing ------------------------------------------------------------------------

    @contextmanager
    def _step(self, number: str) -> Iterator[tuple[Session, TicketRow]]:
        with claiming_session(self.engine) as session:
            row = session.scalar(select(TicketRow).where(TicketRow.number == number))
            if row is None:
                raise TicketNotFound(number)
            yield session, row

    def _record(self, session: Session, row: TicketRow, actor: str, kind: str, at: datetime, **detail: Any) -> None:
        text = json.dumps(detail, sort_keys=True, default=str) if detail else ""
        session.add(TicketEventRow(ticket_id=row.id, at=at, actor=actor, kind=kind, status=row.status, detail=text))
        session.add(
            AuditRow(
                at=at,
                actor=actor,
                action=f"support.ticket.{kind}",
                meter_number=row.meter_number,
                detail=json.dumps(
                    {"ticket": row.number, "status": row.status, **detail},
                    sort_keys=True,
                    default=str,
                ),
            )
        )

    @staticmethod
    def _move(row: TicketRow, target: TicketStatus) -> None:
        current = TicketStatus(row.status)
        if target not in TRANSITIONS[current]:
            raise TicketTransitionError(
                Text(
                    f"Tiket {row.number} berstatus {current.value}; tidak dapat menjadi {target.value}.",
                    f"Ticket {row.number} is {current.value}; it cannot become {target.value}.",
                )
            )
        row.status = target.value

    def _view(self, row: TicketRow, as_of: datetime) -> Ticket:
        return Ticket(
            number=row.number,
            channel=Channel(row.channel),
            category=row.category,
            meter_number=row.meter_number,
            idpel=row.idpel,
            contact=row.contact,
            description=row.description,
            diagnosis=json.loads(row.diagnosis) if row.diagnosis else None,
            status=TicketStatus(row.status),
            technician=row.technician,
            visit_at=row.visit_at,
            inspection_note=row.inspection_note,
            inspected_at=row.inspected_at,
            installation_ok=row.installation_ok,
            resolution=row.resolution,
            issued_tokens=tuple((row.issued_tokens or "").split()),
            replacement_meter=row.replacement_meter,
            created_by=row.created_by,
            created_at=row.created_at,
            response_due=row.response_due,
            resolution_due=row.resolution_due,
            assigned_at=row.assigned_at,
            resolved_at=row.resolved_at,
            closed_at=row.closed_at,
            as_of=as_of,
            events=tuple(TicketEvent(e.at, e.actor, e.kind, TicketStatus(e.status), e.detail) for e in row.events),
        )

    # -- queries -------------------------------------------------------------------------

    def get(self, number: str) -> Ticket:
        with Session(self.engine) as session:
            row = session.scalar(select(TicketRow).where(TicketRow.number == number.strip()))
            if row is None:
                raise TicketNotFound(number)
            return self._view(row, self.now())

    def list(
        self,
        *,
        status: TicketStatus | None = None,
        meter_number: str | None = None,
        idpel: str | None = None,
        overdue_only: bool = False,
        limit: int = 100,
        mine: str | None = None,
    ) -> list[Ticket]:
        """Tickets newest first; a customer's view passes their own IDPEL; ``mine`` (a user
        name) keeps the tickets that user opened, is the technician of, or took a step on."""
        stmt = select(TicketRow).order_by(TicketRow.id.desc()).limit(limit)
        if mine is not None:
            stepped = select(TicketEventRow.ticket_id).where(TicketEventRow.actor == mine)
            stmt = stmt.where(
                (TicketRow.created_by == mine) | (TicketRow.technician == mine) | TicketRow.id.in_(stepped)
            )
        if status is not None:
            stmt = stmt.where(TicketRow.status == status.value)
        if meter_number is not None:
            stmt = stmt.where(TicketRow.meter_number == meter_number)
        if idpel is not None:
            stmt = stmt.where(TicketRow.idpel == idpel)
        now = self.now()
        with Session(self.engine) as session:
            tickets = [self._view(r, now) for r in session.scalars(stmt).all()]
        return [t for t in tickets if t.overdue] if overdue_only else tickets

    def changes_for(self, actor: str, since: datetime, *, limit: int = 50) -> builtins.list[tuple[str, TicketEvent]]:
        """Status changes made by others since ``since`` on the tickets ``actor`` works on
        (opened, is the technician of, or took a step on): the agent's notifications, newest
        first, as (ticket number, event)."""
        stepped = select(TicketEventRow.ticket_id).where(TicketEventRow.actor == actor)
        mine = select(TicketRow.id).where(
            (TicketRow.created_by == actor) | (TicketRow.technician == actor) | TicketRow.id.in_(stepped)
        )
        stmt = (
            select(TicketRow.number, TicketEventRow)
            .join(TicketEventRow, TicketEventRow.ticket_id == TicketRow.id)
            .where(TicketEventRow.ticket_id.in_(mine), TicketEventRow.actor != actor, TicketEventRow.at > since,
                   TicketEventRow.kind.not_in(("comment",)))
            .order_by(TicketEventRow.id.desc())
            .limit(limit)
        )  # fmt: skip
        with Session(self.engine) as session:
            return [
                (number, TicketEvent(e.at, e.actor, e.kind, TicketStatus(e.status), e.detail))
                for number, e in session.execute(stmt).all()
            ]

    # -- the flow ------------------------------------------------------------------------

    def open(
        self,
        *,
        channel: Channel | str,
        identifier: str,
        actor: str,
        category: str | None = None,
        description: str = "",
        contact: str = "",
        diagnosis: Diagnosis | None = None,
        typed: str = "",
        display: str = "",
    ) -> Ticket:
        """A new ticket; the category defaults to the attached diagnosis' cause. ``typed`` (the
        digits the customer keyed in) and ``display`` (what the meter showed) are kept with the
        attached diagnosis, so the agent sees them as typed."""
        try:
            chan = Channel(channel)
        except ValueError:
            raise _invalid(
                f"kanal pengaduan {channel!r} tidak dikenal",
                f"unknown complaint channel {channel!r}; use one of " + ", ".join(c.value for c in Channel),
            ) from None
        cat = category or (diagnosis.cause.value if diagnosis else "other")
        if cat not in CATEGORIES:
            raise _invalid(f"kategori {cat!r} tidak dikenal", f"unknown category {cat!r}")
        now = self.now()
        target = self.sla.target(cat)
        with claiming_session(self.engine) as session:
            meter = _find_meter(session, identifier)
            row = TicketRow(
                number=f"tmp-{uuid.uuid4().hex[:16]}",
                channel=chan.value,
                category=cat,
                meter_number=meter.meter_number,
                idpel=meter.customer.idpel,
                contact=contact.strip()[:120],
                description=description.strip(),
                diagnosis=_attached(diagnosis, typed, display),
                status=TicketStatus.OPEN.value,
                created_by=actor,
                created_at=now,
                response_due=now + target.response,
                resolution_due=now + target.resolution,
            )
            session.add(row)
            session.flush()
            row.number = f"PGD-{now.astimezone(WIB):%Y%m%d}-{row.id:06d}"
            self._record(session, row, actor, "opened", now, channel=chan.value, category=cat)
            session.flush()
            number = row.number
        return self.get(number)

    def assign(self, number: str, technician: str, actor: str) -> Ticket:
        if not technician.strip():
            raise _invalid("nama petugas wajib diisi", "a technician name is required")
        now = self.now()
        with self._step(number) as (session, row):
            self._move(row, TicketStatus.ASSIGNED)
            row.technician = technician.strip()
            if row.assigned_at is None:
                row.assigned_at = now
            self._record(session, row, actor, "assigned", now, technician=row.technician)
        return self.get(number)

    def schedule_visit(self, number: str, at: datetime, actor: str) -> Ticket:
        if at.tzinfo is None:
            raise _invalid("waktu kunjungan harus bertanda zona waktu",
                           "the visit time must carry a timezone")  # fmt: skip
        now = self.now()
        with self._step(number) as (session, row):
            if row.technician is None:
                raise TicketTransitionError(
                    Text(
                        f"Tiket {number} belum punya petugas; tugaskan dulu.",
                        f"Ticket {number} has no technician yet; assign one first.",
                    )
                )
            self._move(row, TicketStatus.VISIT_SCHEDULED)
            row.visit_at = at.astimezone(UTC)
            self._record(session, row, actor, "visit_scheduled", now, visit_at=row.visit_at)
        return self.get(number)

    def record_inspection(self, number: str, note: str, *, installation_ok: bool, actor: str) -> Ticket:
        """The technician's findings on site (needed before a clear-tamper token)."""
        if not note.strip():
            raise _invalid("hasil pemeriksaan wajib diisi", "the inspection note is required")
        now = self.now()
        with self._step(number) as (session, row):
            if TicketStatus(row.status) not in (
                TicketStatus.ASSIGNED,
                TicketStatus.VISIT_SCHEDULED,
            ):
                raise TicketTransitionError(
                    Text(
                        f"Pemeriksaan hanya dicatat untuk tiket yang sudah ditugaskan ({number}).",
                        f"An inspection is only recorded on an assigned ticket ({number}).",
                    )
                )
            row.inspection_note = note.strip()
            row.inspected_at = now
            row.installation_ok = installation_ok
            self._record(
                session, row, actor, "inspected", now, installation_ok=installation_ok,
                note=row.inspection_note,
            )  # fmt: skip
        return self.get(number)

    def comment(self, number: str, text: str, actor: str) -> Ticket:
        if not text.strip():
            raise _invalid("komentar kosong", "the comment is empty")
        now = self.now()
        with self._step(number) as (session, row):
            self._record(session, row, actor, "comment", now, text=text.strip())
        return self.get(number)

    def resolve(self, number: str, resolution: str, actor: str) -> Ticket:
        if not resolution.strip():
            raise _invalid("penyelesaian wajib diisi", "a resolution text is required")
        now = self.now()
        with self._step(number) as (session, row):
            self._move(row, TicketStatus.RESOLVED)
            row.resolution = resolution.strip()
            row.resolved_at = now
            self._record(session, row, actor, "resolved", now, resolution=row.resolution)
        return self.get(number)

    def reopen(self, number: str, reason: str, actor: str) -> Ticket:
        now = self.now()
        with self._step(number) as (session, row):
            self._move(row, TicketStatus.ASSIGNED)
            row.resolved_at = None
            self._record(session, row, actor, "reopened", now, reason=reason.strip())
        return self.get(number)

    def close(self, number: str, actor: str) -> Ticket:
        now = self.now()
        with self._step(number) as (session, row):
            self._move(row, TicketStatus.CLOSED)
            row.closed_at = now
            self._record(session, row, actor, "closed", now)
        return self.get(number)

    # -- closing actions -----------------------------------------------------------------

    def _issue(self, number: str, actor: str, kind: str, tokens: tuple[str, ...], **detail: Any) -> None:
        now = self.now()
        with self._step(number) as (session, row):
            row.issued_tokens = " ".join([*(row.issued_tokens or "").split(), *tokens])
            self._record(session, row, actor, kind, now, tokens=len(tokens), **detail)

    def _open_row(self, number: str) -> Ticket:
        ticket = self.get(number)
        if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            raise TicketTransitionError(
                Text(
                    f"Tiket {number} sudah {ticket.status.value}; buka kembali dulu.",
                    f"Ticket {number} is already {ticket.status.value}; reopen it first.",
                )
            )
        return ticket

    def clear_tamper(self, number: str, operator: str) -> tuple[str, ...]:
        """The clear-tamper token, only after an inspection that found the installation fine."""
        ticket = self._open_row(number)
        if ticket.inspected_at is None or not ticket.installation_ok:
            raise InspectionRequired(number)
        result = self._vending(
            lambda: self.vending.clear_tamper(
                operator, ticket.meter_number, f"ticket {number}: {ticket.inspection_note}"
            )
        )
        self._issue(number, operator, "clear_tamper_issued", result.tokens)
        return result.tokens

    def key_change(self, number: str, operator: str, *, rollover: bool = False) -> ApprovalRequest:
        """Ask for key change tokens (KCT) for the ticket's meter: admins only, and a second
        admin approves; the approved tokens are then attached to the ticket (``on_approved``)."""
        ticket = self._open_row(number)
        request = self._vending(
            lambda: self.vending.key_change(
                operator, ticket.meter_number, f"ticket {number}", rollover=rollover, context={"ticket": number}
            )
        )
        self._requested(number, operator, "key_change_requested", request, rollover=rollover)
        return request

    def replace_meter(self, number: str, operator: str, new_meter_number: str, carried_kwh: Decimal) -> ApprovalRequest:
        """Ask for a new meter record with the remaining credit as a token for it; needs a
        recorded inspection, and an admin who is neither ``operator`` nor the inspector approves."""
        ticket = self._open_row(number)
        if ticket.inspected_at is None:
            raise InspectionRequired(number, "replace_meter")
        inspectors = sorted({e.actor for e in ticket.events if e.kind == "inspected"})  # every one of them
        request = replace_meter(
            self.vending, operator, ticket.meter_number, new_meter_number, carried_kwh, f"ticket {number}",
            inspector=inspectors, ticket=number,
        )  # fmt: skip
        self._requested(
            number, operator, "replacement_requested", request,
            new_meter=request.payload["new_meter_number"], carried_kwh=request.payload["carried_kwh"],
        )  # fmt: skip
        return request

    def _requested(self, number: str, actor: str, kind: str, request: ApprovalRequest, **detail: Any) -> None:
        now = self.now()
        with self._step(number) as (session, row):
            self._record(session, row, actor, kind, now, approval=request.id, **detail)

    def on_approved(self, request: ApprovalRequest) -> None:
        """An approved key change or replacement for a ticket: its tokens join the ticket."""
        number = request.payload.get("ticket")
        if not number or request.checker is None:
            return
        now = self.now()
        with self._step(number) as (session, row):
            tokens = list(request.tokens)
            row.issued_tokens = " ".join([*(row.issued_tokens or "").split(), *tokens])
            if request.kind == "meter_replacement":
                row.replacement_meter = request.payload["new_meter_number"]
                self._record(
                    session, row, request.checker, "meter_replaced", now, approval=request.id,
                    maker=request.maker, new_meter=row.replacement_meter,
                    carried_kwh=request.payload["carried_kwh"], tokens=len(tokens),
                )  # fmt: skip
            else:
                self._record(
                    session, row, request.checker, "key_change_issued", now, approval=request.id,
                    maker=request.maker, rollover=request.payload.get("rollover", False), tokens=len(tokens),
                )  # fmt: skip

    @staticmethod
    def _vending(call: Callable[[], _T]) -> _T:
        try:
            return call()
        except NotAuthorized:
            raise  # a permission error stays one (403 on the web, not a ticket error)
        except VendingError as exc:
            raise SupportError(Text(exc.message_id, exc.message_en)) from exc


def _attached(diagnosis: Diagnosis | None, typed: str, display: str) -> str | None:
    if diagnosis is None:
        return None
    document = diagnosis.as_dict()
    if typed.strip():
        document["typed"] = typed.strip()[:64]
    if display.strip():
        document["display"] = display.strip()[:40]
    return json.dumps(document)


def _find_meter(session: Session, identifier: str) -> Meter:
    from prabayar.support.errors import MeterNotFound

    ident = "".join(identifier.split())
    if len(ident) == 12:
        customer = session.scalar(select(Customer).where(Customer.idpel == ident))
        if customer is None or not customer.meters:
            raise MeterNotFound(identifier)
        return customer.meters[-1]
    meter = session.scalar(select(Meter).where(Meter.meter_number == ident))
    if meter is None:
        raise MeterNotFound(identifier)
    return meter


def _follow_up(service: VendingService, request: ApprovalRequest, result: dict[str, Any]) -> None:
    TicketService(service).on_approved(request)


add_approval_hook("key_change", _follow_up)
add_approval_hook("meter_replacement", _follow_up)
