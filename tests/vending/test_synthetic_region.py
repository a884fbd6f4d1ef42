"""The synthetic region generator (PostgreSQL): meters, past purchases, partitions, indexes."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from prabayar import sts
from prabayar.vending import VendingService
from prabayar.vending.synthetic import region_counts, seed_history, seed_meters, synthetic_meter_number


@pytest.mark.parametrize("bulk", [False, True])
def test_a_small_region_with_history_that_keeps_every_rule(service: VendingService, backend: str, bulk: bool) -> None:
    if backend != "postgresql":
        pytest.skip("the region generator is PostgreSQL only")
    engine = service.engine
    assert seed_meters(engine, 40, batch=16) == 40
    assert seed_meters(engine, 40) == 0  # idempotent
    assert sts.meter_number.is_valid(synthetic_meter_number(39))
    seed_history(engine, 150, months=6, batch=60, bulk=bulk)
    counts = region_counts(engine)
    assert counts.meters == 40 and counts.customers == 40 and counts.purchases == 150
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM purchase_refs")).scalar() == 150
        # per meter: TIDs increase with time, and the meter's last TID is above its history
        bad = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT tid, created_at, lag(tid) OVER w AS prev_tid,"
                " lag(created_at) OVER w AS prev_at FROM purchases"
                " WINDOW w AS (PARTITION BY meter_number ORDER BY created_at)) x"
                " WHERE tid <= prev_tid OR created_at <= prev_at"
            )
        ).scalar()
        assert bad == 0
        behind = conn.execute(
            text(
                "SELECT count(*) FROM meters m JOIN purchases p ON p.meter_number = m.meter_number"
                " WHERE p.tid > m.last_tid"
            )
        ).scalar()
        assert behind == 0
        partitions = conn.execute(
            text("SELECT count(DISTINCT tableoid) FROM purchases WHERE tableoid::regclass::text <> 'purchases_default'")
        ).scalar()
        assert partitions and partitions >= 3  # spread over the months (4 sales a meter), not the default
        indexes = {r[0] for r in conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'purchases'"))}
        assert {"ix_purchases_meter_id", "ix_purchases_idpel_id", "ix_purchases_unsold",
                "ix_support_purchases_token"} <= indexes  # fmt: skip
    # a sale on a synthetic meter continues its history with a higher TID
    sale = service.purchase("H2HDEMO", "AFTER-HISTORY", synthetic_meter_number(7), 20_000)
    assert sale.tid > 0 and sale.meter_number == synthetic_meter_number(7)
    assert [p.token for p in service.reprint(synthetic_meter_number(7), limit=1)] == [sale.token]
