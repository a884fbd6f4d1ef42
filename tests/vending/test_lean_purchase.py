"""The lean purchase path (prabayar.vending.fastpath) keeps every rule of a sale, on both backends."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from prabayar import sts
from prabayar.vending import (
    AuthenticationFailed,
    CustomerBlocked,
    MonthlyCapExceeded,
    ReferenceConflict,
    VendingService,
)
from prabayar.vending.demo import DEMO_CHANNEL_KEYS, DEMO_CUSTOMERS
from prabayar.vending.models import AuditRow, Customer, MonthlyUsage, Purchase, PurchaseRef

BUDI = DEMO_CUSTOMERS[0]  # R1 1300 VA: cap 936 kWh a month
SRI = next(c for c in DEMO_CUSTOMERS if c.angsuran)


def _scalar(service: VendingService, stmt: object) -> object:
    with Session(service.engine) as session:
        return session.scalar(stmt)  # type: ignore[call-overload]


def test_a_sale_writes_guard_purchase_usage_and_audit_and_its_token_opens_the_meter(
    service: VendingService,
) -> None:
    sale = service.purchase("BANKDEMO", "LEAN-1", BUDI.meter_number, 50_000)
    key = service.meter_key(BUDI.meter_number, actor="test", purpose="check the token")
    token = sts.decode(sale.token, key.decoder_key)
    assert isinstance(token, sts.ElectricityCredit)
    assert token.tid == sale.tid and token.amount == sale.kwh
    ref = _scalar(service, select(PurchaseRef).where(PurchaseRef.channel_reference == "LEAN-1"))
    assert isinstance(ref, PurchaseRef)
    stored = _scalar(service, select(Purchase).where(Purchase.id == ref.purchase_id))
    assert isinstance(stored, Purchase)
    assert (stored.token, stored.tid, stored.kwh, stored.created_at) == (
        sale.token,
        sale.tid,
        sale.kwh,
        sale.created_at,
    )
    assert stored.tariff_rp_per_kwh == sale.price.tariff_rp_per_kwh and stored.pbjt_rate == sale.price.pbjt_rate
    assert service.inquiry(BUDI.meter_number).kwh_this_month == sale.kwh
    audit = service.audit_log(action="purchase", limit=1)[0]
    assert audit.actor == "BANKDEMO" and audit.detail["tid"] == sale.tid
    assert audit.detail["reference_number"] == sale.reference_number


def test_a_retry_gets_its_sale_even_when_the_same_request_would_now_be_refused(
    service: VendingService,
) -> None:
    """Idempotency is decided before any refusal: cap reached, customer blocked."""
    cap_kwh = Decimal(720 * BUDI.va) / 1000
    with Session(service.engine) as session:  # nearly at the cap: the next 1,000,000 fills it
        session.add(MonthlyUsage(meter_number=BUDI.meter_number, month="2026-03", kwh=cap_kwh - Decimal("700")))
        session.commit()
    last = service.purchase("BANKDEMO", "LAST", BUDI.meter_number, 1_000_000)
    with pytest.raises(MonthlyCapExceeded):
        service.purchase("BANKDEMO", "ONE-MORE", BUDI.meter_number, 1_000_000)
    again = service.purchase("BANKDEMO", "LAST", BUDI.meter_number, 1_000_000)
    assert again.replayed and again.token == last.token
    with Session(service.engine) as session:
        session.execute(update(Customer).where(Customer.idpel == BUDI.idpel).values(status="blocked"))
        session.commit()
    with pytest.raises(CustomerBlocked):
        service.purchase("BANKDEMO", "BLOCKED", BUDI.meter_number, 20_000)
    assert service.purchase("BANKDEMO", "LAST", BUDI.meter_number, 1_000_000).token == last.token
    with pytest.raises(ReferenceConflict):
        service.purchase("BANKDEMO", "LAST", BUDI.meter_number, 20_000)


def test_the_write_rechecks_the_cap_against_usage_committed_after_the_claim_read_it(
    service: VendingService,
) -> None:
    """Concurrent sales near the cap: the month never goes over it, whatever the timing."""
    cap_kwh = Decimal(720 * BUDI.va) / 1000
    with Session(service.engine) as session:
        session.add(MonthlyUsage(meter_number=BUDI.meter_number, month="2026-03", kwh=cap_kwh - Decimal("40")))
        session.commit()
    barrier = threading.Barrier(8)

    def buy(i: int) -> object:
        barrier.wait()
        try:
            return service.purchase("H2HDEMO", f"NEAR-CAP-{i}", BUDI.meter_number, 20_000)  # ~12.5 kWh each
        except MonthlyCapExceeded as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(buy, range(8)))
    sold = [r for r in results if not isinstance(r, MonthlyCapExceeded)]
    assert 1 <= len(sold) <= 3
    usage = _scalar(service, select(MonthlyUsage.kwh).where(MonthlyUsage.meter_number == BUDI.meter_number))
    assert isinstance(usage, Decimal) and usage <= cap_kwh
    assert usage == cap_kwh - Decimal("40") + sum((r.kwh for r in sold), Decimal(0))  # type: ignore[attr-defined]


def test_a_sale_that_waited_for_the_meter_never_carries_an_earlier_time(service: VendingService) -> None:
    """The sale's time is taken after the meter is claimed: TID order is time order."""
    lock = threading.Lock()
    ticks = [datetime(2026, 3, 10, 5, 0, tzinfo=UTC)]

    def advancing() -> datetime:
        with lock:
            ticks[0] += timedelta(seconds=7)  # a TID minute every ~9 calls
            return ticks[0]

    service._clock = advancing
    barrier = threading.Barrier(16)

    def buy(i: int) -> object:
        barrier.wait()
        return service.purchase("H2HDEMO", f"ORDER-{i}", BUDI.meter_number, 20_000)

    with ThreadPoolExecutor(16) as pool:
        sales = list(pool.map(buy, range(16)))
    by_tid = sorted(sales, key=lambda s: s.tid)  # type: ignore[attr-defined]
    times = [s.created_at for s in by_tid]  # type: ignore[attr-defined]
    assert times == sorted(times)
    for sale in by_tid:  # a TID is never ahead of its own sale's minute by more than the queue
        assert sale.tid >= sts.tid_from_datetime(sale.created_at, sts.BaseDate.Y2014)  # type: ignore[attr-defined]


def test_angsuran_comes_off_the_debt_once_per_sale(service: VendingService) -> None:
    before = _scalar(service, select(Customer.debt_remaining).where(Customer.idpel == SRI.idpel))
    sale = service.purchase("BANKDEMO", "ANGSURAN-1", SRI.meter_number, 50_000)
    assert sale.price.angsuran == SRI.angsuran
    assert _scalar(service, select(Customer.debt_remaining).where(Customer.idpel == SRI.idpel)) == (
        before - SRI.angsuran  # type: ignore[operator]
    )
    service.purchase("BANKDEMO", "ANGSURAN-1", SRI.meter_number, 50_000)  # a replay takes nothing
    assert _scalar(service, select(Customer.debt_remaining).where(Customer.idpel == SRI.idpel)) == (
        before - SRI.angsuran  # type: ignore[operator]
    )


def test_an_idpel_sells_to_its_meter(service: VendingService) -> None:
    sale = service.purchase("BANKDEMO", "BY-IDPEL", BUDI.idpel, 20_000)
    assert sale.meter_number == BUDI.meter_number and sale.idpel == BUDI.idpel


def test_cached_api_keys_and_channels_are_forgotten_on_rotation_and_disabling(service: VendingService) -> None:
    key = DEMO_CHANNEL_KEYS["MINIMART"]
    assert service.authenticate_channel(key).code == "MINIMART"
    assert service.authenticate_channel(key).code == "MINIMART"  # from the cache
    new = service.rotate_channel_key("admin", "MINIMART", "key leaked at a store", server=True)
    with pytest.raises(AuthenticationFailed):
        service.authenticate_channel(key)
    assert service.authenticate_channel(new.api_key).code == "MINIMART"
    service.purchase("MINIMART", "BEFORE-DISABLE", BUDI.meter_number, 20_000)
    service.disable_channel("admin", "MINIMART", "contract ended", server=True)
    with pytest.raises(AuthenticationFailed):
        service.authenticate_channel(new.api_key)
    with pytest.raises(Exception) as refused:
        service.purchase("MINIMART", "AFTER-DISABLE", BUDI.meter_number, 20_000)
    assert getattr(refused.value, "code", None) == "0031"


def test_nothing_is_written_for_a_refused_sale(service: VendingService) -> None:
    count = select(func.count()).select_from(Purchase)
    audits = select(func.count()).select_from(AuditRow).where(AuditRow.action == "purchase")
    before = (_scalar(service, count), _scalar(service, audits))
    with pytest.raises(CustomerBlocked):
        service.purchase("BANKDEMO", "NOPE", next(c for c in DEMO_CUSTOMERS if c.status == "blocked").meter_number,
                         20_000)  # fmt: skip
    assert (_scalar(service, count), _scalar(service, audits)) == before
    assert _scalar(service, select(func.count()).select_from(PurchaseRef)) == before[0]


def test_purchases_are_partitioned_by_month_on_postgresql(service: VendingService, backend: str) -> None:
    """A sale in a month without its partition lands in the default partition; creating the
    month later moves it there (and the sale is still found by reference)."""
    if backend != "postgresql":
        pytest.skip("SQLite has no partitions")
    from datetime import date

    from prabayar.vending.partitions import ensure_months

    sale = service.purchase("BANKDEMO", "PARTITIONED", BUDI.meter_number, 20_000)  # March 2026
    where = text("SELECT tableoid::regclass::text FROM purchases WHERE token = :t")
    with service.engine.begin() as conn:
        assert conn.execute(where, {"t": sale.token}).scalar() == "purchases_default"
        assert ensure_months(conn, date(2026, 2, 1), date(2026, 3, 1)) == ["purchases_y2026m02", "purchases_y2026m03"]
        assert conn.execute(where, {"t": sale.token}).scalar() == "purchases_y2026m03"
    assert service.advice("BANKDEMO", "PARTITIONED").token == sale.token
    later = service.purchase("BANKDEMO", "PARTITIONED-2", BUDI.meter_number, 20_000)
    with service.engine.connect() as conn:
        assert conn.execute(where, {"t": later.token}).scalar() == "purchases_y2026m03"
