"""Master data of a region: units, customers and meters (register, change, install, remove).

Use cases on ``VendingService`` (mixed in from here). Every change is one transaction with an
audit row naming who did it and why. Users act with their web role (operators register
customers and meters; units are for admins); the CLI, run by an administrator on the server,
passes ``server=True`` and acts as ``cli:<os user>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from prabayar.digits import is_digits
from prabayar.sts import KeyParameters
from prabayar.vending import validation
from prabayar.vending._core import ServiceCore
from prabayar.vending.db import claiming_session, reading_session
from prabayar.vending.errors import InvalidRequest, NotAuthorized, UnknownCustomer, UnknownMeter
from prabayar.vending.models import (
    Customer,
    CustomerStatus,
    Meter,
    MeterStatus,
    MeterStock,
    Role,
    TariffClass,
    Unit,
    UnitTaxRate,
    UserAccount,
)
from prabayar.vending.pricing import monthly_cap_kwh

#: Meter statuses in which a meter is on its customer's connection.
IN_SERVICE = (MeterStatus.ACTIVE, MeterStatus.BLOCKED)
STOCK_IN = "in_stock"
STOCK_BROKEN = "broken"


@dataclass(frozen=True)
class UnitInfo:
    code: str
    uid_name: str
    up3_name: str
    is_default: bool
    #: tariff class code -> PBJT-TL rate (0.024 = 2.4 %)
    pbjt_rates: dict[str, Decimal]


@dataclass(frozen=True)
class MeterRecord:
    """A meter as the back office holds it; ``idpel`` is None while it is in stock."""

    meter_number: str
    status: str
    idpel: str | None
    key_type: int
    sgc: str
    tariff_index: str
    krn: int
    ken: int
    ea: str
    dkga: str
    base_date: str
    last_tid: int
    replaced_by: str | None = None

    @property
    def base_year(self) -> str:
        return {"93": "1993", "14": "2014", "35": "2035"}[self.base_date]


@dataclass(frozen=True)
class CustomerRecord:
    idpel: str
    name: str
    address: str
    unit_code: str
    tariff_class: str
    tariff_code: str
    va: int
    phone: str | None
    status: str
    status_reason: str | None
    monthly_cap_kwh: Decimal
    meters: tuple[MeterRecord, ...]


def _meter_record(m: Meter) -> MeterRecord:
    return MeterRecord(
        meter_number=m.meter_number,
        status=m.status,
        idpel=m.customer.idpel,
        key_type=m.key_type,
        sgc=m.sgc,
        tariff_index=m.tariff_index,
        krn=m.krn,
        ken=m.ken,
        ea=m.algorithm,
        dkga=m.dkga,
        base_date=m.base_date,
        last_tid=m.last_tid,
        replaced_by=m.replaced_by,
    )


def _stock_record(s: MeterStock) -> MeterRecord:
    return MeterRecord(
        meter_number=s.meter_number,
        status=s.status,
        idpel=None,
        key_type=s.key_type,
        sgc=s.sgc,
        tariff_index=s.tariff_index,
        krn=s.krn,
        ken=s.ken,
        ea=s.algorithm,
        dkga=s.dkga,
        base_date=s.base_date,
        last_tid=0,
    )


def _customer_record(c: Customer) -> CustomerRecord:
    return CustomerRecord(
        idpel=c.idpel,
        name=c.name,
        address=c.address,
        unit_code=c.unit.code,
        tariff_class=c.tariff_class.code,
        tariff_code=c.tariff_class.print_code,
        va=c.va,
        phone=c.phone,
        status=c.status,
        status_reason=c.status_reason,
        monthly_cap_kwh=monthly_cap_kwh(c.va),
        meters=tuple(_meter_record(m) for m in sorted(c.meters, key=lambda m: m.id)),
    )


def _rate(value: object) -> Decimal:
    try:
        rate = Decimal(str(value).strip().rstrip("%")) / (100 if str(value).strip().endswith("%") else 1)
    except (InvalidOperation, ValueError):
        raise validation.InvalidField("pbjt_rate", "TARIF PBJT-TL TIDAK VALID", f"{value!r} is not a rate") from None
    if not rate.is_finite() or not Decimal(0) <= rate < 1 or rate != rate.quantize(Decimal("0.000001")):
        raise validation.InvalidField(
            "pbjt_rate", "TARIF PBJT-TL TIDAK VALID", "a PBJT-TL rate is 0 to under 1 (0.024 or 2.4%), 6 decimals"
        )
    return rate


class MasterDataUseCases(ServiceCore):
    """Units, customers and meters."""

    # --- who may act -------------------------------------------------------------------------
    @staticmethod
    def _authorise(session: Session, actor: str, action: str, roles: tuple[str, ...], server: bool) -> str:
        """The actor's audit name; refuses a user without one of ``roles`` (CLI on the server: any)."""
        if server:
            return actor
        user = session.scalar(select(UserAccount).where(UserAccount.username == actor))
        if user is None or not user.active or user.role not in roles:
            raise NotAuthorized(actor, action)
        return actor

    _OPERATORS = (Role.OPERATOR.value, Role.ADMIN.value)
    _ADMINS = (Role.ADMIN.value,)

    # --- units ---------------------------------------------------------------------------------
    def units(self) -> list[UnitInfo]:
        with reading_session(self.engine) as session:
            classes = {t.id: t.code for t in session.scalars(select(TariffClass))}
            return [
                UnitInfo(
                    u.code,
                    u.uid_name,
                    u.up3_name,
                    u.is_default,
                    {classes[r.tariff_class_id]: r.pbjt_rate for r in u.tax_rates},
                )
                for u in session.scalars(select(Unit).order_by(Unit.code))
            ]

    def default_unit(self) -> str | None:
        """The unit code a customer gets when none is named."""
        with reading_session(self.engine) as session:
            return session.scalar(select(Unit.code).where(Unit.is_default).order_by(Unit.id).limit(1))

    def add_unit(
        self,
        actor: str,
        code: str,
        uid_name: str,
        up3_name: str,
        reason: str,
        *,
        pbjt_rates: dict[str, object] | None = None,
        default_rate: object = "0",
        server: bool = False,
    ) -> UnitInfo:
        """A new unit; every tariff class gets ``default_rate`` unless ``pbjt_rates`` names it."""
        why = validation.reason(reason)
        unit_code = (code or "").strip()
        if not is_digits(unit_code) or not 1 <= len(unit_code) <= 8:
            raise validation.InvalidField("unit", "KODE UNIT TIDAK VALID", "a unit code is 1-8 digits")
        uid, up3 = " ".join((uid_name or "").split()).upper(), " ".join((up3_name or "").split()).upper()
        if not 1 <= len(uid) <= 80 or not 1 <= len(up3) <= 80:
            raise validation.InvalidField("uid_name", "NAMA UID/UP3 WAJIB DIISI", "UID and UP3 names have 1-80 chars")
        base = _rate(default_rate)
        rates = {k.upper(): _rate(v) for k, v in (pbjt_rates or {}).items()}
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, "add a unit", self._ADMINS, server)
            if session.scalar(select(Unit.id).where(Unit.code == unit_code)) is not None:
                raise InvalidRequest("KODE UNIT SUDAH ADA", f"unit {unit_code} already exists")
            classes = list(session.scalars(select(TariffClass)))
            unknown = set(rates) - {t.code.upper() for t in classes}
            if unknown:
                raise validation.InvalidField(
                    "tariff", "GOLONGAN TARIF TIDAK DIKENAL", f"unknown tariff {sorted(unknown)}"
                )
            unit = Unit(code=unit_code, uid_name=uid, up3_name=up3, is_default=False)
            session.add(unit)
            session.flush()
            for t in classes:
                session.add(
                    UnitTaxRate(unit_id=unit.id, tariff_class_id=t.id, pbjt_rate=rates.get(t.code.upper(), base))
                )
            self._audit(
                session,
                now,
                who,
                "unit.add",
                None,
                unit=unit_code,
                uid=uid,
                up3=up3,
                reason=why,
                default_rate=str(base),
                rates={k: str(v) for k, v in rates.items()},
            )
        return next(u for u in self.units() if u.code == unit_code)

    def set_unit_tax_rate(
        self, actor: str, unit: str, tariff: str, rate: object, reason: str, *, server: bool = False
    ) -> UnitInfo:
        """Change the PBJT-TL rate of one tariff class in one unit (a regional tax decision)."""
        why = validation.reason(reason)
        new_rate = _rate(rate)
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, "change a PBJT-TL rate", self._ADMINS, server)
            u = self._unit(session, unit)
            t = session.scalar(select(TariffClass).where(TariffClass.code == tariff.strip().upper()))
            if t is None:
                raise validation.InvalidField("tariff", "GOLONGAN TARIF TIDAK DIKENAL", f"unknown tariff {tariff!r}")
            row = session.get(UnitTaxRate, (u.id, t.id))
            old = row.pbjt_rate if row is not None else None
            if row is None:
                session.add(UnitTaxRate(unit_id=u.id, tariff_class_id=t.id, pbjt_rate=new_rate))
            else:
                row.pbjt_rate = new_rate
            self._audit(
                session,
                now,
                who,
                "unit.pbjt_rate",
                None,
                unit=u.code,
                tariff=t.code,
                old=str(old) if old is not None else None,
                new=str(new_rate),
                reason=why,
            )
        return next(x for x in self.units() if x.code == u.code)

    def set_default_unit(self, actor: str, unit: str, reason: str, *, server: bool = False) -> None:
        why = validation.reason(reason)
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, "choose the default unit", self._ADMINS, server)
            u = self._unit(session, unit)
            for other in session.scalars(select(Unit).where(Unit.is_default)):
                other.is_default = False
            u.is_default = True
            self._audit(session, now, who, "unit.default", None, unit=u.code, reason=why)

    @staticmethod
    def _unit(session: Session, code: str | None) -> Unit:
        if code is None or not str(code).strip():
            unit = session.scalar(select(Unit).where(Unit.is_default).order_by(Unit.id).limit(1))
            if unit is None:
                raise validation.InvalidField(
                    "unit", "UNIT WAJIB DIISI (TIDAK ADA UNIT BAKU)", "name a unit: no default unit is configured"
                )
            return unit
        unit = session.scalar(select(Unit).where(Unit.code == str(code).strip()))
        if unit is None:
            raise validation.InvalidField("unit", f"UNIT {code} TIDAK DIKENAL", f"unknown unit {code!r}")
        return unit

    # --- customers -----------------------------------------------------------------------------
    @staticmethod
    def _customer(session: Session, idpel: str) -> Customer:
        ident = validation.idpel(idpel)
        customer = session.scalar(select(Customer).where(Customer.idpel == ident))
        if customer is None:
            raise UnknownCustomer(ident)
        return customer

    def register_customer(
        self,
        actor: str,
        *,
        idpel: str,
        name: str,
        address: str,
        tariff: str,
        power_va: object,
        reason: str,
        unit: str | None = None,
        phone: str | None = None,
        server: bool = False,
    ) -> CustomerRecord:
        """A new customer (no meter yet: install one with ``install_meter``)."""
        why = validation.reason(reason)
        ident, who_name, addr = validation.idpel(idpel), validation.name(name), validation.address(address)
        va, tel = validation.power_va(power_va), validation.phone(phone)
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, "register a customer", self._OPERATORS, server)
            if session.scalar(select(Customer.id).where(Customer.idpel == ident)) is not None:
                raise validation.InvalidField(
                    "idpel", f"ID PELANGGAN {ident} SUDAH TERDAFTAR", f"IDPEL {ident} is already registered"
                )
            u = self._unit(session, unit)
            t = validation.resolve_tariff(session.scalars(select(TariffClass)).all(), tariff, va)
            customer = Customer(
                idpel=ident,
                name=who_name,
                address=addr,
                unit_id=u.id,
                tariff_class_id=t.id,
                va=va,
                status=CustomerStatus.ACTIVE,
                debt_remaining=0,
                angsuran_per_purchase=0,
                phone=tel,
            )
            session.add(customer)
            session.flush()
            self._audit(
                session,
                now,
                who,
                "customer.register",
                None,
                idpel=ident,
                name=who_name,
                unit=u.code,
                tariff=t.code,
                va=va,
                reason=why,
            )
            return _customer_record(customer)

    def change_power(
        self,
        actor: str,
        idpel: str,
        power_va: object,
        reason: str,
        *,
        tariff: str | None = None,
        server: bool = False,
    ) -> CustomerRecord:
        """Ubah daya: a new VA, and with it the tariff class and the monthly cap (720 jam nyala).

        Without ``tariff`` the class stays in the same group (R1 900 VA subsidised -> R1 1,300 VA;
        R1 -> R2 from 3,500 VA; R2 -> R3 from 6,600 VA); a subsidised class is kept only when one
        exists at the new power.
        """
        why = validation.reason(reason)
        va = validation.power_va(power_va)
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, "change a customer's power", self._OPERATORS, server)
            c = self._customer(session, idpel)
            if c.status == CustomerStatus.CLOSED:
                raise InvalidRequest("PELANGGAN SUDAH BERHENTI", f"customer {c.idpel} is closed")
            classes = session.scalars(select(TariffClass)).all()
            old_class, old_va = c.tariff_class, c.va
            if tariff is not None and tariff.strip():
                t = validation.resolve_tariff(classes, tariff, va, subsidised=old_class.subsidised)
            else:
                group = old_class.print_code[0]
                family = [k for k in classes if k.print_code[0] == group]
                if group == "R":  # R1 -> R2 -> R3 by power
                    family = [k for k in classes if k.print_code in ("R1", "R2", "R3")]
                in_band = [k for k in family if k.va_min <= va and (k.va_max is None or va <= k.va_max)]
                if not in_band:
                    raise validation.InvalidField(
                        "power_va",
                        f"DAYA {va} VA TIDAK ADA DI GOLONGAN {old_class.print_code}",
                        f"no tariff of group {old_class.print_code} has {va} VA",
                    )
                in_band.sort(key=lambda k: (k.subsidised != old_class.subsidised, k.code))
                t = in_band[0]
            if va == old_va and t.id == old_class.id:
                raise InvalidRequest("DAYA TIDAK BERUBAH", f"customer {c.idpel} already has {va} VA on {t.code}")
            c.va = va
            c.tariff_class_id = t.id
            session.flush()
            session.refresh(c)
            self._audit(
                session,
                now,
                who,
                "customer.change_power",
                None,
                idpel=c.idpel,
                old_va=old_va,
                new_va=va,
                old_tariff=old_class.code,
                new_tariff=t.code,
                old_cap=str(monthly_cap_kwh(old_va)),
                new_cap=str(monthly_cap_kwh(va)),
                reason=why,
            )
            return _customer_record(c)

    def update_customer(
        self,
        actor: str,
        idpel: str,
        reason: str,
        *,
        name: str | None = None,
        address: str | None = None,
        phone: str | None = None,
        unit: str | None = None,
        server: bool = False,
    ) -> CustomerRecord:
        """Correct a customer's name, address, phone or unit (only the fields given change)."""
        why = validation.reason(reason)
        changes: dict[str, object] = {}
        if name is not None:
            changes["name"] = validation.name(name)
        if address is not None:
            changes["address"] = validation.address(address)
        if phone is not None:
            changes["phone"] = validation.phone(phone)
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, "change a customer", self._OPERATORS, server)
            c = self._customer(session, idpel)
            if unit is not None:
                changes["unit_id"] = self._unit(session, unit).id
            diff = {k: (getattr(c, k), v) for k, v in changes.items() if getattr(c, k) != v}
            if not diff:
                raise InvalidRequest("TIDAK ADA PERUBAHAN", "nothing to change")
            for k, (_old, new) in diff.items():
                setattr(c, k, new)
            session.flush()
            session.refresh(c)
            self._audit(
                session,
                now,
                who,
                "customer.update",
                None,
                idpel=c.idpel,
                reason=why,
                changes={k: [str(o), str(n)] for k, (o, n) in diff.items()},
            )
            return _customer_record(c)

    def _set_customer_status(
        self, actor: str, idpel: str, reason: str, status: CustomerStatus, action: str, server: bool
    ) -> CustomerRecord:
        why = validation.reason(reason)
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, f"{action} a customer", self._OPERATORS, server)
            c = self._customer(session, idpel)
            if c.status == CustomerStatus.CLOSED:
                raise InvalidRequest("PELANGGAN SUDAH BERHENTI", f"customer {c.idpel} is closed")
            allowed_from = {
                CustomerStatus.BLOCKED: (CustomerStatus.ACTIVE,),
                CustomerStatus.ACTIVE: (CustomerStatus.BLOCKED,),
                CustomerStatus.CLOSED: (CustomerStatus.ACTIVE, CustomerStatus.BLOCKED),
            }[status]
            if c.status not in allowed_from:
                raise InvalidRequest(
                    f"STATUS PELANGGAN SUDAH {c.status.upper()}", f"customer {c.idpel} is {c.status}; cannot {action}"
                )
            removed = []
            if status == CustomerStatus.CLOSED:
                for m in c.meters:
                    if m.status in IN_SERVICE:
                        m.status = MeterStatus.REMOVED
                        removed.append(m.meter_number)
                        self._audit(
                            session,
                            now,
                            who,
                            "meter.remove",
                            m.meter_number,
                            idpel=c.idpel,
                            reason=f"customer closed: {why}",
                        )
            old = c.status
            c.status = status
            c.status_reason = None if status == CustomerStatus.ACTIVE else why
            self._audit(
                session,
                now,
                who,
                f"customer.{action}",
                None,
                idpel=c.idpel,
                old=old,
                new=status.value,
                reason=why,
                meters_removed=removed,
            )
            session.flush()
            return _customer_record(c)

    def block_customer(self, actor: str, idpel: str, reason: str, *, server: bool = False) -> CustomerRecord:
        """No more sales (RC 0077) until unblocked."""
        return self._set_customer_status(actor, idpel, reason, CustomerStatus.BLOCKED, "block", server)

    def unblock_customer(self, actor: str, idpel: str, reason: str, *, server: bool = False) -> CustomerRecord:
        return self._set_customer_status(actor, idpel, reason, CustomerStatus.ACTIVE, "unblock", server)

    def close_customer(self, actor: str, idpel: str, reason: str, *, server: bool = False) -> CustomerRecord:
        """Berhenti langganan: the customer is closed for good and its meters are taken off."""
        return self._set_customer_status(actor, idpel, reason, CustomerStatus.CLOSED, "close", server)

    def customer_record(self, identifier: str) -> CustomerRecord:
        """A customer by IDPEL, or by the number of any meter it ever had."""
        ident = "".join(str(identifier).split())
        with reading_session(self.engine) as session:
            if len(ident) == 12:
                return _customer_record(self._customer(session, ident))
            number = validation.meter_number(ident)
            meter = session.scalar(select(Meter).where(Meter.meter_number == number))
            if meter is None:
                raise UnknownMeter(number)
            return _customer_record(meter.customer)

    def search_customers(self, text: str, *, limit: int = 50) -> list[CustomerRecord]:
        """Customers whose IDPEL, meter number, name or address contains ``text`` (any case)."""
        needle = " ".join((text or "").split()).upper()
        if len(needle) < 2:
            raise InvalidRequest("KATA KUNCI MINIMAL 2 KARAKTER", "search for at least 2 characters")
        like = f"%{needle.replace('%', '').replace('_', '')}%"
        with reading_session(self.engine) as session:
            stmt = (
                select(Customer)
                .outerjoin(Meter, Meter.customer_id == Customer.id)
                .where(
                    or_(
                        func.upper(Customer.name).like(like),
                        func.upper(Customer.address).like(like),
                        Customer.idpel.like(like),
                        Meter.meter_number.like(like),
                    )
                )
                .distinct()
                .order_by(Customer.idpel)
                .limit(max(1, min(limit, 500)))
            )
            return [_customer_record(c) for c in session.scalars(stmt)]

    # --- meters --------------------------------------------------------------------------------
    def register_meter(
        self,
        actor: str,
        meter_number: str,
        *,
        sgc: object,
        tariff_index: object,
        krn: object,
        key_type: object,
        ea: object,
        dkga: object,
        base_date: object,
        reason: str,
        ken: object = 255,
        server: bool = False,
    ) -> MeterRecord:
        """A meter delivered by its maker, with its key parameters, into stock (not yet sold to)."""
        why = validation.reason(reason)
        number = validation.meter_number(meter_number)
        params = validation.key_parameters(
            sgc=sgc,
            tariff_index=tariff_index,
            krn=krn,
            key_type=key_type,
            ea=ea,
            dkga=dkga,
            base_date=base_date,
            ken=ken,
        )
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, "register a meter", self._OPERATORS, server)
            if (
                session.scalar(select(Meter.id).where(Meter.meter_number == number)) is not None
                or session.scalar(select(MeterStock.id).where(MeterStock.meter_number == number)) is not None
            ):
                raise validation.InvalidField(
                    "meter_number", f"NOMOR METER {number} SUDAH TERDAFTAR", f"meter {number} is already registered"
                )
            row = MeterStock(
                meter_number=number, status=STOCK_IN, registered_at=now, registered_by=who, **_param_columns(params)
            )
            session.add(row)
            self._audit(session, now, who, "meter.register", number, reason=why, **_param_audit(params))
            return _stock_record(row)

    def install_meter(
        self, actor: str, meter_number: str, idpel: str, reason: str, *, server: bool = False
    ) -> CustomerRecord:
        """Pasang baru: put a meter from stock (or one removed earlier) on a customer.

        A customer has at most one meter in service (a swap is ``replace_meter``). A removed
        meter keeps its highest TID, so its next token is still above what it has seen.
        """
        why = validation.reason(reason)
        number = validation.meter_number(meter_number)
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, "install a meter", self._OPERATORS, server)
            c = self._customer(session, idpel)
            if c.status == CustomerStatus.CLOSED:
                raise InvalidRequest("PELANGGAN SUDAH BERHENTI", f"customer {c.idpel} is closed")
            busy = [m.meter_number for m in c.meters if m.status in IN_SERVICE]
            if busy:
                raise InvalidRequest(
                    f"PELANGGAN SUDAH MEMILIKI METER {busy[0]} (GUNAKAN PENGGANTIAN METER)",
                    f"customer {c.idpel} already has meter {busy[0]} in service; use a meter replacement",
                )
            stock = session.scalar(select(MeterStock).where(MeterStock.meter_number == number))
            if stock is not None:
                if stock.status != STOCK_IN:
                    raise InvalidRequest(f"METER {number} RUSAK", f"meter {number} is marked {stock.status}")
                meter = Meter(
                    meter_number=number,
                    customer_id=c.id,
                    status=MeterStatus.ACTIVE,
                    key_type=stock.key_type,
                    sgc=stock.sgc,
                    tariff_index=stock.tariff_index,
                    krn=stock.krn,
                    ken=stock.ken,
                    algorithm=stock.algorithm,
                    base_date=stock.base_date,
                    dkga=stock.dkga,
                    last_tid=0,
                )
                session.delete(stock)
                session.add(meter)
                previous = None
            else:
                existing = session.scalar(select(Meter).where(Meter.meter_number == number))
                if existing is None:
                    raise UnknownMeter(number, detail="register it first")
                if existing.status != MeterStatus.REMOVED:
                    raise InvalidRequest(
                        f"METER {number} SEDANG TERPASANG ATAU TIDAK BISA DIPASANG",
                        f"meter {number} is {existing.status}; only a removed meter can be installed again",
                    )
                previous = existing.customer.idpel
                existing.customer_id = c.id
                existing.status = MeterStatus.ACTIVE
            self._audit(session, now, who, "meter.install", number, idpel=c.idpel, reason=why, previous_idpel=previous)
            session.flush()
            session.refresh(c)
            return _customer_record(c)

    def remove_meter(self, actor: str, meter_number: str, reason: str, *, server: bool = False) -> MeterRecord:
        """Take a meter off its customer (no more sales to it); it can be installed again later."""
        return self._meter_status(actor, meter_number, reason, MeterStatus.REMOVED, "remove", server)

    def mark_meter_broken(self, actor: str, meter_number: str, reason: str, *, server: bool = False) -> MeterRecord:
        """A broken meter: no token is sold for it (in service or in stock)."""
        return self._meter_status(actor, meter_number, reason, MeterStatus.BROKEN, "broken", server)

    def _meter_status(
        self, actor: str, meter_number: str, reason: str, status: MeterStatus, action: str, server: bool
    ) -> MeterRecord:
        why = validation.reason(reason)
        number = validation.meter_number(meter_number)
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, f"{action} a meter", self._OPERATORS, server)
            stock = session.scalar(select(MeterStock).where(MeterStock.meter_number == number))
            if stock is not None:
                if status != MeterStatus.BROKEN or stock.status == STOCK_BROKEN:
                    raise InvalidRequest(f"METER {number} MASIH DI GUDANG", f"meter {number} is {stock.status}")
                stock.status = STOCK_BROKEN
                self._audit(session, now, who, f"meter.{action}", number, reason=why, old=STOCK_IN)
                return _stock_record(stock)
            meter = session.scalar(self._meter_query(True).where(Meter.meter_number == number))
            if meter is None:
                raise UnknownMeter(number)
            allowed = IN_SERVICE if status == MeterStatus.REMOVED else (*IN_SERVICE, MeterStatus.REMOVED)
            if meter.status not in allowed:
                raise InvalidRequest(
                    f"METER {number} BERSTATUS {meter.status.upper()}",
                    f"meter {number} is {meter.status}; cannot {action} it",
                )
            old = meter.status
            meter.status = status
            self._audit(session, now, who, f"meter.{action}", number, reason=why, old=old, idpel=meter.customer.idpel)
            return _meter_record(meter)

    def meter_record(self, meter_number: str) -> MeterRecord:
        """A meter by number, installed or in stock."""
        number = validation.meter_number(meter_number)
        with reading_session(self.engine) as session:
            meter = session.scalar(select(Meter).where(Meter.meter_number == number))
            if meter is not None:
                return _meter_record(meter)
            stock = session.scalar(select(MeterStock).where(MeterStock.meter_number == number))
            if stock is None:
                raise UnknownMeter(number)
            return _stock_record(stock)

    def meter_stock(self, *, limit: int = 100) -> list[MeterRecord]:
        """Registered meters not installed yet (and those found broken in stock)."""
        with reading_session(self.engine) as session:
            rows = session.scalars(select(MeterStock).order_by(MeterStock.meter_number).limit(limit))
            return [_stock_record(s) for s in rows]


def _param_columns(p: KeyParameters) -> dict[str, object]:
    return {
        "key_type": int(p.key_type),
        "sgc": p.sgc,
        "tariff_index": p.tariff_index,
        "krn": p.krn,
        "ken": p.ken,
        "algorithm": p.algorithm.value,
        "base_date": p.base_date.value,
        "dkga": p.dkga.value,
    }


def _param_audit(p: KeyParameters) -> dict[str, object]:
    return {
        "sgc": p.sgc,
        "tariff_index": p.tariff_index,
        "krn": p.krn,
        "key_type": int(p.key_type),
        "ea": p.algorithm.value,
        "dkga": p.dkga.value,
        "base_date": p.base_date.value,
        "ken": p.ken,
    }


__all__ = ["IN_SERVICE", "CustomerRecord", "MasterDataUseCases", "MeterRecord", "UnitInfo"]
