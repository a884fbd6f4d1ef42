"""Random sequences of sales keep the ledger's invariants (SQLite, few examples: it is heavy)."""

from __future__ import annotations

import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from prabayar import sts
from prabayar.vending import ReferenceConflict, VendingError, VendingService, monthly_cap_kwh
from prabayar.vending.db import create_engine_for
from prabayar.vending.demo import DEMO_CUSTOMERS
from prabayar.vending.keystore import MasterKey, SoftwareKeyStore
from prabayar.vending.models import Meter, MonthlyUsage, Purchase
from prabayar.vending.service import month_of

SELLABLE = [c for c in DEMO_CUSTOMERS if c.status == "active" and not c.legacy_key]
CHANNELS = ["BANKDEMO", "MINIMART", "EWALLET", "PLNAPP", "H2HDEMO"]

sale = st.tuples(
    st.sampled_from(CHANNELS),
    st.sampled_from([f"R{i}" for i in range(6)]),  # few references: reuse is frequent
    st.sampled_from(SELLABLE),
    st.sampled_from([20_000, 25_000, 50_000, 100_000, 123_456, 1_000_000]),
    st.sampled_from([0, 0, 1, 30, 60 * 24 * 12]),  # minutes to move the clock first
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sales=st.lists(sale, min_size=1, max_size=14))
def test_random_sales_keep_the_ledger_consistent(
    sales: list[tuple[str, str, object, int, int]],
    seeded_sqlite: Path,
    master_key: MasterKey,
    tmp_path_factory: pytest.TempPathFactory,
    clock_type: type,
) -> None:
    target = tmp_path_factory.mktemp("ledger") / "vending.sqlite3"
    shutil.copyfile(seeded_sqlite, target)
    engine = create_engine_for(f"sqlite:///{target}")
    clock = clock_type()
    service = VendingService(engine, SoftwareKeyStore(engine, master_key), clock=clock)
    sold: dict[tuple[str, str], tuple[str, int, str]] = {}
    try:
        for channel, ref, customer, nominal, minutes in sales:
            clock.advance(minutes=minutes)
            meter = customer.meter_number  # type: ignore[attr-defined]
            try:
                result = service.purchase(channel, ref, meter, nominal)
            except ReferenceConflict:
                assert (channel, ref) in sold and sold[(channel, ref)][:2] != (meter, nominal)
                continue
            except VendingError as exc:  # denomination or cap: nothing may have been sold
                assert (channel, ref) not in sold
                assert exc.code in {"0013", "0041", "0042", "0047"}
                continue
            if (channel, ref) in sold:
                assert result.replayed and result.token == sold[(channel, ref)][2]
            else:
                assert not result.replayed
                sold[(channel, ref)] = (meter, nominal, result.token)
        with Session(engine) as session:
            rows = session.scalars(select(Purchase).order_by(Purchase.id)).all()
            usage = {(u.meter_number, u.month): u.kwh for u in session.scalars(select(MonthlyUsage))}
            last_tids = {n: t for n, t in session.execute(select(Meter.meter_number, Meter.last_tid))}
        assert len(rows) == len(sold)
        per_month: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        tids: dict[str, list[int]] = defaultdict(list)
        for p in rows:
            per_month[(p.meter_number, month_of(p.created_at))] += p.kwh
            tids[p.meter_number].append(p.tid)
            assert p.meterai + p.ppn + p.pbjt + p.angsuran + p.stroom == p.nominal
            key = service.meter_key(p.meter_number, actor="t", purpose="check").decoder_key
            decoded = sts.decode(p.token, key)
            assert isinstance(decoded, sts.ElectricityCredit) and decoded.tid == p.tid
        assert per_month == {k: v for k, v in usage.items() if v}
        for number, seen in tids.items():
            assert seen == sorted(set(seen)) and last_tids[number] == seen[-1]
        va = {c.meter_number: c.va for c in SELLABLE}
        for (number, _month), kwh in usage.items():
            assert kwh <= monthly_cap_kwh(va[number])
    finally:
        engine.dispose()
