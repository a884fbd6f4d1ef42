"""The shared core of the vending use cases: lookups, claims, TIDs, keys and audit entries.

Every use case is one short database transaction. A sale claims its meter row first
(``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE OF meters`` on PostgreSQL). The use-case
groups in ``sales``, ``management`` and ``access`` build on these helpers and
``service.VendingService`` combines them.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Engine, Select, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, joinedload

from prabayar import sts
from prabayar.digits import is_digits
from prabayar.sts import (
    BaseDate,
    DecoderKey,
    Dkga,
    EncryptionAlgorithm,
    KeyParameters,
    KeyType,
)
from prabayar.vending.errors import (
    CustomerBlocked,
    CutOff,
    InvalidRequest,
    KeyChangeRequired,
    MeterReplaced,
    MonthlyCapExceeded,
    ReferenceConflict,
    UnknownChannel,
    UnknownCustomer,
    UnknownMeter,
)
from prabayar.vending.errors_masterdata import CustomerClosed, MeterNotInService
from prabayar.vending.keystore import KeyStore
from prabayar.vending.models import (
    AuditRow,
    Channel,
    Customer,
    CustomerStatus,
    Meter,
    MeterStatus,
    MonthlyUsage,
    Purchase,
    UnitTaxRate,
)
from prabayar.vending.pricing import (
    PPN_RATE,
    AdminFeeRule,
    DenominationRule,
    KwhRounding,
    PriceBreakdown,
    meterai_for,
    monthly_cap_kwh,
    ppn_applies,
    price_purchase,
)
from prabayar.vending.results import (
    ChannelInfo,
    Inquiry,
    PurchaseResult,
)
from prabayar.vending.tariff_rates import tariff_rate_at

#: Western Indonesian Time: what a person sees; inside everything is UTC.
WIB = timezone(timedelta(hours=7), "WIB")
_REF_ALPHABET = string.digits + string.ascii_uppercase
MAX_CHANNEL_REFERENCE = 64
#: The 2025 discount programme covered households up to this power.
DISCOUNT_MAX_VA = 2_200


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CutOffWindow:
    """The nightly window (WIB) in which PLN's host refuses inquiries and sales (RC 0090)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> CutOffWindow:
        """'23:30-00:30' (WIB)."""
        try:
            first, second = text.split("-")
            return cls(time.fromisoformat(first.strip()), time.fromisoformat(second.strip()))
        except ValueError as exc:
            raise ValueError(f"cut-off window {text!r} is not like '23:30-00:30'") from exc

    def active(self, now: datetime) -> bool:
        local = now.astimezone(WIB).time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def month_of(now: datetime) -> str:
    """The calendar month (WIB) a purchase counts towards, as 'YYYY-MM'."""
    wib = now.astimezone(WIB)
    return f"{wib.year:04d}-{wib.month:02d}"


def new_reference_number(unit_code: str, now: datetime) -> str:
    """PLN-like 32-character reference: unit code, WIB date, then 24 random characters."""
    prefix = (unit_code[:2].rjust(2, "0") + now.astimezone(WIB).strftime("%y%m%d"))[:8]
    return prefix + "".join(secrets.choice(_REF_ALPHABET) for _ in range(32 - len(prefix)))


def _params_of(meter: Meter) -> KeyParameters:
    return KeyParameters(
        key_type=KeyType(meter.key_type),
        sgc=meter.sgc,
        tariff_index=meter.tariff_index,
        krn=meter.krn,
        ken=meter.ken,
        algorithm=EncryptionAlgorithm(meter.algorithm),
        base_date=BaseDate(meter.base_date),
        dkga=Dkga(meter.dkga),
    )


def _price_of(p: Purchase) -> PriceBreakdown:
    return PriceBreakdown(
        nominal=p.nominal,
        admin_fee=p.admin_fee,
        total_paid=p.nominal + p.admin_fee,
        meterai=p.meterai,
        ppn=p.ppn,
        pbjt=p.pbjt,
        angsuran=p.angsuran,
        stroom=p.stroom,
        kwh=p.kwh,
        tariff_rp_per_kwh=p.tariff_rp_per_kwh,
        pbjt_rate=p.pbjt_rate,
    )


def _result_of(p: Purchase, channel_code: str, *, replayed: bool = False) -> PurchaseResult:
    return PurchaseResult(
        reference_number=p.reference_number,
        channel=channel_code,
        channel_reference=p.channel_reference,
        meter_number=p.meter_number,
        idpel=p.idpel,
        name=p.customer_name,
        tariff_code=p.tariff_code,
        va=p.va,
        token=p.token,
        tid=p.tid,
        price=_price_of(p),
        created_at=p.created_at,
        delivered=p.delivered_at is not None,
        replayed=replayed,
    )


def _channel_info(c: Channel) -> ChannelInfo:
    allowed = tuple(json.loads(c.allowed_nominals)) if c.allowed_nominals else None
    return ChannelInfo(
        code=c.code,
        name=c.name,
        kind=c.kind,
        allowed_nominals=allowed,
        min_nominal=c.min_nominal,
        max_nominal=c.max_nominal,
        purchases_per_minute=c.purchases_per_minute,
        key_version=c.key_version,
    )


def _denomination_rule(c: Channel) -> DenominationRule:
    return DenominationRule(minimum=c.min_nominal, maximum=c.max_nominal, allowed=_channel_info(c).allowed_nominals)


def _is_lock_timeout(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(
        s in text for s in ("database is locked", "lock timeout", "could not obtain lock",
                            "deadlock", "canceling statement due to lock timeout")
    )  # fmt: skip


class ServiceCore:
    """Configuration and the helpers every group of use cases needs."""

    def __init__(
        self,
        engine: Engine,
        key_store: KeyStore,
        *,
        clock: Callable[[], datetime] | None = None,
        cutoff: CutOffWindow | None = None,
        kwh_rounding: KwhRounding = KwhRounding.UP,
        household_discount: Decimal = Decimal(0),
    ) -> None:
        self.engine = engine
        self.key_store = key_store
        self._clock = clock or utc_now
        self.cutoff = cutoff
        self.kwh_rounding = kwh_rounding
        #: A fraction off the tariff for households up to 2,200 VA (0.5 reproduces the
        #: Jan-Feb 2025 programme; its 720 jam nyala limit is the cap every sale has anyway).
        self.household_discount = household_discount

    def __repr__(self) -> str:
        return f"VendingService({self.engine.url.render_as_string(hide_password=True)!r})"

    def now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the vending clock must give aware datetimes")
        return now.astimezone(UTC)

    def _check_cutoff(self, now: datetime) -> None:
        if self.cutoff is not None and self.cutoff.active(now):
            raise CutOff(str(self.cutoff))

    @staticmethod
    def _channel(session: Session, code: str) -> Channel:
        channel = session.scalar(select(Channel).where(Channel.code == code))
        if channel is None or not channel.active:
            raise UnknownChannel(code)
        return channel

    @staticmethod
    @cache
    def _meter_query(lock: bool) -> Select[Meter]:
        """Meter with customer, tariff and unit in one query; a claim locks the meter row only.

        Built once per variant: statements are immutable, and building the loader options is
        a noticeable part of a sale's CPU time.
        """
        stmt = select(Meter).options(
            joinedload(Meter.customer, innerjoin=True).joinedload(Customer.tariff_class, innerjoin=True),
            joinedload(Meter.customer, innerjoin=True).joinedload(Customer.unit, innerjoin=True),
        )
        if lock:
            stmt = stmt.with_for_update(of=Meter).execution_options(populate_existing=True)
        return stmt

    def _find_meter(self, session: Session, identifier: str, *, lock: bool = False) -> Meter:
        """The meter behind an identifier, whatever its status (typed errors when unknown)."""
        ident = sts.meter_number.compact(identifier)
        if not is_digits(ident):
            raise UnknownMeter(ident, detail="a meter number or IDPEL has only digits")
        if len(ident) == 12:
            customer = session.scalar(select(Customer).where(Customer.idpel == ident))
            if customer is None:
                raise UnknownCustomer(ident)
            gone = (MeterStatus.REPLACED, MeterStatus.REMOVED)
            meters = sorted(customer.meters, key=lambda m: (m.status not in gone, m.id))
            if not meters:
                raise UnknownCustomer(ident, "no meter is installed for this customer")
            in_service = [m for m in meters if m.status not in gone]
            if len(in_service) > 1:
                # Never guess which meter a token is for: it would only work on that one.
                numbers = ", ".join(m.meter_number for m in in_service)
                raise InvalidRequest(
                    f"IDPEL {ident} MEMILIKI {len(in_service)} METER ({numbers}): GUNAKAN NOMOR METER",
                    f"IDPEL {ident} has {len(in_service)} meters ({numbers}): use the meter number",
                )
            if not lock:
                return meters[-1]
            return session.scalars(self._meter_query(lock).where(Meter.id == meters[-1].id)).one()
        if len(ident) not in (11, 13):
            raise UnknownMeter(ident, detail=f"{len(ident)} digits: a meter number has 11, an IDPEL 12")
        try:
            sts.meter_number.validate(ident)
        except sts.InvalidChecksum as exc:
            raise UnknownMeter(ident, luhn_failed=True) from exc
        meter = session.scalar(self._meter_query(lock).where(Meter.meter_number == ident))
        if meter is None:
            raise UnknownMeter(ident)
        return meter

    @staticmethod
    def _check_sellable(meter: Meter) -> None:
        if meter.status == MeterStatus.REPLACED:
            raise MeterReplaced(meter.meter_number, meter.replaced_by)
        if meter.status == MeterStatus.BLOCKED:
            raise CustomerBlocked(meter.meter_number)
        if meter.status in (MeterStatus.REMOVED, MeterStatus.BROKEN):
            raise MeterNotInService(meter.meter_number, meter.status)
        if meter.customer.status == CustomerStatus.BLOCKED:
            raise CustomerBlocked(meter.customer.idpel)
        if meter.customer.status == CustomerStatus.CLOSED:
            raise CustomerClosed(meter.customer.idpel)

    @staticmethod
    def _find_purchase(session: Session, channel_id: int, reference: str) -> Purchase | None:
        return session.scalar(
            select(Purchase).where(Purchase.channel_id == channel_id, Purchase.channel_reference == reference)
        )

    @staticmethod
    def _replay(p: Purchase, channel: str, identifier: str, nominal: int) -> PurchaseResult:
        ident = sts.meter_number.compact(identifier)
        if ident not in (p.meter_number, p.idpel) or nominal != p.nominal:
            raise ReferenceConflict(channel, p.channel_reference)
        return _result_of(p, channel, replayed=True)

    @staticmethod
    def _audit(
        session: Session,
        at: datetime,
        actor: str,
        action: str,
        meter_number: str | None,
        **detail: Any,
    ) -> None:
        session.add(
            AuditRow(
                at=at,
                actor=actor,
                action=action,
                meter_number=meter_number,
                detail=json.dumps(detail, sort_keys=True, default=str),
            )
        )

    def _quote(self, session: Session, channel: Channel, meter: Meter, nominal: int, now: datetime) -> PriceBreakdown:
        """Price a sale and enforce the denomination rules and the monthly cap."""
        return self._quote_and_usage(session, channel, meter, nominal, now)[0]

    def _quote_and_usage(
        self, session: Session, channel: Channel, meter: Meter, nominal: int, now: datetime
    ) -> tuple[PriceBreakdown, MonthlyUsage | None]:
        if isinstance(nominal, bool) or not isinstance(nominal, int):
            raise InvalidRequest("NOMINAL TIDAK VALID", "the nominal must be whole rupiah")
        _denomination_rule(channel).check(nominal)
        customer = meter.customer
        tariff = customer.tariff_class
        rate = session.get(UnitTaxRate, (customer.unit_id, tariff.id))
        pbjt_rate = rate.pbjt_rate if rate is not None else Decimal(0)
        angsuran = 0
        if customer.debt_remaining > 0 and customer.angsuran_per_purchase > 0:
            room = (nominal - meterai_for(nominal)) // 2
            angsuran = min(customer.angsuran_per_purchase, customer.debt_remaining, room)
        price = price_purchase(
            nominal,
            tariff_rp_per_kwh=tariff_rate_at(session, tariff, now),
            pbjt_rate=pbjt_rate,
            admin_fee=AdminFeeRule.from_json(channel.admin_fee_rule).fee_for(nominal),
            ppn_rate=PPN_RATE if ppn_applies(tariff.household, customer.va) else Decimal(0),
            angsuran=angsuran,
            discount=(self.household_discount if tariff.household and customer.va <= DISCOUNT_MAX_VA else Decimal(0)),
            rounding=self.kwh_rounding,
        )
        cap = monthly_cap_kwh(customer.va)
        usage = session.get(MonthlyUsage, (meter.meter_number, month_of(now)))
        bought = usage.kwh if usage is not None else Decimal(0)
        if bought + price.kwh > cap:
            raise MonthlyCapExceeded(cap, bought, price.kwh)
        return price, usage

    def _next_tid(self, meter: Meter, now: datetime) -> int:
        """A TID above every TID this meter has seen, and not behind the clock (claimed)."""
        tid = self._tid_for(meter, now)
        meter.last_tid = tid
        return tid

    def _tid_for(self, meter: Meter, now: datetime) -> int:
        """The TID the next sale would carry; raises ``KeyChangeRequired`` past rollover or KEN."""
        base = BaseDate(meter.base_date)
        try:
            clock_tid = sts.tid_from_datetime(now, base)
        except sts.TidRolloverError as exc:
            raise KeyChangeRequired(meter.meter_number, str(exc)) from exc
        tid = max(clock_tid, meter.last_tid + 1)
        if tid > sts.TID_MAX:
            raise KeyChangeRequired(meter.meter_number, "the TID range of its base date is used up")
        try:
            sts.check_key_expiry(tid, meter.ken)
        except sts.KeyExpiredError as exc:
            raise KeyChangeRequired(meter.meter_number, str(exc)) from exc
        return tid

    def _decoder_key(self, meter: Meter) -> DecoderKey:
        pan = sts.meter_pan.from_meter_number(meter.meter_number)
        return self.key_store.decoder_key(pan, _params_of(meter))

    @staticmethod
    def _inquiry_of(session: Session, meter: Meter, now: datetime, *, channel_id: int | None = None) -> Inquiry:
        customer = meter.customer
        usage = session.get(MonthlyUsage, (meter.meter_number, month_of(now)))
        unsold_query = select(Purchase).where(
            Purchase.meter_number == meter.meter_number, Purchase.delivered_at.is_(None)
        )
        if channel_id is not None:
            unsold_query = unsold_query.where(Purchase.channel_id == channel_id)
        unsold = session.scalars(unsold_query.order_by(Purchase.id.desc())).all()
        return Inquiry(
            meter_number=meter.meter_number,
            idpel=customer.idpel,
            name=customer.name,
            address=customer.address,
            tariff_code=customer.tariff_class.print_code,
            tariff_class=customer.tariff_class.code,
            va=customer.va,
            unit_code=customer.unit.code,
            unit_name=f"{customer.unit.uid_name} / {customer.unit.up3_name}",
            meter_status=meter.status,
            customer_status=customer.status,
            monthly_cap_kwh=monthly_cap_kwh(customer.va),
            kwh_this_month=usage.kwh if usage is not None else Decimal("0.00"),
            debt_remaining=customer.debt_remaining,
            unsold=tuple(_result_of(p, p.channel.code) for p in unsold),
        )
