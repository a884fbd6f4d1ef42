"""``SupportSources`` over the vending back office (and, optionally, emulated meter states).

Read-only: the ledger and meter tables are queried directly because the vending use cases
refuse blocked customers and cut-off hours, which are exactly the cases support must see.
Decoder keys come through ``VendingService.meter_key`` so every key read is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from prabayar import sts
from prabayar.digits import is_digits
from prabayar.support.errors import MeterNotFound
from prabayar.support.sources import CampaignKeyChange, MeterRecord, MeterSnapshot, Sale
from prabayar.vending import VendingError, VendingService
from prabayar.vending.models import (
    Customer,
    CustomerStatus,
    ManagementTokenRecord,
    Meter,
    MeterStatus,
    Purchase,
)

SnapshotReader = Callable[[str], MeterSnapshot | None]

#: How much ledger history one diagnosis looks at (well beyond a TID memory of 50).
HISTORY = 200


def _no_snapshot(meter_number: str) -> MeterSnapshot | None:
    return None


class VendingSources:
    """Facts from the vending database; ``snapshots`` reads meter state where one exists."""

    def __init__(
        self,
        service: VendingService,
        snapshots: SnapshotReader = _no_snapshot,
        *,
        actor: str = "support",
    ) -> None:
        self.service = service
        self.snapshots = snapshots
        self.actor = actor

    def _session(self) -> Session:
        return Session(self.service.engine, expire_on_commit=False)

    def _find(self, session: Session, identifier: str) -> Meter | None:
        ident = sts.meter_number.compact(identifier)
        if len(ident) == 12 and is_digits(ident):
            customer = session.scalar(select(Customer).where(Customer.idpel == ident))
            if customer is None or not customer.meters:
                return None
            active = [m for m in customer.meters if m.status != MeterStatus.REPLACED]
            return (active or customer.meters)[-1]
        return session.scalar(select(Meter).where(Meter.meter_number == ident))

    def meter(self, identifier: str) -> MeterRecord:
        with self._session() as session:
            meter = self._find(session, identifier)
            if meter is None:
                raise MeterNotFound(identifier)
            customer = meter.customer
            number, idpel, name = meter.meter_number, customer.idpel, customer.name
            blocked = meter.status == MeterStatus.BLOCKED or customer.status == CustomerStatus.BLOCKED
            replaced_by = meter.replaced_by
        try:
            mk = self.service.meter_key(number, actor=self.actor, purpose="token diagnosis")
            key, params = mk.decoder_key, mk.params
        except VendingError:
            key, params = None, None  # e.g. no vending key for this SGC/KRN
        return MeterRecord(number, idpel, name, key, params, blocked, replaced_by)

    def campaign_key_changes(self, meter_number: str) -> Sequence[CampaignKeyChange]:
        """The meter's key-change campaign KCT sets, newest first (optional source method)."""
        return [
            CampaignKeyChange(k.campaign_id, k.tokens, k.state, k.delivered_at, k.delivered_via)
            for k in self.service.campaign_kcts(meter_number)
        ]

    def sales_for_meter(self, meter_number: str) -> Sequence[Sale]:
        with self._session() as session:
            rows = session.scalars(
                select(Purchase)
                .where(Purchase.meter_number == meter_number)
                .order_by(Purchase.id.desc())
                .limit(HISTORY)
            ).all()
            sales = [_sale_of(p) for p in rows]
            mgmt = session.scalars(
                select(ManagementTokenRecord)
                .where(ManagementTokenRecord.meter_number == meter_number)
                .order_by(ManagementTokenRecord.id.desc())
                .limit(HISTORY)
            ).all()
            idpel = _idpel_of(session, meter_number)
            for m in mgmt:
                sales.extend(_management_sales(m, idpel))
        sales.sort(key=lambda s: s.created_at, reverse=True)
        return sales

    def sale_by_token(self, digits: str) -> Sale | None:
        with self._session() as session:
            p = session.scalar(select(Purchase).where(Purchase.token == digits))
            if p is not None:
                return _sale_of(p)
            m = session.scalar(select(ManagementTokenRecord).where(ManagementTokenRecord.tokens.contains(digits)))
            if m is not None:
                sales = _management_sales(m, _idpel_of(session, m.meter_number))
                return next((s for s in sales if s.token == digits), None)
        return None

    def sales_by_tokens(self, candidates: Collection[str]) -> Sequence[Sale]:
        wanted = sorted(set(candidates))
        found: list[Sale] = []
        with self._session() as session:
            for i in range(0, len(wanted), 500):
                rows = session.scalars(select(Purchase).where(Purchase.token.in_(wanted[i : i + 500]))).all()
                found.extend(_sale_of(p) for p in rows)
        return found

    def snapshot(self, meter_number: str) -> MeterSnapshot | None:
        return self.snapshots(meter_number)


def _sale_of(p: Purchase) -> Sale:
    return Sale(
        token=p.token,
        meter_number=p.meter_number,
        idpel=p.idpel,
        tid=p.tid,
        kwh=p.kwh,
        created_at=p.created_at,
        delivered=p.delivered_at is not None,
        reference=p.reference_number,
        channel=p.channel.name,
        kind="credit",
        channel_reference=p.channel_reference,
    )


def _idpel_of(session: Session, meter_number: str) -> str:
    customer = session.scalar(select(Customer).join(Meter).where(Meter.meter_number == meter_number))
    return customer.idpel if customer is not None else ""


def _management_sales(m: ManagementTokenRecord, idpel: str) -> list[Sale]:
    tokens = m.tokens.split()
    return [
        Sale(
            token=t,
            meter_number=m.meter_number,
            idpel=idpel,
            tid=m.tid if len(tokens) == 1 else None,
            kwh=None,
            created_at=m.created_at,
            delivered=True,
            reference=f"MGMT-{m.id}",
            channel=f"PLN officer {m.operator}",
            kind=m.kind,
        )
        for t in tokens
    ]
