"""Read-only queries the operator console and the ticket desk need beyond the sales use cases:
find a customer by name, address, phone or ticket number; a customer's contact facts; the
management tokens issued for a meter in the past.

Plain functions over an engine (no use-case mixin): they change nothing and audit nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from prabayar.vending.models import AuditRow, Customer, ManagementTokenRecord, Meter
from prabayar.vending.results import AuditEntry


@dataclass(frozen=True)
class CustomerHit:
    """One customer found by a console search."""

    idpel: str
    name: str
    address: str
    phone: str
    status: str
    meter_numbers: tuple[str, ...]


@dataclass(frozen=True)
class CustomerContact:
    idpel: str
    name: str
    phone: str
    status: str
    status_reason: str


@dataclass(frozen=True)
class PastManagementToken:
    kind: str
    meter_number: str
    tokens: tuple[str, ...]
    operator: str
    reason: str
    created_at: datetime


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_customers(engine: Engine, text: str, *, limit: int = 25) -> list[CustomerHit]:
    """Customers whose name or address contains ``text`` (any case), or whose phone number
    contains its digits (at least 4); names and addresses are stored upper-case."""
    needle = " ".join(text.split())
    if len(needle) < 3:
        return []
    pattern = f"%{_escape(needle.upper())}%"
    conditions = [
        func.upper(Customer.name).like(pattern, escape="\\"),
        func.upper(Customer.address).like(pattern, escape="\\"),
    ]
    digits = "".join(ch for ch in needle if "0" <= ch <= "9")
    if len(digits) >= 4:
        conditions.append(Customer.phone.like(f"%{digits}%"))
    stmt = select(Customer).where(or_(*conditions)).order_by(Customer.name, Customer.idpel).limit(limit)
    with Session(engine) as session:
        return [
            CustomerHit(
                c.idpel,
                c.name,
                c.address,
                c.phone or "",
                c.status,
                tuple(m.meter_number for m in sorted(c.meters, key=lambda m: m.id)),
            )
            for c in session.scalars(stmt)
        ]


def customer_contact(engine: Engine, idpel: str) -> CustomerContact | None:
    with Session(engine) as session:
        c = session.scalar(select(Customer).where(Customer.idpel == idpel))
        if c is None:
            return None
        return CustomerContact(c.idpel, c.name, c.phone or "", c.status, c.status_reason or "")


def meter_customer_idpel(engine: Engine, meter_number: str) -> str | None:
    with Session(engine) as session:
        meter = session.scalar(select(Meter).where(Meter.meter_number == meter_number))
        return meter.customer.idpel if meter is not None else None


def past_management_tokens(engine: Engine, meter_numbers: list[str], *, limit: int = 50) -> list[PastManagementToken]:
    """Management token sets issued for these meters, newest first (the tokens in keying order)."""
    if not meter_numbers:
        return []
    stmt = (
        select(ManagementTokenRecord)
        .where(ManagementTokenRecord.meter_number.in_(meter_numbers))
        .order_by(ManagementTokenRecord.id.desc())
        .limit(limit)
    )
    with Session(engine) as session:
        return [
            PastManagementToken(r.kind, r.meter_number, tuple(r.tokens.split()), r.operator, r.reason, r.created_at)
            for r in session.scalars(stmt)
        ]


def audit_page(
    engine: Engine,
    *,
    meter_number: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[AuditEntry], bool]:
    """One page of the audit log, newest first, and whether an older page exists. ``action``
    matches a prefix ("management." for every management token); ``since``/``until`` bound
    the time (``until`` exclusive)."""
    stmt = select(AuditRow).order_by(AuditRow.id.desc()).offset(max(offset, 0)).limit(limit + 1)
    if meter_number:
        stmt = stmt.where(AuditRow.meter_number == meter_number)
    if actor:
        stmt = stmt.where(AuditRow.actor == actor)
    if action:
        stmt = stmt.where(AuditRow.action.startswith(action, autoescape=True))
    if since is not None:
        stmt = stmt.where(AuditRow.at >= since)
    if until is not None:
        stmt = stmt.where(AuditRow.at < until)
    with Session(engine) as session:
        rows = list(session.scalars(stmt))
    entries = [AuditEntry(r.id, r.at, r.actor, r.action, r.meter_number, _detail(r.detail)) for r in rows[:limit]]
    return entries, len(rows) > limit


def audit_actors(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.scalars(select(AuditRow.actor).distinct().limit(500)))


def _detail(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}
