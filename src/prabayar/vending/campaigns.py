"""Key-change campaigns (issue 13): change the key of many meters, with four eyes.

An admin creates a campaign (a meter selection and a target key); it waits for a second admin
(approval kind ``key_campaign``). Generation (``prabayar.vending.campaign_engine``) then makes
every selected meter's KCT set with its current key, chunk by chunk, on any number of workers
(``prabayar.vending.campaign_queue``) or in-process. The meter record keeps its key until the
KCTs are **delivered**: the next purchase for the meter returns the KCTs first and the credit
token made with the new key (and switches the record to it in the same transaction), or a field
team keys them on a visit. **Confirmed** means a later token under the new key is known to be
accepted (a technician's report, a complaint closed, an emulated or remote meter reading).
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from prabayar import sts
from prabayar.sts import ElectricityCredit
from prabayar.vending._core import _is_lock_timeout, _params_of, _result_of, month_of, new_reference_number
from prabayar.vending.approvals import ApprovalKind, ApprovalRequest, ApprovalUseCases, register_approval_kind
from prabayar.vending.campaign_engine import (
    CHUNK_SIZE,
    ChunkOutcome,
    Selection,
    Target,
    finish_if_done,
    generate_chunk,
    key_label,
    make_sets,
    meter_params,
    params_of_label,
    plan,
)
from prabayar.vending.campaign_models import CampaignChunkRow, CampaignMeterRow, CampaignRow, CampaignUnitRow
from prabayar.vending.db import WriterBusy, claiming_session, reading_session
from prabayar.vending.errors import (
    AdminRequired,
    InProcess,
    InvalidRequest,
    KeyUnavailable,
    NotAuthorized,
    ReasonRequired,
    VendingError,
)
from prabayar.vending.models import (
    Customer,
    Meter,
    MeterStock,
    MonthlyUsage,
    Purchase,
    PurchaseRef,
    Role,
    Unit,
    UserAccount,
)
from prabayar.vending.results import PurchaseResult
from prabayar.vending.sales import SalesUseCases

#: Seconds this process trusts "no campaign has undelivered KCTs" before asking again.
CAMPAIGN_CACHE_SECONDS = 5.0

STATUSES = ("pending_approval", "approved", "running", "done", "rejected")


class UnknownCampaign(VendingError):
    """No campaign with this id."""

    code = "0005"

    def __init__(self, campaign_id: int) -> None:
        super().__init__(f"KAMPANYE {campaign_id} TIDAK ADA", f"no campaign with id {campaign_id}")


class CampaignNotRunnable(VendingError):
    """The campaign is not approved (or was rejected): nothing is generated."""

    code = "0005"

    def __init__(self, campaign_id: int, status: str) -> None:
        super().__init__(
            f"KAMPANYE {campaign_id} BELUM DISETUJUI ({status})",
            f"campaign {campaign_id} cannot run: it is {status} (a second admin must approve it first)",
        )


@dataclass(frozen=True)
class CampaignCounts:
    selected: int = 0
    generated: int = 0
    delivered: int = 0
    confirmed: int = 0
    #: selected meters that got no KCTs (their key is the target already, or it changed meanwhile)
    skipped: int = 0
    #: KCTs not delivered because the meter's key changed otherwise after generation
    stale: int = 0


@dataclass(frozen=True)
class UnitCounts:
    unit_code: str
    counts: CampaignCounts


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    name: str
    status: str
    selection: Selection
    target: Target
    reason: str
    created_by: str
    created_at: datetime
    approval_id: int | None
    approved_by: str | None
    approved_at: datetime | None
    finished_at: datetime | None
    chunks_total: int
    chunks_done: int
    counts: CampaignCounts
    units: tuple[UnitCounts, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "status": self.status,
            "selection": self.selection.__dict__ | {"meters": list(self.selection.meters)},
            "target": self.target.__dict__, "reason": self.reason, "created_by": self.created_by,
            "created_at": self.created_at, "approval_id": self.approval_id, "approved_by": self.approved_by,
            "approved_at": self.approved_at, "finished_at": self.finished_at, "chunks_total": self.chunks_total,
            "chunks_done": self.chunks_done, "counts": self.counts.__dict__,
            "units": [{"unit_code": u.unit_code, **u.counts.__dict__} for u in self.units],
        }  # fmt: skip


@dataclass(frozen=True)
class CampaignKct:
    """A meter's KCT set in a campaign, for a diagnosis, a field team or a receipt."""

    campaign_id: int
    campaign_name: str
    meter_number: str
    tokens: tuple[str, ...]
    state: str
    from_key: str
    to_key: str
    generated_at: datetime
    delivered_at: datetime | None
    delivered_via: str | None
    confirmed_at: datetime | None


def _kct(row: CampaignMeterRow, name: str) -> CampaignKct:
    return CampaignKct(
        row.campaign_id, name, row.meter_number, tuple(row.tokens.split()), row.state, row.from_key, row.to_key,
        row.generated_at, row.delivered_at, row.delivered_via, row.confirmed_at,
    )  # fmt: skip


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class CampaignUseCases(SalesUseCases, ApprovalUseCases):
    """Campaign use cases, and the purchase that delivers a campaign's KCTs."""

    # --- create / approve --------------------------------------------------------------------
    def _admin(self, session: Session, username: str, action: str) -> UserAccount:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        if user is None or not user.active or user.role not in (Role.OPERATOR, Role.ADMIN):
            raise NotAuthorized(username, action)
        if user.role != Role.ADMIN:
            raise AdminRequired(username, action)
        return user

    def create_campaign(
        self,
        admin: str,
        name: str,
        reason: str,
        selection: Selection,
        target: Target,
        *,
        chunk_size: int = CHUNK_SIZE,
    ) -> CampaignInfo:
        """Record a campaign and ask a second admin to approve it (``key_campaign``).

        Checked now, so the maker hears of it at once: admin role, reason, a selection that
        finds meters, a target that changes their key, and a vending key for every (SGC, KRN)
        the campaign moves meters from and to."""
        why = (reason or "").strip()
        if len(why) < 3:
            raise ReasonRequired()
        title = (name or "").strip()
        if not 1 <= len(title) <= 80:
            raise InvalidRequest("NAMA KAMPANYE 1-80 KARAKTER", "a campaign name has 1 to 80 characters")
        if isinstance(chunk_size, bool) or not 100 <= int(chunk_size) <= 200_000:
            raise InvalidRequest("UKURAN CHUNK TIDAK VALID", "the chunk size is 100..200000 meters")
        sel, tgt = selection.validated(), target.validated()
        where, params = sel.where()
        now = self.now()
        with reading_session(self.engine) as session:
            self._admin(session, admin, "create a key-change campaign")
            sql = (
                "SELECT m.key_type, m.sgc, m.tariff_index, m.krn, m.ken, m.algorithm, m.base_date, m.dkga, count(*)"
                " FROM meters m JOIN customers c ON c.id = m.customer_id JOIN units u ON u.id = c.unit_id"
                f" WHERE {where} GROUP BY m.key_type, m.sgc, m.tariff_index, m.krn, m.ken, m.algorithm,"
                " m.base_date, m.dkga"
            )
            groups = _raw_all(session, sql, params)
        if not groups:
            raise InvalidRequest("TIDAK ADA METER YANG DIPILIH", "the selection finds no meter in service")
        changing = 0
        for g in groups:
            current = meter_params(g[:8])
            for sgc, krn in {(current.sgc, current.krn)}:
                if not self.key_store.has_vending_key(sgc, krn):
                    raise KeyUnavailable(sgc, krn)
            new_krn = tgt.krn if tgt.krn is not None else current.krn
            if not self.key_store.has_vending_key(current.sgc, new_krn):
                raise KeyUnavailable(current.sgc, new_krn)
            if tgt.params_for(current, self.key_store.vending_key_dkga) != current:
                changing += int(g[8])
        if changing == 0:
            raise InvalidRequest("SEMUA METER SUDAH MEMAKAI KUNCI TUJUAN", "every selected meter has the target key")
        with claiming_session(self.engine) as session:
            row = CampaignRow(
                name=title, status="pending_approval", selection=sel.as_json(), target=tgt.as_json(), reason=why,
                created_by=admin, created_at=now, chunk_size=int(chunk_size), selected=0,
            )  # fmt: skip
            session.add(row)
            session.flush()
            campaign_id = row.id
        try:
            request = self.request_approval(
                "key_campaign", admin, why,
                {"campaign_id": campaign_id, "name": title, "meters": changing,
                 "selection": sel.as_json(), "target": tgt.as_json()},
            )  # fmt: skip
        except VendingError:
            with claiming_session(self.engine) as session:
                session.execute(update(CampaignRow).where(CampaignRow.id == campaign_id).values(status="rejected"))
            raise
        with claiming_session(self.engine) as session:
            session.execute(update(CampaignRow).where(CampaignRow.id == campaign_id).values(approval_id=request.id))
            self._audit(session, now, admin, "campaign.created", None, campaign=campaign_id, name=title,
                        reason=why, meters=changing, approval=request.id)  # fmt: skip
        return self.campaign(campaign_id)

    def approve_campaign(self, campaign_id: int, checker: str, *, reason: str = "") -> CampaignInfo:
        """The second admin's approval (the same as approving its request)."""
        info = self.campaign(campaign_id)
        if info.approval_id is None:
            raise CampaignNotRunnable(campaign_id, info.status)
        self.approve(info.approval_id, checker, reason=reason)
        return self.campaign(campaign_id)

    def _execute_campaign_approval(self, request: ApprovalRequest, checker: str) -> dict[str, Any]:
        campaign_id = int(request.payload["campaign_id"])
        now = self.now()
        with claiming_session(self.engine) as session:
            row = session.get(CampaignRow, campaign_id)
            if row is None:
                raise UnknownCampaign(campaign_id)
            if row.status != "pending_approval":
                raise CampaignNotRunnable(campaign_id, row.status)
            row.status, row.approved_by, row.approved_at = "approved", checker, now
            self._audit(session, now, checker, "campaign.approved", None, campaign=campaign_id,
                        maker=request.maker, approved_by=checker, approval=request.id)  # fmt: skip
        return {"campaign_id": campaign_id, "status": "approved", "meters": request.payload.get("meters")}

    # --- generation --------------------------------------------------------------------------
    def _runnable(self, campaign_id: int) -> CampaignRow:
        with reading_session(self.engine) as session:
            row = session.get(CampaignRow, campaign_id)
            if row is None:
                raise UnknownCampaign(campaign_id)
            if row.status not in ("approved", "running", "done"):
                raise CampaignNotRunnable(campaign_id, row.status)
            return row

    def plan_campaign(self, campaign_id: int) -> int:
        """Cut an approved campaign into chunks (idempotent); returns the meters selected."""
        row = self._runnable(campaign_id)
        selected = plan(self.engine, campaign_id, Selection.from_json(row.selection), row.chunk_size, self.now())
        self.invalidate_campaign_cache()
        return selected

    def pending_chunks(self, campaign_id: int) -> list[int]:
        with reading_session(self.engine) as session:
            return list(
                session.scalars(
                    select(CampaignChunkRow.chunk_no)
                    .where(CampaignChunkRow.campaign_id == campaign_id, CampaignChunkRow.state != "done")
                    .order_by(CampaignChunkRow.chunk_no)
                )
            )

    def generate_campaign_chunk(
        self, campaign_id: int, chunk_no: int, *, worker: str | None = None,
        after_select: Callable[[], None] | None = None,
    ) -> ChunkOutcome:  # fmt: skip
        """Make and store one chunk's KCT sets (one transaction; a done chunk is skipped)."""
        row = self._runnable(campaign_id)
        outcome = generate_chunk(
            self.engine, self.key_store, campaign_id, chunk_no, Selection.from_json(row.selection),
            Target.from_json(row.target), self.now(), worker=worker or _worker_name(), after_select=after_select,
        )  # fmt: skip
        self.invalidate_campaign_cache()
        return outcome

    def run_campaign(self, campaign_id: int, *, progress: Callable[[ChunkOutcome], None] | None = None) -> CampaignInfo:
        """Plan and generate every pending chunk in this process (the embedded default; also
        ``prabayar campaign run --in-process`` on PostgreSQL). Safe to run again after a crash."""
        self.plan_campaign(campaign_id)
        for chunk_no in self.pending_chunks(campaign_id):
            outcome = self.generate_campaign_chunk(campaign_id, chunk_no)
            if progress is not None:
                progress(outcome)
        finish_if_done(self.engine, campaign_id, self.now())
        return self.campaign(campaign_id)

    # --- status ------------------------------------------------------------------------------
    def campaign(self, campaign_id: int, *, per_unit: bool = False) -> CampaignInfo:
        with reading_session(self.engine) as session:
            row = session.get(CampaignRow, campaign_id)
            if row is None:
                raise UnknownCampaign(campaign_id)
            return self._info(session, row, per_unit=per_unit)

    def campaigns(self, *, limit: int = 50) -> list[CampaignInfo]:
        with reading_session(self.engine) as session:
            rows = session.scalars(select(CampaignRow).order_by(CampaignRow.id.desc()).limit(limit)).all()
            return [self._info(session, r) for r in rows]

    @staticmethod
    def _info(session: Session, row: CampaignRow, *, per_unit: bool = False) -> CampaignInfo:
        cid = row.id
        chunks = session.execute(
            select(func.count(), func.sum(CampaignChunkRow.generated), func.sum(CampaignChunkRow.skipped),
                   func.count().filter(CampaignChunkRow.state == "done"))
            .where(CampaignChunkRow.campaign_id == cid)
        ).one()  # fmt: skip
        states = dict(
            session.execute(
                select(CampaignMeterRow.state, func.count())
                .where(CampaignMeterRow.campaign_id == cid, CampaignMeterRow.state != "generated")
                .group_by(CampaignMeterRow.state)
            ).all()
        )
        generated = int(chunks[1] or 0)
        counts = CampaignCounts(
            selected=int(row.selected), generated=generated,
            delivered=int(states.get("delivered", 0)) + int(states.get("confirmed", 0)),
            confirmed=int(states.get("confirmed", 0)), skipped=int(chunks[2] or 0), stale=int(states.get("stale", 0)),
        )  # fmt: skip
        units: list[UnitCounts] = []
        if per_unit:
            selected = dict(
                session.execute(
                    select(CampaignUnitRow.unit_code, CampaignUnitRow.selected).where(
                        CampaignUnitRow.campaign_id == cid
                    )
                ).all()
            )
            by_unit: dict[str, dict[str, int]] = {}
            for unit, state, n in session.execute(
                select(CampaignMeterRow.unit_code, CampaignMeterRow.state, func.count())
                .where(CampaignMeterRow.campaign_id == cid)
                .group_by(CampaignMeterRow.unit_code, CampaignMeterRow.state)
            ):
                by_unit.setdefault(unit, {})[state] = int(n)
            for unit in sorted(set(selected) | set(by_unit)):
                s = by_unit.get(unit, {})
                units.append(UnitCounts(unit, CampaignCounts(
                    selected=int(selected.get(unit, 0)), generated=sum(s.values()),
                    delivered=s.get("delivered", 0) + s.get("confirmed", 0), confirmed=s.get("confirmed", 0),
                    stale=s.get("stale", 0),
                )))  # fmt: skip
        return CampaignInfo(
            id=cid, name=row.name, status=row.status, selection=Selection.from_json(row.selection),
            target=Target.from_json(row.target), reason=row.reason, created_by=row.created_by,
            created_at=row.created_at, approval_id=row.approval_id, approved_by=row.approved_by,
            approved_at=row.approved_at, finished_at=row.finished_at, chunks_total=int(chunks[0] or 0),
            chunks_done=int(chunks[3] or 0), counts=counts, units=tuple(units),
        )  # fmt: skip

    # --- per meter -----------------------------------------------------------------------------
    def campaign_kcts(self, meter_number: str) -> list[CampaignKct]:
        """Every campaign KCT set of a meter, newest first (for the diagnosis and the desk)."""
        number = sts.meter_number.compact(meter_number)
        with reading_session(self.engine) as session:
            rows = session.execute(
                select(CampaignMeterRow, CampaignRow.name)
                .join(CampaignRow, CampaignRow.id == CampaignMeterRow.campaign_id)
                .where(CampaignMeterRow.meter_number == number)
                .order_by(CampaignMeterRow.id.desc())
            ).all()
            return [_kct(r, name) for r, name in rows]

    def export_campaign(
        self, campaign_id: int, unit_code: str, *, states: tuple[str, ...] = ("generated", "delivered")
    ) -> str:
        """CSV for a unit's field team: meter, customer, address, state, the KCTs in keying order."""
        self.campaign(campaign_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["meter_number", "idpel", "name", "address", "unit", "state", "kct_count",
                         "kct_1", "kct_2", "kct_3", "kct_4", "key_from", "key_to"])  # fmt: skip
        with reading_session(self.engine) as session:
            rows = session.execute(
                select(CampaignMeterRow, Customer.idpel, Customer.name, Customer.address)
                .join(Meter, Meter.meter_number == CampaignMeterRow.meter_number)
                .join(Customer, Customer.id == Meter.customer_id)
                .where(CampaignMeterRow.campaign_id == campaign_id, CampaignMeterRow.unit_code == unit_code,
                       CampaignMeterRow.state.in_(states))
                .order_by(CampaignMeterRow.meter_number)
            )  # fmt: skip
            for r, idpel, name, address in rows:
                tokens = r.tokens.split()
                writer.writerow([r.meter_number, idpel, name, address, r.unit_code, r.state, len(tokens),
                                 *(tokens + [""] * (4 - len(tokens))), r.from_key, r.to_key])  # fmt: skip
        return out.getvalue()

    def export_campaign_stock(self, campaign_id: int) -> str:
        """CSV for the warehouse: meters registered but not installed (``meter_stock``, in stock)
        that match the campaign's selection (a unit criterion matches none: stock has no unit),
        with their KCT sets made now from their recorded key (KCTs carry no random part, so the
        same sets every time). Nothing is stored; ``record_stock_keying`` moves a stock meter's
        record to the new key once the KCTs were keyed."""
        info = self.campaign(campaign_id)
        if info.status not in ("approved", "running", "done"):
            raise CampaignNotRunnable(campaign_id, info.status)
        sel = info.selection
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["meter_number", "state", "kct_count", "kct_1", "kct_2", "kct_3", "kct_4", "key_from", "key_to"]
        )
        if sel.unit:
            return out.getvalue()
        query = select(MeterStock).where(MeterStock.status == "in_stock").order_by(MeterStock.meter_number)
        criteria = ((MeterStock.sgc, sel.sgc), (MeterStock.krn, sel.krn), (MeterStock.base_date, sel.base_date),
                    (MeterStock.algorithm, sel.algorithm))  # fmt: skip
        for column, value in criteria:
            if value is not None:
                query = query.where(column == value)
        if sel.meters:
            query = query.where(MeterStock.meter_number.in_(sel.meters))
        with reading_session(self.engine) as session:
            rows = [(r.meter_number, _stock_params(r)) for r in session.scalars(query)]
        for (number, current), made in zip(rows, make_sets(self.key_store, info.target, rows), strict=True):
            if made is None:
                continue
            tokens = list(made[1])
            writer.writerow([number, "stock", len(tokens), *(tokens + [""] * (4 - len(tokens))),
                             key_label(current), key_label(made[0])])  # fmt: skip
        return out.getvalue()

    def record_stock_keying(self, operator: str, campaign_id: int, meter_number: str, reason: str) -> str:
        """The warehouse keyed a stock meter's campaign KCTs: its stock record takes the new key
        (so installing it later registers the key it has). Returns the new key label."""
        why = (reason or "").strip()
        if len(why) < 3:
            raise ReasonRequired()
        info = self.campaign(campaign_id)
        number = sts.meter_number.compact(meter_number)
        now = self.now()
        with claiming_session(self.engine) as session:
            user = session.scalar(select(UserAccount).where(UserAccount.username == operator))
            if user is None or not user.active or user.role not in (Role.OPERATOR, Role.ADMIN):
                raise NotAuthorized(operator, "record campaign keying in the warehouse")
            row = session.scalar(select(MeterStock).where(MeterStock.meter_number == number).with_for_update())
            if row is None or row.status != "in_stock":
                raise InvalidRequest("METER TIDAK ADA DI GUDANG", f"meter {number} is not in stock")
            current = _stock_params(row)
            new = info.target.params_for(current, self.key_store.vending_key_dkga)
            if new == current:
                raise InvalidRequest("METER SUDAH MEMAKAI KUNCI TUJUAN", "the meter already has the target key")
            row.krn, row.base_date, row.algorithm, row.dkga = (
                new.krn, new.base_date.value, new.algorithm.value, new.dkga.value,
            )  # fmt: skip
            self._audit(session, now, operator, "campaign.stock_keyed", number, reason=why, campaign=campaign_id,
                        old_key=key_label(current), new_key=key_label(new))  # fmt: skip
            return key_label(new)

    def record_field_keying(
        self, operator: str, meter_number: str, reason: str, *, accepted: bool = False
    ) -> CampaignKct:
        """A field team keyed the meter's campaign KCTs on a visit: the meter record moves to the
        new key now (delivered); ``accepted`` (a credit or test token under the new key was then
        accepted on the meter) also confirms it."""
        why = (reason or "").strip()
        if len(why) < 3:
            raise ReasonRequired()
        now = self.now()
        with claiming_session(self.engine) as session:
            user = session.scalar(select(UserAccount).where(UserAccount.username == operator))
            if user is None or not user.active or user.role not in (Role.OPERATOR, Role.ADMIN):
                raise NotAuthorized(operator, "record a campaign visit")
            meter = self._find_meter(session, meter_number, lock=True)
            row = self._pending_row(session, meter)
            if row is None:
                raise InvalidRequest("TIDAK ADA KCT KAMPANYE UNTUK METER INI",
                                     f"meter {meter.meter_number} has no undelivered campaign KCTs")  # fmt: skip
            self._switch_key(meter, row)
            row.state, row.delivered_at, row.delivered_via = "delivered", now, f"field:{operator}"[:80]
            if accepted:
                row.state, row.confirmed_at, row.confirmed_by = "confirmed", now, f"technician:{operator}"[:80]
            self._audit(session, now, operator, "campaign.field_keyed", meter.meter_number, reason=why,
                        campaign=row.campaign_id, accepted=accepted, new_key=row.to_key)  # fmt: skip
            name = session.get(CampaignRow, row.campaign_id)
            return _kct(row, name.name if name else "")

    def confirm_key_change(self, meter_number: str, source: str) -> CampaignKct | None:
        """A token under the new key is known to be accepted (``source``: "technician:<user>",
        "ticket:<number>", "meter:<reading>"): the meter's delivered campaign row is confirmed.
        None when the meter has no delivered, unconfirmed campaign KCTs."""
        number = sts.meter_number.compact(meter_number)
        now = self.now()
        with claiming_session(self.engine) as session:
            row = session.scalar(
                select(CampaignMeterRow)
                .where(CampaignMeterRow.meter_number == number, CampaignMeterRow.state == "delivered")
                .order_by(CampaignMeterRow.id.desc())
            )
            if row is None:
                return None
            row.state, row.confirmed_at, row.confirmed_by = "confirmed", now, source[:80]
            self._audit(session, now, source[:64], "campaign.confirmed", number, campaign=row.campaign_id)
            name = session.get(CampaignRow, row.campaign_id)
            return _kct(row, name.name if name else "")

    # --- delivery with the next purchase ---------------------------------------------------------
    def invalidate_campaign_cache(self) -> None:
        self.__dict__.pop("_campaign_flag", None)

    def _campaign_deliveries_possible(self) -> bool:
        """Whether any campaign has been generated (cached for ``CAMPAIGN_CACHE_SECONDS``): until
        then a sale costs nothing extra. A stale "no" only delays a delivery to a later sale (the
        meter record keeps its key until the KCTs are delivered)."""
        import time

        flag: tuple[float, bool] | None = self.__dict__.get("_campaign_flag")
        if flag is not None and flag[0] > time.monotonic():
            return flag[1]
        with reading_session(self.engine) as session:
            value = session.scalar(
                select(CampaignRow.id).where(CampaignRow.status.in_(("running", "done"))).limit(1)
            ) is not None  # fmt: skip
        self.__dict__["_campaign_flag"] = (time.monotonic() + CAMPAIGN_CACHE_SECONDS, value)
        return value

    def peek_campaign_flag(self) -> tuple[bool | None, bool]:
        """``_campaign_deliveries_possible`` from its cache only (no I/O): (flag or None when
        cold, whether fresh)."""
        import time

        flag: tuple[float, bool] | None = self.__dict__.get("_campaign_flag")
        if flag is None:
            return None, False
        return flag[1], flag[0] > time.monotonic()

    @staticmethod
    def _pending_row(session: Session, meter: Meter) -> CampaignMeterRow | None:
        """The meter's undelivered KCT set made with its current key; older sets made with a key
        the meter no longer has are marked stale."""
        current = key_label(_params_of(meter))
        rows = session.scalars(
            select(CampaignMeterRow)
            .where(CampaignMeterRow.meter_number == meter.meter_number, CampaignMeterRow.state == "generated")
            .order_by(CampaignMeterRow.id)
        ).all()
        found = None
        for r in rows:
            if r.from_key == current and found is None:
                found = r
            elif r.from_key != current:
                r.state = "stale"
        return found

    @staticmethod
    def _switch_key(meter: Meter, row: CampaignMeterRow) -> None:
        new = params_of_label(meter.sgc, meter.ken, row.to_key)
        if new.base_date.value != meter.base_date:
            meter.last_tid = 0  # the KCT's rollover bit clears the meter's TID memory
        meter.krn, meter.base_date, meter.algorithm, meter.dkga = (
            new.krn, new.base_date.value, new.algorithm.value, new.dkga.value,
        )  # fmt: skip

    def _has_pending_kct(self, identifier: str) -> bool:
        try:
            number = self._meter_number_for(identifier)
        except VendingError:
            return False
        with reading_session(self.engine) as session:
            return session.scalar(
                select(CampaignMeterRow.id)
                .where(CampaignMeterRow.meter_number == number, CampaignMeterRow.state == "generated")
                .limit(1)
            ) is not None  # fmt: skip

    def purchase(self, channel: str, channel_reference: str, identifier: str, nominal: int) -> PurchaseResult:
        """A sale; for a meter with undelivered campaign KCTs the answer carries them
        (``key_change_tokens``, to be keyed first) and the credit token is made with the new key.
        Other meters take the lean path unchanged."""
        if self._campaign_deliveries_possible() and self._has_pending_kct(identifier):
            try:
                result = self._campaign_sale(channel, channel_reference, identifier, nominal)
            except IntegrityError:
                result = None  # the reference was used meanwhile: the lean path replays it
            except WriterBusy as exc:
                raise InProcess("the database was busy") from exc
            except OperationalError as exc:
                if _is_lock_timeout(exc):
                    raise InProcess("the database was busy") from exc
                raise
            if result is not None:
                return result
        result = super().purchase(channel, channel_reference, identifier, nominal)
        if result.replayed and self._campaign_deliveries_possible():
            return self._with_kcts(result)
        return result

    def advice(self, channel: str, channel_reference: str) -> PurchaseResult:
        return self._with_kcts(super().advice(channel, channel_reference))

    def unsold_tokens(self, identifier: str) -> list[PurchaseResult]:
        return [self._with_kcts(r) for r in super().unsold_tokens(identifier)]

    def reprint(self, identifier: str, limit: int = 10) -> list[PurchaseResult]:
        return [self._with_kcts(r) for r in super().reprint(identifier, limit)]

    def _with_kcts(self, result: PurchaseResult) -> PurchaseResult:
        """The same result with the KCTs its sale delivered (a replay, an advice, a reprint)."""
        if result.key_change_tokens:
            return result
        with reading_session(self.engine) as session:
            tokens = session.scalar(
                select(CampaignMeterRow.tokens).where(
                    CampaignMeterRow.meter_number == result.meter_number,
                    CampaignMeterRow.delivered_via == result.reference_number,
                )
            )
        return replace(result, key_change_tokens=tuple(tokens.split())) if tokens else result

    def _campaign_sale(self, channel: str, reference_raw: str, identifier: str, nominal: int) -> PurchaseResult | None:
        reference = reference_raw.strip()
        if not reference or len(reference) > 64:
            return None  # the lean path refuses it with its own error
        now = self.now()
        self._check_cutoff(now)
        with claiming_session(self.engine) as session:
            ch = self._channel(session, channel)
            if self._find_purchase(session, ch.id, reference) is not None:
                return None  # a retry: the lean path replays it (with the KCTs it delivered)
            meter = self._find_meter(session, identifier, lock=True)
            self._check_sellable(meter)
            row = self._pending_row(session, meter)
            if row is None:
                return None  # nothing (left) to deliver: an ordinary sale
            previous = (meter.krn, meter.base_date, meter.algorithm, meter.dkga, meter.last_tid)
            self._switch_key(meter, row)
            try:
                price, usage = self._quote_and_usage(session, ch, meter, nominal, now)
                tid = self._next_tid(meter, now)
            except VendingError:
                meter.krn, meter.base_date, meter.algorithm, meter.dkga, meter.last_tid = previous
                raise
            customer = meter.customer
            credit = ElectricityCredit(tid=tid, amount=price.kwh, rnd=secrets.randbelow(16))
            token = sts.encode(credit, self._decoder_key(meter))
            p = Purchase(
                reference_number=new_reference_number(customer.unit.code, now), channel_id=ch.id,
                channel_reference=reference, meter_number=meter.meter_number, idpel=customer.idpel,
                customer_name=customer.name, tariff_code=customer.tariff_class.print_code, va=customer.va,
                nominal=price.nominal, admin_fee=price.admin_fee, meterai=price.meterai, ppn=price.ppn,
                pbjt=price.pbjt, angsuran=price.angsuran, stroom=price.stroom, kwh=price.kwh,
                tariff_rp_per_kwh=price.tariff_rp_per_kwh, pbjt_rate=price.pbjt_rate, tid=tid, token=token,
                created_at=now, delivered_at=None,
            )  # fmt: skip
            session.add(p)
            session.flush()
            session.add(PurchaseRef(channel_id=ch.id, channel_reference=reference, purchase_id=p.id, created_at=now))
            if usage is None:
                session.add(MonthlyUsage(meter_number=meter.meter_number, month=month_of(now), kwh=price.kwh))
            else:
                usage.kwh = usage.kwh + price.kwh
            if price.angsuran:
                customer.debt_remaining = Customer.debt_remaining - price.angsuran
            row.state, row.delivered_at, row.delivered_via = "delivered", now, p.reference_number
            self._audit(session, now, ch.code, "purchase", meter.meter_number, reference_number=p.reference_number,
                        channel_reference=reference, nominal=p.nominal, kwh=str(p.kwh), tid=tid,
                        key_change=row.campaign_id)  # fmt: skip
            self._audit(session, now, ch.code, "campaign.delivered", meter.meter_number, campaign=row.campaign_id,
                        reference_number=p.reference_number, old_key=row.from_key, new_key=row.to_key,
                        tokens=len(row.tokens.split()))  # fmt: skip
            session.flush()
            return replace(_result_of(p, ch.code), key_change_tokens=tuple(row.tokens.split()))

    def campaign_units(self) -> list[str]:
        with reading_session(self.engine) as session:
            return list(session.scalars(select(Unit.code).order_by(Unit.code)))


def _stock_params(row: MeterStock) -> Any:
    return meter_params((row.key_type, row.sgc, row.tariff_index, row.krn, row.ken, row.algorithm, row.base_date,
                         row.dkga))  # fmt: skip


def _raw_all(session: Session, sql: str, params: dict[str, Any]) -> list[Any]:
    import re

    from sqlalchemy import text

    return list(session.execute(text(re.sub(r"%\((\w+)\)s", r":\1", sql)), params).all())


register_approval_kind(
    ApprovalKind(
        "key_campaign", "Kampanye ganti kunci (KCT massal)", "Key-change campaign (mass KCT)",
        lambda service, request, checker: service._execute_campaign_approval(request, checker),
        maker_roles=frozenset({Role.ADMIN}),
    )
)  # fmt: skip

__all__ = [
    "CampaignCounts", "CampaignInfo", "CampaignKct", "CampaignNotRunnable", "CampaignUseCases", "Selection",
    "Target", "UnitCounts", "UnknownCampaign",
]  # fmt: skip
