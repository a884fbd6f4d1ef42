"""The vending use cases: inquiry, quote, purchase, advice, reprint, unsold tokens, management.

Every use case is one short database transaction. A purchase claims its meter row first
(``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL); under that claim it
checks the channel reference, prices the sale, takes the next TID, signs the token and writes
the ledger row, the monthly usage and the audit entry. Either all of it commits or none of it.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Select, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, joinedload

from prabayar import sts
from prabayar.sts import (
    BaseDate,
    ClearCredit,
    ClearTamper,
    DecoderKey,
    Dkga,
    ElectricityCredit,
    EncryptionAlgorithm,
    KeyParameters,
    KeyType,
    SetMaximumPowerLimit,
    Token,
)
from prabayar.vending import accounts
from prabayar.vending.db import WriterBusy, claiming_session, reading_session
from prabayar.vending.errors import (
    AuthenticationFailed,
    CustomerBlocked,
    CutOff,
    InProcess,
    InvalidRequest,
    KeyChangeRequired,
    MeterReplaced,
    MonthlyCapExceeded,
    NotAuthorized,
    ReasonRequired,
    ReferenceConflict,
    UnknownChannel,
    UnknownCustomer,
    UnknownMeter,
    UnknownReference,
)
from prabayar.vending.keystore import KeyStore
from prabayar.vending.models import (
    AuditRow,
    Channel,
    ChannelApiKey,
    Customer,
    CustomerStatus,
    ManagementTokenRecord,
    Meter,
    MeterStatus,
    MonthlyUsage,
    Purchase,
    Role,
    UnitTaxRate,
    UserAccount,
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
    AuditEntry,
    ChannelInfo,
    Inquiry,
    ManagementResult,
    MeterKey,
    Principal,
    PurchaseResult,
)

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
    return now.astimezone(WIB).strftime("%Y-%m")


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
    )


def _denomination_rule(c: Channel) -> DenominationRule:
    return DenominationRule(
        minimum=c.min_nominal, maximum=c.max_nominal, allowed=_channel_info(c).allowed_nominals
    )


def _is_lock_timeout(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(
        s in text for s in ("database is locked", "lock timeout", "could not obtain lock",
                            "deadlock", "canceling statement due to lock timeout")
    )  # fmt: skip


class VendingService:
    """The back office's use cases over one database and one key store."""

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

    # -- helpers -----------------------------------------------------------------------------

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
    def _meter_query(lock: bool) -> Select[Meter]:
        """Meter with customer, tariff and unit in one query; a claim locks the meter row only."""
        stmt = select(Meter).options(
            joinedload(Meter.customer, innerjoin=True).joinedload(
                Customer.tariff_class, innerjoin=True
            ),
            joinedload(Meter.customer, innerjoin=True).joinedload(Customer.unit, innerjoin=True),
        )
        if lock:
            stmt = stmt.with_for_update(of=Meter).execution_options(populate_existing=True)
        return stmt

    def _find_meter(self, session: Session, identifier: str, *, lock: bool = False) -> Meter:
        """The meter behind an identifier, whatever its status (typed errors when unknown)."""
        ident = sts.meter_number.compact(identifier)
        if not ident.isdigit():
            raise UnknownMeter(ident, detail="a meter number or IDPEL has only digits")
        if len(ident) == 12:
            customer = session.scalar(select(Customer).where(Customer.idpel == ident))
            if customer is None:
                raise UnknownCustomer(ident)
            meters = sorted(customer.meters, key=lambda m: (m.status != MeterStatus.REPLACED, m.id))
            if not meters:
                raise UnknownCustomer(ident, "no meter is installed for this customer")
            if not lock:
                return meters[-1]
            return session.scalars(self._meter_query(lock).where(Meter.id == meters[-1].id)).one()
        if len(ident) not in (11, 13):
            raise UnknownMeter(
                ident, detail=f"{len(ident)} digits: a meter number has 11, an IDPEL 12"
            )
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
        if meter.customer.status == CustomerStatus.BLOCKED:
            raise CustomerBlocked(meter.customer.idpel)

    @staticmethod
    def _find_purchase(session: Session, channel_id: int, reference: str) -> Purchase | None:
        return session.scalar(
            select(Purchase).where(
                Purchase.channel_id == channel_id, Purchase.channel_reference == reference
            )
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

    def _quote(
        self, session: Session, channel: Channel, meter: Meter, nominal: int, now: datetime
    ) -> PriceBreakdown:
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
            tariff_rp_per_kwh=tariff.rp_per_kwh,
            pbjt_rate=pbjt_rate,
            admin_fee=AdminFeeRule.from_json(channel.admin_fee_rule).fee_for(nominal),
            ppn_rate=PPN_RATE if ppn_applies(tariff.household, customer.va) else Decimal(0),
            angsuran=angsuran,
            discount=(
                self.household_discount
                if tariff.household and customer.va <= DISCOUNT_MAX_VA
                else Decimal(0)
            ),
            rounding=self.kwh_rounding,
        )
        cap = monthly_cap_kwh(customer.va)
        usage = session.get(MonthlyUsage, (meter.meter_number, month_of(now)))
        bought = usage.kwh if usage is not None else Decimal(0)
        if bought + price.kwh > cap:
            raise MonthlyCapExceeded(cap, bought, price.kwh)
        return price, usage

    def _next_tid(self, meter: Meter, now: datetime) -> int:
        """A TID above every TID this meter has seen, and not behind the clock."""
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
        meter.last_tid = tid
        return tid

    def _decoder_key(self, meter: Meter) -> DecoderKey:
        pan = sts.meter_pan.from_meter_number(meter.meter_number)
        return self.key_store.decoder_key(pan, _params_of(meter))

    @staticmethod
    def _inquiry_of(
        session: Session, meter: Meter, now: datetime, *, channel_id: int | None = None
    ) -> Inquiry:
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

    # -- purchase use cases ------------------------------------------------------------------

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
            return self._quote(session, ch, meter, nominal, now)

    def purchase(
        self, channel: str, channel_reference: str, identifier: str, nominal: int
    ) -> PurchaseResult:
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
            where = (
                Purchase.idpel == ident
                if len(ident) == 12
                else Purchase.meter_number == meter.meter_number
            )
            rows = session.scalars(
                select(Purchase).where(where).order_by(Purchase.id.desc()).limit(limit)
            ).all()
            return [_result_of(p, p.channel.code) for p in rows]

    # -- management tokens -------------------------------------------------------------------

    @staticmethod
    def _operator(session: Session, username: str, action: str) -> UserAccount:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        if user is None or not user.active or user.role not in (Role.OPERATOR, Role.ADMIN):
            raise NotAuthorized(username, action)
        return user

    @staticmethod
    def _reason(reason: str) -> str:
        text = (reason or "").strip()
        if len(text) < 3:
            raise ReasonRequired()
        return text

    def _management(
        self,
        operator: str,
        meter_number: str,
        reason: str,
        kind: str,
        make: Callable[[int, int], Token],
        detail: dict[str, Any],
    ) -> ManagementResult:
        why = self._reason(reason)
        now = self.now()
        with claiming_session(self.engine) as session:
            self._operator(session, operator, f"issue a {kind} token")
            meter = self._find_meter(session, meter_number, lock=True)
            if meter.status == MeterStatus.REPLACED:
                raise MeterReplaced(meter.meter_number, meter.replaced_by)
            tid = self._next_tid(meter, now)
            token = sts.encode(make(tid, secrets.randbelow(16)), self._decoder_key(meter))
            session.add(
                ManagementTokenRecord(
                    meter_number=meter.meter_number,
                    kind=kind,
                    tokens=token,
                    tid=tid,
                    operator=operator,
                    reason=why,
                    created_at=now,
                )
            )
            self._audit(
                session, now, operator, f"management.{kind}", meter.meter_number,
                reason=why, tid=tid, **detail,
            )  # fmt: skip
            return ManagementResult(
                kind=kind,
                meter_number=meter.meter_number,
                tokens=(token,),
                operator=operator,
                reason=why,
                created_at=now,
                tid=tid,
            )

    def clear_tamper(self, operator: str, meter_number: str, reason: str) -> ManagementResult:
        """A clear-tamper token (the meter shows PERIKSA / blocks credit until it is entered)."""
        return self._management(
            operator, meter_number, reason, "clear_tamper",
            lambda tid, rnd: ClearTamper(tid=tid, rnd=rnd), {},
        )  # fmt: skip

    def clear_credit(
        self, operator: str, meter_number: str, reason: str, register: int = 0
    ) -> ManagementResult:
        """A clear-credit token for one register (0 electricity, 0xFFFF all)."""
        if not 0 <= register <= 0xFFFF:
            raise InvalidRequest("REGISTER TIDAK VALID", "the register is 0..65535")
        return self._management(
            operator, meter_number, reason, "clear_credit",
            lambda tid, rnd: ClearCredit(tid=tid, register=register, rnd=rnd),
            {"register": register},
        )  # fmt: skip

    def set_power_limit(
        self, operator: str, meter_number: str, watts: int, reason: str
    ) -> ManagementResult:
        """A set-maximum-power-limit token (watts)."""
        if isinstance(watts, bool) or not isinstance(watts, int) or watts <= 0:
            raise InvalidRequest("BATAS DAYA TIDAK VALID", "the power limit is a positive watts")
        try:
            SetMaximumPowerLimit(tid=0, watts=watts, rnd=0)
        except sts.StsError as exc:
            raise InvalidRequest("BATAS DAYA TIDAK VALID", str(exc)) from exc
        return self._management(
            operator, meter_number, reason, "power_limit",
            lambda tid, rnd: SetMaximumPowerLimit(tid=tid, watts=watts, rnd=rnd),
            {"watts": watts},
        )  # fmt: skip

    def key_change(
        self,
        operator: str,
        meter_number: str,
        reason: str,
        *,
        new_krn: int | None = None,
        rollover: bool = False,
    ) -> ManagementResult:
        """Key change tokens moving the meter to a new key revision (and base date on rollover).

        The tokens are encrypted with the meter's current key; the meter record is switched to
        the new key in the same transaction, and on a rollover its TID counter starts again.
        """
        why = self._reason(reason)
        now = self.now()
        with claiming_session(self.engine) as session:
            self._operator(session, operator, "issue key change tokens")
            meter = self._find_meter(session, meter_number, lock=True)
            if meter.status == MeterStatus.REPLACED:
                raise MeterReplaced(meter.meter_number, meter.replaced_by)
            current = _params_of(meter)
            krn = new_krn if new_krn is not None else current.krn % 9 + 1
            base = current.base_date
            if rollover:
                successor = current.base_date.successor
                if successor is None:
                    raise InvalidRequest(
                        "TIDAK ADA TANGGAL DASAR BERIKUTNYA", "no later STS base date exists"
                    )
                base = successor
            if krn == current.krn and not rollover:
                raise InvalidRequest(
                    "KRN BARU SAMA DENGAN KRN LAMA",
                    f"the meter already uses KRN {krn}; a key change needs another revision",
                )
            if not 1 <= krn <= 9:
                raise InvalidRequest("KRN TIDAK VALID", "a key revision number is 1..9")
            new_params = KeyParameters(
                key_type=current.key_type,
                sgc=current.sgc,
                tariff_index=current.tariff_index,
                krn=krn,
                ken=current.ken,
                algorithm=current.algorithm,
                base_date=base,
                dkga=self.key_store.vending_key_dkga(current.sgc, krn),
            )
            pan = sts.meter_pan.from_meter_number(meter.meter_number)
            current_key = self.key_store.decoder_key(pan, current)
            new_key = self.key_store.decoder_key(pan, new_params)
            tokens = tuple(
                sts.encode_key_change(current_key, new_key, new_params, rollover=rollover)
            )
            meter.krn = new_params.krn
            meter.base_date = new_params.base_date.value
            meter.dkga = new_params.dkga.value
            if rollover:
                meter.last_tid = 0
            kind = "key_change_rollover" if rollover else "key_change"
            session.add(
                ManagementTokenRecord(
                    meter_number=meter.meter_number,
                    kind=kind,
                    tokens=" ".join(tokens),
                    tid=None,
                    operator=operator,
                    reason=why,
                    created_at=now,
                )
            )
            self._audit(
                session, now, operator, f"key.{kind}", meter.meter_number, reason=why,
                old_krn=current.krn, new_krn=krn, old_base_date=current.base_date.value,
                new_base_date=base.value, old_key=current_key.fingerprint(),
                new_key=new_key.fingerprint(), tokens=len(tokens),
            )  # fmt: skip
            return ManagementResult(
                kind=kind,
                meter_number=meter.meter_number,
                tokens=tokens,
                operator=operator,
                reason=why,
                created_at=now,
            )

    def generate_vending_key(self, admin: str, sgc: str, krn: int, dkga: Dkga = Dkga.DKGA04) -> None:
        """A new vending key for a supply group and revision (admins only; audited)."""
        with reading_session(self.engine) as session:
            user = session.scalar(select(UserAccount).where(UserAccount.username == admin))
            if user is None or not user.active or user.role != Role.ADMIN:
                raise NotAuthorized(admin, "create vending keys (admin only)")
        try:
            KeyParameters(key_type=KeyType.DUTK, sgc=sgc, tariff_index="01", krn=krn, dkga=dkga)
        except sts.StsError as exc:
            raise InvalidRequest("PARAMETER KUNCI TIDAK VALID", str(exc)) from exc
        if self.key_store.has_vending_key(sgc, krn):
            raise InvalidRequest(
                "KUNCI SUDAH ADA", f"a vending key for SGC {sgc} KRN {krn} already exists"
            )
        self.key_store.generate_vending_key(sgc, krn, dkga, actor=admin)

    def meter_key(self, meter_number: str, *, actor: str, purpose: str) -> MeterKey:
        """The meter's key parameters and decoder key, for a virtual meter or a diagnosis.

        Every read is audited; the returned ``DecoderKey`` hides its bytes in any repr.
        """
        if not purpose.strip():
            raise ReasonRequired()
        now = self.now()
        with claiming_session(self.engine) as session:
            meter = self._find_meter(session, meter_number)
            params = _params_of(meter)
            pan = sts.meter_pan.from_meter_number(meter.meter_number)
            key = self.key_store.decoder_key(pan, params)
            self._audit(
                session, now, actor, "key.decoder_read", meter.meter_number,
                purpose=purpose.strip(), key=key.fingerprint(), krn=params.krn,
            )  # fmt: skip
            return MeterKey(meter.meter_number, pan, params, key)

    def management_history(self, meter_number: str, limit: int = 20) -> list[ManagementResult]:
        """The management tokens issued for a meter, newest first."""
        with reading_session(self.engine) as session:
            meter = self._find_meter(session, meter_number)
            rows = session.scalars(
                select(ManagementTokenRecord)
                .where(ManagementTokenRecord.meter_number == meter.meter_number)
                .order_by(ManagementTokenRecord.id.desc())
                .limit(limit)
            ).all()
            return [
                ManagementResult(
                    kind=r.kind,
                    meter_number=r.meter_number,
                    tokens=tuple(r.tokens.split()),
                    operator=r.operator,
                    reason=r.reason,
                    created_at=r.created_at,
                    tid=r.tid,
                )
                for r in rows
            ]

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

    # -- accounts and channels ---------------------------------------------------------------

    def create_user(
        self, username: str, password: str, role: Role | str, *, idpel: str | None = None
    ) -> Principal:
        """A web login; a customer account is linked to its customer by IDPEL."""
        name = username.strip()
        if not name or len(name) > 64:
            raise InvalidRequest("NAMA PENGGUNA TIDAK VALID", "a username has 1 to 64 characters")
        try:
            role = Role(role)
            password_hash = accounts.hash_password(password)
        except ValueError as exc:
            raise InvalidRequest("DATA PENGGUNA TIDAK VALID", str(exc)) from exc
        now = self.now()
        with claiming_session(self.engine) as session:
            if session.scalar(select(UserAccount.id).where(UserAccount.username == name)):
                raise InvalidRequest(
                    "NAMA PENGGUNA SUDAH ADA", f"a user named {name!r} already exists"
                )
            customer_id = None
            if idpel is not None:
                customer = session.scalar(select(Customer).where(Customer.idpel == idpel))
                if customer is None:
                    raise UnknownCustomer(idpel)
                customer_id = customer.id
            session.add(
                UserAccount(
                    username=name,
                    password_hash=password_hash,
                    role=role.value,
                    customer_id=customer_id,
                    active=True,
                    created_at=now,
                )
            )
            self._audit(session, now, "system", "user.create", None, username=name, role=role)
        return Principal(name, role.value, idpel)

    def authenticate_user(self, username: str, password: str) -> Principal:
        """Check a web login; the same error whether the user or the password is wrong."""
        with reading_session(self.engine) as session:
            user = session.scalar(select(UserAccount).where(UserAccount.username == username))
            if user is None or not user.active:
                raise AuthenticationFailed()
            if not accounts.verify_password(user.password_hash, password):
                raise AuthenticationFailed()
            idpel = user.customer.idpel if user.customer is not None else None
            return Principal(user.username, user.role, idpel)

    def issue_channel_key(self, channel: str, api_key: str | None = None) -> str:
        """A new API key for a channel; only its hash is kept, so this is the one showing."""
        key = api_key or accounts.new_api_key()
        if len(key) < 24:
            raise InvalidRequest("KUNCI API TERLALU PENDEK", "an API key has at least 24 chars")
        now = self.now()
        with claiming_session(self.engine) as session:
            ch = self._channel(session, channel)
            session.add(
                ChannelApiKey(channel_id=ch.id, key_hash=accounts.hash_api_key(key), created_at=now)
            )
            self._audit(session, now, "system", "channel.key_issued", None, channel=channel)
        return key

    def authenticate_channel(self, api_key: str) -> ChannelInfo:
        """The channel an API key belongs to."""
        digest = accounts.hash_api_key(api_key)
        with reading_session(self.engine) as session:
            row = session.scalar(
                select(ChannelApiKey).where(
                    ChannelApiKey.key_hash == digest, ChannelApiKey.revoked_at.is_(None)
                )
            )
            if row is None or not row.channel.active:
                raise AuthenticationFailed()
            return _channel_info(row.channel)

    def channels(self) -> list[ChannelInfo]:
        with reading_session(self.engine) as session:
            rows = session.scalars(select(Channel).where(Channel.active).order_by(Channel.code))
            return [_channel_info(c) for c in rows]

    def customer_meters(self, idpel: str) -> list[Inquiry]:
        """A customer's meters (replaced ones included), for the customer's own pages."""
        now = self.now()
        with reading_session(self.engine) as session:
            customer = session.scalar(select(Customer).where(Customer.idpel == idpel))
            if customer is None:
                raise UnknownCustomer(idpel)
            return [self._inquiry_of(session, m, now) for m in sorted(customer.meters, key=lambda m: m.id)]
