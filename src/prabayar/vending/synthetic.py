"""A synthetic region for load tests: N customers with one meter each, and M past purchases.

PostgreSQL only (it uses COPY and set-based SQL; a region does not fit the embedded SQLite
default). Needs the reference data of the demo seed (units, tariff classes, the demo vending
keys and channels): ``prabayar seed --demo`` first, or the bench does it.

* Customers and meters: meter numbers ``15`` + 8-digit serial + Luhn digit (the demo uses
  ``14``; the import issue's region files use their own ranges), IDPEL = unit code + ``9`` +
  9-digit serial; households spread over 450 ... 2,200 VA like a real UP3, on the current
  2014 base date with KRN 2 (so their tokens are real and decode on a virtual meter).
* Past purchases: spread over the last ``months`` calendar months, evenly over the meters,
  each meter's history strictly increasing in time and TID (and the meter's ``last_tid`` set
  above it), across the demo channels. Their token column holds a **placeholder** (20 digits
  derived from the row number, not an STS token): encoding ten million real tokens would cost
  hours of CPU and adds nothing to what the history is for (index sizes, partition pruning,
  inquiry/reprint/diagnosis lookups under load). Past sales have no audit rows and no monthly
  usage (the cap counts the current month, which the history leaves alone).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, text

from prabayar import sts
from prabayar.vending.partitions import ensure_months

#: meter numbers of the synthetic region: manufacturer code 15, 8-digit serial.
METER_PREFIX = "15"
#: (tariff code, VA, weight) of the households generated.
_MIX = (("R1-450", 450, 2), ("R1-900", 900, 4), ("R1-1300", 1300, 3), ("R1-2200", 2200, 1))
_FIRST = ("BUDI", "SITI", "AGUS", "DEWI", "HENDRA", "RATNA", "WAHYU", "SRI", "JOKO", "ANDI", "RINA", "EKO")
_LAST = ("SANTOSA", "RAHAYU", "PRASETYO", "LESTARI", "GUNAWAN", "HIDAYAT", "WAHYUNI", "SUSILO", "WIBOWO")


def synthetic_meter_number(serial: int) -> str:
    """The ``serial``-th meter of the synthetic region (0-based), a valid 11-digit number."""
    payload = f"{METER_PREFIX}{serial:08d}"
    return payload + sts.meter_number.calc_check_digit(payload)


@dataclass(frozen=True)
class RegionCounts:
    customers: int
    meters: int
    purchases: int


def _require_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise ValueError("the synthetic region is generated on PostgreSQL only")


def existing_meters(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM meters WHERE meter_number LIKE :p"), {"p": METER_PREFIX + "%"}
            ).scalar_one()
        )


def seed_meters(engine: Engine, count: int, *, batch: int = 100_000) -> int:
    """Add customers and meters until the region has ``count``; returns how many were added."""
    _require_postgres(engine)
    have = existing_meters(engine)
    if have >= count:
        return 0
    with engine.begin() as conn:
        units = conn.execute(text("SELECT id, code FROM units ORDER BY code")).all()
        tariffs: dict[str, int] = {code: id_ for code, id_ in conn.execute(text("SELECT code, id FROM tariff_classes"))}
        sgc_by_unit = {"54": "123456", "51": "234567"}
        if not units or any(code not in tariffs for code, _va, _w in _MIX):
            raise ValueError("load the reference data first (prabayar seed --demo)")
    weighted = [(tariffs[code], va) for code, va, w in _MIX for _ in range(w)]
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        assert dbapi is not None
        for start in range(have, count, batch):
            stop = min(count, start + batch)
            customers = io.StringIO()
            staged = io.StringIO()
            for serial in range(start, stop):
                unit_id, unit_code = units[serial % len(units)]
                tariff_id, va = weighted[serial % len(weighted)]
                idpel = f"{unit_code}9{serial:09d}"
                name = f"{_FIRST[serial % len(_FIRST)]} {_LAST[(serial // 7) % len(_LAST)]}"
                address = f"JL. SINTETIS {serial % 997 + 1} BLOK {serial // 997 % 100}"
                customers.write(f"{idpel}\t{name}\t{address}\t{unit_id}\t{tariff_id}\t{va}\tactive\t0\t0\n")
                sgc = sgc_by_unit.get(unit_code, "123456")
                staged.write(f"{synthetic_meter_number(serial)}\t{idpel}\t{sgc}\n")
            with dbapi.cursor() as cur:
                with cur.copy(
                    "COPY customers (idpel, name, address, unit_id, tariff_class_id, va, status,"
                    " debt_remaining, angsuran_per_purchase) FROM STDIN"
                ) as copy:
                    copy.write(customers.getvalue())
                cur.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS synthetic_stage"
                    " (meter_number text, idpel text, sgc text) ON COMMIT DELETE ROWS"
                )
                with cur.copy("COPY synthetic_stage FROM STDIN") as copy:
                    copy.write(staged.getvalue())
                cur.execute(
                    "INSERT INTO meters (meter_number, customer_id, status, key_type, sgc, tariff_index,"
                    " krn, ken, algorithm, base_date, dkga, last_tid)"
                    " SELECT s.meter_number, c.id, 'active', 2, s.sgc, '01', 2, 255, '07', '14', '04', 0"
                    " FROM synthetic_stage s JOIN customers c ON c.idpel = s.idpel"
                )
            dbapi.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE customers"))
        conn.execute(text("ANALYZE meters"))
    return count - have


def seed_history(
    engine: Engine, purchases: int, *, months: int = 12, batch: int = 1_000_000, bulk: bool | None = None
) -> int:
    """Add ``purchases`` past sales over the region's meters (set-based SQL, in batches).

    Row ``g`` (0-based, continuing after the history already there) goes to meter
    ``g mod N`` as its ``g div N``-th past sale; sales of one meter are days apart and their
    TIDs are the minute of the sale on the 2014 base date, so per meter both increase.
    """
    _require_postgres(engine)
    with engine.begin() as conn:
        ids = conn.execute(
            text("SELECT min(id), max(id), count(*) FROM meters WHERE meter_number LIKE :p"),
            {"p": METER_PREFIX + "%"},
        ).one()
        first_id, last_id, n = ids
        if not n:
            raise ValueError("no synthetic meters: seed the meters first")
        if last_id - first_id + 1 != n:
            raise ValueError("the synthetic meters' ids are not contiguous; seed them in one database")
        done = int(
            conn.execute(text("SELECT count(*) FROM purchases WHERE channel_reference LIKE 'HIST-%'")).scalar_one()
        )
        channels = [row[0] for row in conn.execute(text("SELECT id FROM channels ORDER BY id"))]
        if not channels:
            raise ValueError("load the reference data first (prabayar seed --demo)")
    per_meter = max(1, -(-(done + purchases) // n))
    # the window: `months` months back from the start of this month, one slot per sale
    slot_seconds = max(60, int(months * 30.4 * 86400) // per_meter)
    channel_array = "ARRAY[" + ",".join(str(c) for c in channels) + "]"
    with engine.begin() as conn:  # the months the history fills get their partitions first
        first_month = conn.execute(
            text("SELECT (date_trunc('month', now()) - make_interval(months => :m))::date"), {"m": months}
        ).scalar_one()
        ensure_months(conn, first_month, datetime.now(UTC).date())
    if bulk is None:
        bulk = purchases >= BULK_THRESHOLD
    rebuild = _drop_secondary_indexes(engine) if bulk else []
    try:
        _load_history(engine, done, purchases, batch, channel_array, first_id, n, months, slot_seconds)
    finally:
        _recreate_indexes(engine, rebuild)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE meters m SET last_tid = h.tid FROM ("
                " SELECT meter_number, max(tid) AS tid FROM purchases WHERE channel_reference LIKE 'HIST-%'"
                " GROUP BY meter_number) h"
                " WHERE h.meter_number = m.meter_number AND m.last_tid < h.tid"
            )
        )
        conn.execute(text("ANALYZE purchases"))
        conn.execute(text("ANALYZE purchase_refs"))
        conn.execute(text("ANALYZE meters"))
    return purchases


#: From this many rows on, the ledger's secondary indexes are dropped for the load and built
#: once at the end (much faster than maintaining eight indexes row by row).
BULK_THRESHOLD = 500_000


def _drop_secondary_indexes(engine: Engine) -> list[str]:
    """Drop ``purchases``' indexes but its primary key; returns the statements to rebuild them."""
    with engine.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'purchases'"
                " AND schemaname = current_schema() AND indexname <> 'purchases_pkey'"
            )
        ).all()
        for name, _definition in rows:
            conn.execute(text(f'DROP INDEX "{name}"'))
    return [definition.replace(" ON ONLY ", " ON ") for _name, definition in rows]


def _recreate_indexes(engine: Engine, statements: list[str]) -> None:
    for statement in statements:
        with engine.begin() as conn:
            conn.execute(text(statement))


def _load_history(
    engine: Engine,
    done: int,
    purchases: int,
    batch: int,
    channel_array: str,
    first_id: int,
    n: int,
    months: int,
    slot_seconds: int,
) -> None:
    start = done
    end = done + purchases
    while start < end:
        stop = min(end, start + batch)
        with engine.begin() as conn:
            before = conn.execute(text("SELECT coalesce(max(id), 0) FROM purchases")).scalar_one()
            conn.execute(
                text(
                    f"""
INSERT INTO purchases (reference_number, channel_id, channel_reference, meter_number, idpel,
    customer_name, tariff_code, va, nominal, admin_fee, meterai, ppn, pbjt, angsuran, stroom, kwh,
    tariff_rp_per_kwh, pbjt_rate, tid, token, created_at, delivered_at)
SELECT 'HX' || lpad(to_hex(g), 30, '0'),
       ({channel_array})[1 + (g % array_length({channel_array}, 1))],
       'HIST-' || g,
       m.meter_number, c.idpel, c.name, t.print_code, c.va,
       n.nominal, 2500, 0, 0, (n.nominal * 24 / 1024), 0, n.nominal - (n.nominal * 24 / 1024),
       ((n.nominal - (n.nominal * 24 / 1024)) * 100 / (t.rp_per_kwh / 100))::bigint,
       t.rp_per_kwh, 24000,
       floor(extract(epoch FROM ts.at - timestamptz '2014-01-01 00:00+00') / 60)::bigint,
       lpad(((g::numeric * 2654435761) % 73786976294838206464)::text, 20, '0'),
       ts.at, ts.at + interval '5 seconds'
FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint) - 1) AS g
JOIN meters m ON m.id = :first_id + (g % :n)
JOIN customers c ON c.id = m.customer_id
JOIN tariff_classes t ON t.id = c.tariff_class_id
CROSS JOIN LATERAL (SELECT (ARRAY[20000, 50000, 100000, 200000])[1 + (g / :n + m.id) % 4] AS nominal) n
CROSS JOIN LATERAL (
    SELECT date_trunc('month', now()) - make_interval(months => :months)
           + make_interval(secs => (g / :n) * :slot + (m.id % GREATEST(:slot - 60, 1))) AS at
) ts
"""
                ),
                {"start": start, "stop": stop, "first_id": first_id, "n": n, "months": months, "slot": slot_seconds},
            )
            conn.execute(
                text(
                    "INSERT INTO purchase_refs (channel_id, channel_reference, purchase_id, created_at)"
                    " SELECT channel_id, channel_reference, id, created_at FROM purchases"
                    " WHERE id > :after AND channel_reference LIKE 'HIST-%'"
                ),
                {"after": before},
            )
        start = stop


def region_counts(engine: Engine) -> RegionCounts:
    with engine.connect() as conn:
        meters = existing_meters(engine)
        customers = int(conn.execute(text("SELECT count(*) FROM customers WHERE idpel LIKE '__9%'")).scalar_one())
        purchases = int(conn.execute(text("SELECT count(*) FROM purchases")).scalar_one())
    return RegionCounts(customers=customers, meters=meters, purchases=purchases)
