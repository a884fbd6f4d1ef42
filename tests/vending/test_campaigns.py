"""Key-change campaigns: four eyes, generation (idempotent, resumable), delivery with the next
purchase, field export, confirmation; an emulated meter takes the campaign's KCTs and then the
credit token made under the new key."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, text

from prabayar import sts
from prabayar.meter import ManualClock, Meter, ResultKind
from prabayar.vending import AdminRequired, FourEyesViolation, InvalidRequest, VendingService
from prabayar.vending.campaign_engine import key_label, params_of_label
from prabayar.vending.campaign_models import CampaignMeterRow
from prabayar.vending.campaigns import CampaignNotRunnable, Selection, Target, UnknownCampaign
from prabayar.vending.db import reading_session
from prabayar.vending.demo import DEMO_CUSTOMERS

if TYPE_CHECKING:
    from conftest import FakeClock

BUDI, YULI = DEMO_CUSTOMERS[0], DEMO_CUSTOMERS[12]


def _legacy_meter(service: VendingService, number: str, clock: FakeClock) -> Meter:
    key = service.meter_key(number, actor="factory", purpose="program a test meter")
    meter = Meter.manufacture(number, key.decoder_key, key.params,
                              clock=ManualClock(clock.now - timedelta(days=1)))  # fmt: skip
    meter.clock = ManualClock(clock.now + timedelta(minutes=5))
    return meter


def _approved(service: VendingService, selection: Selection, target: Target, **kw: int) -> int:
    info = service.create_campaign("admin", "Uji kampanye", "TID rollover 2024", selection, target, **kw)
    service.approve_campaign(info.id, "supervisor")
    return info.id


def _rows(service: VendingService, campaign_id: int) -> list[CampaignMeterRow]:
    with reading_session(service.engine) as session:
        return list(session.scalars(select(CampaignMeterRow).where(CampaignMeterRow.campaign_id == campaign_id)))


def test_four_eyes_and_nothing_runs_before_approval(service: VendingService) -> None:
    sel, tgt = Selection(base_date="1993"), Target(krn=2, rollover=True)
    with pytest.raises(AdminRequired):
        service.create_campaign("operator", "X", "rollover", sel, tgt)
    with pytest.raises(InvalidRequest):
        service.create_campaign("admin", "X", "rollover", Selection(), tgt)  # selects nothing
    with pytest.raises(InvalidRequest):
        service.create_campaign("admin", "X", "rollover", sel, Target())  # changes nothing
    with pytest.raises(InvalidRequest):
        service.create_campaign("admin", "X", "rollover", Selection(sgc="999999"), tgt)  # no meter
    info = service.create_campaign("admin", "Rollover 1993", "TID rollover 2024", sel, tgt)
    assert info.status == "pending_approval" and info.approval_id is not None
    with pytest.raises(CampaignNotRunnable):
        service.run_campaign(info.id)
    with pytest.raises(FourEyesViolation):
        service.approve_campaign(info.id, "admin")  # the maker
    assert service.approval(info.approval_id).kind == "key_campaign"
    assert service.approve_campaign(info.id, "supervisor").status == "approved"
    with pytest.raises(UnknownCampaign):
        service.campaign(999)


def test_campaign_delivers_kcts_with_the_next_purchase_and_the_meter_accepts_them(
    service: VendingService, clock: FakeClock
) -> None:
    key = service.meter_key(YULI.meter_number, actor="factory", purpose="legacy meter")
    legacy = Meter.manufacture(
        YULI.meter_number, key.decoder_key, key.params,
        clock=ManualClock(key.params.base_date.last_minute - timedelta(days=30)),
    )  # fmt: skip
    legacy.clock = ManualClock(clock.now)
    cid = _approved(service, Selection(base_date="93"), Target(krn=2, rollover=True))
    info = service.run_campaign(cid)
    assert info.status == "done"
    assert (info.counts.selected, info.counts.generated, info.counts.delivered) == (1, 1, 0)
    [row] = _rows(service, cid)
    assert row.meter_number == YULI.meter_number and len(row.tokens.split()) == 2
    assert row.from_key.startswith("1/93/07/02") and row.to_key.startswith("2/14/07/04")
    # the record keeps the old key until delivery
    assert service.meter_key(YULI.meter_number, actor="t", purpose="check").params.krn == 1

    sale = service.purchase("BANKDEMO", "KCT-1", YULI.meter_number, 20_000)
    assert sale.key_change_tokens == tuple(row.tokens.split())
    results = [legacy.enter_token(t) for t in sale.key_change_tokens]
    assert all(r.accepted for r in results), [r.text for r in results]
    assert results[-1].kind is ResultKind.KEY_CHANGED
    credit = legacy.enter_token(sale.token)
    assert credit.accepted and credit.kwh_added == sale.kwh  # made under the new key
    text_ = sale.receipt.text()
    assert "MASUKKAN 2 TOKEN GANTI KUNCI (KCT) BERURUTAN SEBELUM STROOM/TOKEN" in text_
    assert text_.index("TOKEN KCT 1/2") < text_.index("TOKEN KCT 2/2") < text_.index("\nSTROOM/TOKEN ")

    # a retry of the same sale, an advice and a reprint give the KCTs again
    again = service.purchase("BANKDEMO", "KCT-1", YULI.meter_number, 20_000)
    assert again.replayed and again.key_change_tokens == sale.key_change_tokens
    assert service.advice("BANKDEMO", "KCT-1").key_change_tokens == sale.key_change_tokens
    # the next sale is an ordinary one
    later = service.purchase("BANKDEMO", "KCT-2", YULI.meter_number, 20_000)
    assert later.key_change_tokens == () and legacy.enter_token(later.token).accepted
    assert service.meter_key(YULI.meter_number, actor="t", purpose="check").params.krn == 2

    status = service.campaign(cid, per_unit=True)
    assert status.counts.delivered == 1 and status.counts.confirmed == 0
    confirmed = service.confirm_key_change(YULI.meter_number, "meter:emulated reading")
    assert confirmed is not None and confirmed.state == "confirmed"
    status = service.campaign(cid, per_unit=True)
    assert status.counts.confirmed == 1
    assert [(u.unit_code, u.counts.selected, u.counts.confirmed) for u in status.units] == [("51", 1, 1)]
    assert any(e.action == "campaign.delivered" for e in service.audit_log(meter_number=YULI.meter_number))


class _NoVendingKeys:
    """A key store that, like an HSM, derives each decoder key itself and hands out no vending key."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        if name == "_vending_key":
            raise AttributeError(name)
        return getattr(self._inner, name)


@pytest.mark.parametrize("store", ["software", "hsm-like"])
def test_every_stored_set_is_the_per_token_set_of_the_meters_key(service: VendingService, store: str) -> None:
    """Both stores (PostgreSQL: one COPY payload per key group made in C; SQLite: rows) hold, per
    meter, what the per-token engine makes from the meter's key, under its unit; so does a key
    store without vending keys (decoder keys one by one)."""
    if store == "hsm-like":
        service.key_store = _NoVendingKeys(service.key_store)  # type: ignore[assignment]
    numbers = tuple(c.meter_number for c in DEMO_CUSTOMERS)
    cid = _approved(service, Selection(meters=numbers), Target(krn=3))
    info = service.run_campaign(cid)
    rows = _rows(service, cid)
    assert len(rows) == info.counts.generated == len({r.meter_number for r in rows}) >= 10
    assert len({r.from_key for r in rows}) >= 2  # more than one key group (YULI: base date 1993)
    units = {c.meter_number: c.unit for c in DEMO_CUSTOMERS}
    for r in rows:
        current = service.meter_key(r.meter_number, actor="t", purpose="check")
        assert r.from_key == key_label(current.params) and r.unit_code == units[r.meter_number]
        new = params_of_label(current.params.sgc, current.params.ken, r.to_key)
        new_key = service.key_store.decoder_key(sts.meter_pan.from_meter_number(r.meter_number), new)
        assert r.tokens.split() == sts.encode_key_change(current.decoder_key, new_key, new, rollover=False)


def test_misty1_target_makes_four_kcts_under_the_current_key(service: VendingService) -> None:
    """A 128-bit target key takes 4 KCTs (the emulated meter keeps its algorithm: a KCT set cannot
    change a meter's firmware, so the emulator is not used here)."""
    current = service.meter_key(BUDI.meter_number, actor="t", purpose="check")
    cid = _approved(service, Selection(meters=(BUDI.meter_number,)), Target(krn=3, algorithm="MISTY1", dkga="04"))
    service.run_campaign(cid)
    sale = service.purchase("BANKDEMO", "M1-1", BUDI.meter_number, 50_000)
    assert len(sale.key_change_tokens) == 4
    assert [sts.decode(t, current.decoder_key).subclass for t in sale.key_change_tokens] == [3, 4, 8, 9]
    after = service.meter_key(BUDI.meter_number, actor="t", purpose="check")
    assert after.params.algorithm is sts.EncryptionAlgorithm.MISTY1 and after.params.krn == 3
    assert sts.decode(sale.token, after.decoder_key).amount == sale.kwh


def test_target_checks_the_vending_key(service: VendingService) -> None:
    with pytest.raises(InvalidRequest, match="DKGA"):
        service.create_campaign(
            "admin", "X", "rollover", Selection(base_date="93"), Target(krn=2, rollover=True, dkga="02")
        )
    from prabayar.vending import KeyUnavailable

    with pytest.raises(KeyUnavailable):
        service.create_campaign("admin", "X", "new krn", Selection(unit="54"), Target(krn=7))


def test_export_per_unit_and_field_keying(service: VendingService, clock: FakeClock) -> None:
    cid = _approved(service, Selection(unit="54"), Target(krn=3))
    info = service.run_campaign(cid)
    assert info.counts.generated == info.counts.selected >= 8
    rows = list(csv.DictReader(io.StringIO(service.export_campaign(cid, "54"))))
    assert len(rows) == info.counts.generated and all(r["kct_1"] and r["kct_2"] and not r["kct_3"] for r in rows)
    assert service.export_campaign(cid, "51").count("\n") == 1  # header only
    meter = _legacy_meter(service, BUDI.meter_number, clock)
    budi = next(r for r in rows if r["meter_number"] == BUDI.meter_number)
    assert all(meter.enter_token(budi[f"kct_{i}"]).accepted for i in (1, 2))
    kct = service.record_field_keying("operator", BUDI.meter_number, "kunjungan petugas", accepted=True)
    assert kct.state == "confirmed"
    sale = service.purchase("BANKDEMO", "F-1", BUDI.meter_number, 20_000)
    assert sale.key_change_tokens == () and meter.enter_token(sale.token).accepted
    with pytest.raises(InvalidRequest):
        service.record_field_keying("operator", BUDI.meter_number, "kunjungan lagi")


def test_a_key_changed_otherwise_makes_the_campaign_kcts_stale(service: VendingService, clock: FakeClock) -> None:
    cid = _approved(service, Selection(meters=(BUDI.meter_number,)), Target(krn=3))
    service.run_campaign(cid)
    request = service.key_change("admin", BUDI.meter_number, "single key change", new_krn=1)
    service.approve(request.id, "supervisor")
    sale = service.purchase("BANKDEMO", "S-1", BUDI.meter_number, 20_000)
    assert sale.key_change_tokens == ()
    assert service.campaign(cid).counts.stale == 1


def _add_meters(service: VendingService, n: int) -> None:
    """n more meters of Budi's customer row (unit 54, KRN 2, base date 2014)."""
    with service.engine.begin() as conn:
        cid = conn.execute(text("SELECT customer_id FROM meters WHERE meter_number = :m"),
                           {"m": BUDI.meter_number}).scalar_one()  # fmt: skip
        rows = []
        for i in range(n):
            payload = f"47{i:08d}"
            rows.append({"m": payload + sts.meter_number.calc_check_digit(payload), "c": cid})
        conn.execute(
            text("INSERT INTO meters (meter_number, customer_id, status, key_type, sgc, tariff_index, krn, ken,"
                 " algorithm, base_date, dkga, last_tid) SELECT :m, :c, 'active', 2, sgc, '01', 2, 255, '07',"
                 " '14', '04', 0 FROM meters WHERE meter_number = '" + BUDI.meter_number + "'"),
            rows,
        )  # fmt: skip


def test_a_crash_inside_a_chunk_loses_nothing_and_repeats_nothing(service: VendingService) -> None:
    _add_meters(service, 1_000)
    cid = _approved(service, Selection(unit="54"), Target(krn=3), chunk_size=100)
    selected = service.plan_campaign(cid)
    assert selected >= 1_000 and service.plan_campaign(cid) == selected  # planned once
    chunks = service.pending_chunks(cid)
    assert len(chunks) == -(-selected // 100)
    done = service.generate_campaign_chunk(cid, chunks[0])
    assert done.state == "done" and done.generated == 100

    def crash() -> None:
        raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        service.generate_campaign_chunk(cid, chunks[1], after_select=crash)
    assert service.pending_chunks(cid)[0] == chunks[1]  # rolled back whole
    assert service.generate_campaign_chunk(cid, chunks[0]).state == "already"
    info = service.run_campaign(cid)
    assert info.status == "done" and info.counts.generated == selected
    with reading_session(service.engine) as session:
        total, distinct = session.execute(
            select(func.count(), func.count(func.distinct(CampaignMeterRow.meter_number)))
            .where(CampaignMeterRow.campaign_id == cid)
        ).one()  # fmt: skip
    assert total == distinct == selected


def test_meters_in_storage_get_their_kcts_and_the_stock_record_follows(
    service: VendingService, clock: FakeClock
) -> None:
    from datetime import UTC, datetime

    from prabayar.vending.campaign_engine import meter_params
    from prabayar.vending.models import MeterStock

    payload = "4799999999"
    number = payload + sts.meter_number.calc_check_digit(payload)
    budi = service.meter_key(BUDI.meter_number, actor="t", purpose="stock test").params
    with service.engine.begin() as conn:
        conn.execute(
            MeterStock.__table__.insert().values(
                meter_number=number, key_type=2, sgc=budi.sgc, tariff_index="01", krn=2, ken=255, algorithm="07",
                base_date="14", dkga="04", status="in_stock", registered_at=datetime(2026, 1, 1, tzinfo=UTC),
                registered_by="admin",
            )
        )  # fmt: skip
    cid = _approved(service, Selection(krn=2, sgc=budi.sgc), Target(krn=3))
    rows = list(csv.DictReader(io.StringIO(service.export_campaign_stock(cid))))
    assert [r["meter_number"] for r in rows] == [number] and rows[0]["kct_2"] and not rows[0]["kct_3"]
    params = meter_params((2, budi.sgc, "01", 2, 255, "07", "14", "04"))
    key = service.key_store.decoder_key(sts.meter_pan.from_meter_number(number), params)
    meter = Meter.manufacture(number, key, params, clock=ManualClock(clock.now))
    assert all(meter.enter_token(rows[0][f"kct_{i}"]).accepted for i in (1, 2))
    assert service.record_stock_keying("operator", cid, number, "dikunci di gudang").startswith("3/14/07/04")
    assert service.export_campaign_stock(cid).count("\n") == 1  # nothing left to key
    assert service.export_campaign_stock(_approved(service, Selection(unit="54"), Target(krn=1))).count("\n") == 1
