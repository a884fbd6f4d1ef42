"""Sales use cases: inquiry, quote, purchase, advice, delivery, unsold tokens, reprint, audit log."""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from prabayar import sts
from prabayar.sts import (
    ElectricityCredit,
)
from prabayar.vending._core import (
    MAX_CHANNEL_REFERENCE,
    ServiceCore,
    _is_lock_timeout,
    _result_of,
    month_of,
    new_reference_number,
)
from prabayar.vending.db import WriterBusy, claiming_session, reading_session
from prabayar.vending.errors import (
    InProcess,
    InvalidRequest,
    UnknownReference,
)
from prabayar.vending.models import (
    AuditRow,
    Channel,
    Customer,
    Meter,
    MonthlyUsage,
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


class SalesUseCases(ServiceCore):
    """What payment channels, customers and operators do with tokens for sale."""

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

    def purchase(self, channel: str, channel_reference: str, identifier: str, nominal: int) -> PurchaseResult:
        """Sell a token, exactly once per (channel, channel reference)."""
        reference = channel_reference.strip()
        if not reference or len(reference) > MAX_CHANNEL_REFERENCE:
            raise InvalidRequest(
                "REFERENSI LOKET TIDAK VALID",
                f"a channel reference has 1 to {MAX_CHANNEL_REFERENCE} characters",
            )
        now = self.now()
        try:
            with claiming_session(self.engine) as session:
                ch = self._channel(session, channel)
                existing = self._find_purchase(session, ch.id, reference)
                if existing is not None:
                    return self._replay(existing, channel, identifier, nominal)
                self._check_cutoff(now)
                meter = self._find_meter(session, identifier, lock=True)
                # A concurrent request with the same reference may have committed meanwhile.
                existing = self._find_purchase(session, ch.id, reference)
                if existing is not None:
                    return self._replay(existing, channel, identifier, nominal)
                self._check_sellable(meter)
                return self._sell(session, ch, meter, reference, nominal, now)
        except IntegrityError:
            # Lost the race on (channel, reference) against a request for another meter.
            with reading_session(self.engine) as session:
                ch = self._channel(session, channel)
                existing = self._find_purchase(session, ch.id, reference)
                if existing is None:
                    raise
                return self._replay(existing, channel, identifier, nominal)
        except OperationalError as exc:
            if _is_lock_timeout(exc):
                raise InProcess("the database was busy") from exc
            raise
        except WriterBusy as exc:
            raise InProcess("the database was busy") from exc

    def _sell(
        self,
        session: Session,
        channel: Channel,
        meter: Meter,
        reference: str,
        nominal: int,
        now: datetime,
    ) -> PurchaseResult:
        customer = meter.customer
        price, usage = self._quote_and_usage(session, channel, meter, nominal, now)
        tid = self._next_tid(meter, now)
        credit = ElectricityCredit(tid=tid, amount=price.kwh, rnd=secrets.randbelow(16))
        token = sts.encode(credit, self._decoder_key(meter))
        purchase = Purchase(
            reference_number=new_reference_number(customer.unit.code, now),
            channel_id=channel.id,
            channel_reference=reference,
            meter_number=meter.meter_number,
            idpel=customer.idpel,
            customer_name=customer.name,
            tariff_code=customer.tariff_class.print_code,
            va=customer.va,
            nominal=price.nominal,
            admin_fee=price.admin_fee,
            meterai=price.meterai,
            ppn=price.ppn,
            pbjt=price.pbjt,
            angsuran=price.angsuran,
            stroom=price.stroom,
            kwh=price.kwh,
            tariff_rp_per_kwh=price.tariff_rp_per_kwh,
            pbjt_rate=price.pbjt_rate,
            tid=tid,
            token=token,
            created_at=now,
            delivered_at=None,
        )
        session.add(purchase)
        if usage is None:
            month = month_of(now)
            session.add(MonthlyUsage(meter_number=meter.meter_number, month=month, kwh=price.kwh))
        else:
            usage.kwh = usage.kwh + price.kwh
        if price.angsuran:
            # An SQL-side decrement: two meters of one customer may sell at the same time.
            customer.debt_remaining = Customer.debt_remaining - price.angsuran
        self._record_sale(session, now, channel.code, purchase)
        session.flush()
        return _result_of(purchase, channel.code)

    def _record_sale(self, session: Session, now: datetime, actor: str, p: Purchase) -> None:
        self._audit(
            session,
            now,
            actor,
            "purchase",
            p.meter_number,
            reference_number=p.reference_number,
            channel_reference=p.channel_reference,
            nominal=p.nominal,
            kwh=str(p.kwh),
            tid=p.tid,
        )

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
