"""The demo data set: two units, every tariff class, customers across them, channels, logins.

Deterministic: the same meter numbers, IDPELs, passwords, API keys and vending keys on every
machine, so the docs and the web app's start-up banner can name them. The demo vending keys
are derived from a public label and are therefore **not secret**: never use them for a real
meter.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select

from prabayar import sts
from prabayar.sts import Dkga, VendingKey
from prabayar.vending.db import claiming_session
from prabayar.vending.models import (
    Channel,
    Customer,
    CustomerStatus,
    Meter,
    MeterStatus,
    TariffClass,
    Unit,
)
from prabayar.vending.pricing import AdminFeeRule
from prabayar.vending.reference import TARIFFS as TARIFFS  # re-exported: the reference data
from prabayar.vending.reference import TariffSpec as TariffSpec
from prabayar.vending.reference import jakarta_rate, jatim_rate, seed_reference
from prabayar.vending.service import VendingService

_jakarta_rate = jakarta_rate
_jatim_rate = jatim_rate


#: (code, UID, UP3, rate rule, supply group code)
UNITS = (
    ("54", "UID JAKARTA RAYA", "UP3 MENTENG", _jakarta_rate, "123456"),
    ("51", "UID JAWA TIMUR", "UP3 SURABAYA SELATAN", _jatim_rate, "234567"),
)


def demo_meter_number(serial: int) -> str:
    """A valid 11-digit meter number: manufacturer 14, 8-digit serial, Luhn digit."""
    payload = f"14{serial:08d}"
    return payload + sts.meter_number.calc_check_digit(payload)


@dataclass(frozen=True)
class DemoCustomer:
    idpel: str
    name: str
    address: str
    unit: str
    tariff: str
    va: int
    serial: int
    note: str = ""
    status: str = CustomerStatus.ACTIVE
    debt: int = 0
    angsuran: int = 0
    legacy_key: bool = False
    replaced_serial: int | None = None

    @property
    def meter_number(self) -> str:
        return demo_meter_number(self.serial)


DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer("541000000001", "BUDI SANTOSA WIJAYA", "JL. CIKINI RAYA 10, JAKARTA PUSAT",
                 "54", "R1-1300", 1300, 10000001, "the receipt example (R1/1300 VA)"),
    DemoCustomer("541000000002", "SITI RAHAYU", "JL. KRAMAT II 7, JAKARTA PUSAT",
                 "54", "R1-900", 900, 10000002, "subsidised 900 VA"),
    DemoCustomer("541000000003", "AGUS PRASETYO", "GG. MELATI 3, JAKARTA PUSAT",
                 "54", "R1-450", 450, 10000003, "subsidised 450 VA (cap 324 kWh/month)"),
    DemoCustomer("541000000004", "DEWI LESTARI", "JL. DIPONEGORO 21, JAKARTA PUSAT",
                 "54", "R1-2200", 2200, 10000004),
    DemoCustomer("541000000005", "HENDRA GUNAWAN", "JL. TEUKU UMAR 5, JAKARTA PUSAT",
                 "54", "R2", 5500, 10000005, "R-2, PBJT-TL 3 %"),
    DemoCustomer("541000000006", "RATNA SARI DEWI", "JL. IMAM BONJOL 40, JAKARTA PUSAT",
                 "54", "R3", 7700, 10000006, "R-3 above 6,600 VA: PPN applies"),
    DemoCustomer("541000000007", "TOKO MAKMUR JAYA", "JL. SABANG 12, JAKARTA PUSAT",
                 "54", "B2", 13200, 10000007, "business"),
    DemoCustomer("541000000008", "MASJID AL IKHLAS", "JL. SURABAYA 2, JAKARTA PUSAT",
                 "54", "S1-1300", 1300, 10000008, "social tariff, PBJT-TL exempt"),
    DemoCustomer("511000000009", "WAHYU HIDAYAT", "JL. JEMURSARI 9, SURABAYA",
                 "51", "R1-900RTM", 900, 10000009, "900 VA RTM, PBJT-TL 10 %"),
    DemoCustomer("511000000010", "SRI WAHYUNI", "JL. KETINTANG 17, SURABAYA",
                 "51", "R1-1300", 1300, 10000010, "owes Rp 50,000: Rp 5,000 angsuran per purchase",
                 debt=50_000, angsuran=5_000),
    DemoCustomer("541000000011", "JOKO SUSILO", "JL. CIDENG 4, JAKARTA PUSAT",
                 "54", "R1-1300", 1300, 10000011, "blocked by PLN (RC 0077)",
                 status=CustomerStatus.BLOCKED),
    DemoCustomer("541000000012", "ANDI WIBOWO", "JL. PETOJO 8, JAKARTA PUSAT",
                 "54", "R1-2200", 2200, 10000012, "old meter replaced by this one",
                 replaced_serial=10000112),
    DemoCustomer("511000000013", "YULIANTI", "JL. WONOCOLO 13, SURABAYA",
                 "51", "R1-1300", 1300, 10000013,
                 "still on the 1993 base date: needs the TID-rollover key change",
                 legacy_key=True),
)  # fmt: skip

#: (username, password, role, idpel): printed by the web app on ``make run``.
DEMO_USERS: tuple[tuple[str, str, str, str | None], ...] = (
    ("budi", "budi-prabayar", "customer", "541000000001"),
    ("siti", "siti-prabayar", "customer", "541000000002"),
    ("sri", "sri-prabayar", "customer", "511000000010"),
    ("operator", "operator-prabayar", "operator", None),
    ("admin", "admin-prabayar", "admin", None),
    ("supervisor", "supervisor-prabayar", "admin", None),  # the second admin: four eyes
)

_PLN_LIST = [20_000, 50_000, 100_000, 200_000, 250_000, 500_000, 1_000_000]

#: (code, name, kind, admin fee tiers, allowed nominals or None, min, max)
DEMO_CHANNELS = (
    ("BANKDEMO", "Bank Demo (ATM & mobile banking)", "bank", ((0, 3000),),
     [*_PLN_LIST, 5_000_000, 10_000_000], 20_000, 10_000_000),
    ("MINIMART", "Minimarket Demo", "minimarket", ((0, 3500),), _PLN_LIST, 20_000, 1_000_000),
    ("EWALLET", "E-Wallet Demo", "ewallet", ((0, 1000), (50_000, 1600), (100_000, 3000)),
     [20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000], 20_000, 1_000_000),
    ("PLNAPP", "Aplikasi PLN Demo", "app", ((0, 1500),),
     [20_000, 25_000, 50_000, 100_000, 200_000, 250_000, 500_000, 1_000_000], 20_000, 1_000_000),
    ("H2HDEMO", "Agregator H2H Demo (nominal bebas)", "aggregator", ((0, 2000),), None,
     20_000, 50_000_000),
)  # fmt: skip


def demo_channel_key(code: str) -> str:
    return f"pby_demo_{code.lower()}_" + hashlib.sha256(
        f"prabayar-demo-channel:{code}".encode()
    ).hexdigest()[:24]


#: channel code -> API key (header ``X-API-Key`` in the web API).
DEMO_CHANNEL_KEYS: dict[str, str] = {c[0]: demo_channel_key(c[0]) for c in DEMO_CHANNELS}


def demo_vending_key(sgc: str, krn: int, dkga: Dkga) -> VendingKey:
    """Public, deterministic demo keys (KRN 1: DKGA02 8 bytes; later KRNs: DKGA04 20 bytes)."""
    size = 8 if dkga is Dkga.DKGA02 else 20
    digest = hashlib.sha256(f"prabayar demo vending key|{sgc}|{krn}".encode()).digest()
    return VendingKey(digest[:size])


@dataclass(frozen=True)
class DemoData:
    created: bool
    customers: tuple[DemoCustomer, ...] = DEMO_CUSTOMERS
    users: tuple[tuple[str, str, str, str | None], ...] = DEMO_USERS
    channel_keys: tuple[tuple[str, str], ...] = tuple(DEMO_CHANNEL_KEYS.items())


def seed_demo(service: VendingService) -> DemoData:
    """Load the demo data set; a second call finds it and changes nothing."""
    key_store = service.key_store  # software or HSM: both import the (public) demo keys
    seed_reference(service)
    with claiming_session(service.engine) as session:
        if session.scalar(select(Customer.id).where(Customer.idpel == DEMO_CUSTOMERS[0].idpel)) is not None:
            return DemoData(created=False)
        tariffs = {t.code: t for t in session.scalars(select(TariffClass))}
        units: dict[str, tuple[Unit, str]] = {}
        for code, _uid, _up3, _rule, sgc in UNITS:
            unit = session.scalar(select(Unit).where(Unit.code == code))
            assert unit is not None  # seed_reference made it
            units[code] = (unit, sgc)
        for c in DEMO_CUSTOMERS:
            unit, sgc = units[c.unit]
            customer = Customer(
                idpel=c.idpel,
                name=c.name,
                address=c.address,
                unit_id=unit.id,
                tariff_class_id=tariffs[c.tariff].id,
                va=c.va,
                status=c.status,
                debt_remaining=c.debt,
                angsuran_per_purchase=c.angsuran,
            )
            session.add(customer)
            session.flush()
            if c.replaced_serial is not None:
                session.add(_meter(customer.id, demo_meter_number(c.replaced_serial), sgc,
                                   status=MeterStatus.REPLACED, replaced_by=c.meter_number))  # fmt: skip
            session.add(_meter(customer.id, c.meter_number, sgc, legacy=c.legacy_key))
        for code, name, kind, tiers, allowed, low, high in DEMO_CHANNELS:
            session.add(
                Channel(
                    code=code,
                    name=name,
                    kind=kind,
                    admin_fee_rule=AdminFeeRule(tiers).to_json(),
                    allowed_nominals=json.dumps(allowed) if allowed is not None else None,
                    min_nominal=low,
                    max_nominal=high,
                    active=True,
                )
            )
    for _code, _uid, _up3, _rule, sgc in UNITS:
        for krn, dkga in ((1, Dkga.DKGA02), (2, Dkga.DKGA04), (3, Dkga.DKGA04)):
            key_store.import_vending_key(sgc, krn, demo_vending_key(sgc, krn, dkga), dkga)
    for username, password, role, idpel in DEMO_USERS:
        service.create_user(username, password, role, idpel=idpel)
    for code, key in DEMO_CHANNEL_KEYS.items():
        service.issue_channel_key(code, key)
    return DemoData(created=True)


def _meter(
    customer_id: int,
    number: str,
    sgc: str,
    *,
    legacy: bool = False,
    status: str = MeterStatus.ACTIVE,
    replaced_by: str | None = None,
) -> Meter:
    """Meters after the 2024 rollover use KRN 2 on base date 2014 (DKGA04); legacy ones KRN 1."""
    return Meter(
        meter_number=number,
        customer_id=customer_id,
        status=status,
        replaced_by=replaced_by,
        key_type=2,
        sgc=sgc,
        tariff_index="01",
        krn=1 if legacy else 2,
        ken=255,
        algorithm="07",
        base_date="93" if legacy else "14",
        dkga="02" if legacy else "04",
        last_tid=0,
    )
