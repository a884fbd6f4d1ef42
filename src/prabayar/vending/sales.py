"""Sales use cases: inquiry, quote, purchase, advice, delivery, unsold tokens, reprint, audit log."""

from __future__ import annotations

import json

from sqlalchemy import select

from prabayar import sts
from prabayar.vending._core import (
    _result_of,
)
from prabayar.vending.db import claiming_session, reading_session
from prabayar.vending.errors import (
    InvalidRequest,
    UnknownReference,
)
from prabayar.vending.fastpath import LeanPurchase
from prabayar.vending.models import (
    AuditRow,
    Purchase,
)
from prabayar.vending.pricing import (
    PriceBreakdown,
)
from prabayar.vending.results import (
    AuditEntry,
    Inquiry,
    PurchaseResult,
)


class SalesUseCases(LeanPurchase):
    """What payment channels, customers and operators do with tokens for sale.

    ``purchase`` is the lean path of :mod:`prabayar.vending.fastpath`.
    """

    def inquiry(self, identifier: str, *, channel: str | None = None) -> Inquiry:
        """Customer, tariff, power and unit behind a meter number or IDPEL.

        With ``channel`` (a payment channel asking), ``unsold`` lists only that channel's own
        undelivered tokens: a token paid through one seller is not handed to another.
        """
        now = self.now()
        self._check_cutoff(now)
        with reading_session(self.engine) as session:
            channel_id = self._channel(session, channel).id if channel is not None else None
            meter = self._find_meter(session, identifier)
            self._check_sellable(meter)
            return self._inquiry_of(session, meter, now, channel_id=channel_id)

    def quote(self, channel: str, identifier: str, nominal: int) -> PriceBreakdown:
        """What a purchase would cost and buy, without buying."""
        now = self.now()
        self._check_cutoff(now)
        with reading_session(self.engine) as session:
            ch = self._channel(session, channel)
            meter = self._find_meter(session, identifier)
            self._check_sellable(meter)
            # the same refusals as a purchase: a meter past its key's rollover or KEN is not quoted
            self._tid_for(meter, now)
            return self._quote(session, ch, meter, nominal, now)

    def _delivered(self, channel: str, channel_reference: str, action: str) -> PurchaseResult:
        now = self.now()
        with claiming_session(self.engine) as session:
            ch = self._channel(session, channel)
            p = self._find_purchase(session, ch.id, channel_reference.strip())
            if p is None:
                raise UnknownReference(channel, channel_reference)
            first_delivery = p.delivered_at is None
            if first_delivery:
                p.delivered_at = now
            self._audit(
                session,
                now,
                channel,
                action,
                p.meter_number,
                reference_number=p.reference_number,
                channel_reference=p.channel_reference,
                first_delivery=first_delivery,
            )
            return _result_of(p, channel)

    def advice(self, channel: str, channel_reference: str) -> PurchaseResult:
        """The answer again for a purchase whose response was lost; marks it delivered."""
        return self._delivered(channel, channel_reference, "advice")

    def confirm_delivery(self, channel: str, channel_reference: str) -> None:
        """The channel handed the token over: it is no longer an unsold token."""
        self._delivered(channel, channel_reference, "delivery.confirmed")

    def unsold_tokens(self, identifier: str) -> list[PurchaseResult]:
        """Purchases paid for this meter whose token never reached the channel."""
        with reading_session(self.engine) as session:
            meter = self._find_meter(session, identifier)
            rows = session.scalars(
                select(Purchase)
                .where(Purchase.meter_number == meter.meter_number, Purchase.delivered_at.is_(None))
                .order_by(Purchase.id.desc())
            ).all()
            return [_result_of(p, p.channel.code) for p in rows]

    def reprint(self, identifier: str, limit: int = 10) -> list[PurchaseResult]:
        """Riwayat: the last tokens of a meter (or of all a customer's meters), newest first."""
        if limit < 1:
            raise InvalidRequest("JUMLAH TIDAK VALID", "the limit must be at least 1")
        with reading_session(self.engine) as session:
            meter = self._find_meter(session, identifier)
            ident = sts.meter_number.compact(identifier)
            where = Purchase.idpel == ident if len(ident) == 12 else Purchase.meter_number == meter.meter_number
            rows = session.scalars(select(Purchase).where(where).order_by(Purchase.id.desc()).limit(limit)).all()
            return [_result_of(p, p.channel.code) for p in rows]

    def audit_log(
        self,
        *,
        meter_number: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """The audit log, newest first; ``action`` matches a prefix ("key." for all key ops)."""
        stmt = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if meter_number is not None:
            stmt = stmt.where(AuditRow.meter_number == sts.meter_number.compact(meter_number))
        if actor is not None:
            stmt = stmt.where(AuditRow.actor == actor)
        if action is not None:
            stmt = stmt.where(AuditRow.action.startswith(action, autoescape=True))
        with reading_session(self.engine) as session:
            return [
                AuditEntry(r.id, r.at, r.actor, r.action, r.meter_number, json.loads(r.detail))
                for r in session.scalars(stmt)
            ]
