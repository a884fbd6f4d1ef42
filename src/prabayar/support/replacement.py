"""Meter replacement: a new meter record for the same customer, credit carried over by a token.

Vending has no replacement use case, so support performs it on the vending tables in one
transaction: the old meter becomes ``replaced`` (vending then refuses sales for it and names
the new one), the new meter inherits the key parameters of the supply group, and the
remaining credit of the old meter is issued as an electricity credit token for the new meter
(recorded as a ``credit_transfer`` management token and in the audit log).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from prabayar import sts
from prabayar.sts import (
    BaseDate,
    Dkga,
    ElectricityCredit,
    EncryptionAlgorithm,
    KeyParameters,
    KeyType,
)
from prabayar.support.errors import SupportError
from prabayar.support.text import Text
from prabayar.vending import VendingService
from prabayar.vending.db import claiming_session
from prabayar.vending.models import (
    AuditRow,
    ManagementTokenRecord,
    Meter,
    MeterStatus,
    Role,
    UserAccount,
)


class ReplacementError(SupportError):
    """The replacement cannot be done as asked (unknown meter, number taken, ...)."""


@dataclass(frozen=True)
class Replacement:
    old_meter_number: str
    new_meter_number: str
    carried_kwh: Decimal
    token: str | None  # credit for the new meter; None when nothing was left to carry


def _params_of(m: Meter) -> KeyParameters:
    return KeyParameters(
        key_type=KeyType(m.key_type),
        sgc=m.sgc,
        tariff_index=m.tariff_index,
        krn=m.krn,
        ken=m.ken,
        algorithm=EncryptionAlgorithm(m.algorithm),
        base_date=BaseDate(m.base_date),
        dkga=Dkga(m.dkga),
    )


def _err(id_: str, en: str) -> ReplacementError:
    return ReplacementError(Text(id_, en))


def replace_meter(
    service: VendingService,
    operator: str,
    old_meter_number: str,
    new_meter_number: str,
    carried_kwh: Decimal,
    reason: str,
    *,
    now: datetime,
) -> Replacement:
    """Swap the customer's meter and issue the carried-over credit for the new one."""
    if carried_kwh < 0:
        raise _err("sisa kredit tidak boleh negatif", "the carried credit cannot be negative")
    try:
        new_number = sts.meter_number.validate(new_meter_number)
    except sts.StsError as exc:
        raise _err(f"nomor meter baru tidak valid: {exc}", f"invalid new meter number: {exc}") from exc
    with claiming_session(service.engine) as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == operator))
        if user is None or not user.active or user.role not in (Role.OPERATOR, Role.ADMIN):
            raise _err(
                f"{operator} bukan petugas yang berwenang",
                f"{operator} is not an operator allowed to replace meters",
            )
        old = session.scalar(select(Meter).where(Meter.meter_number == old_meter_number))
        if old is None:
            raise _err(f"meter {old_meter_number} tidak ada", f"no meter {old_meter_number}")
        if old.status == MeterStatus.REPLACED:
            raise _err(
                f"meter {old_meter_number} sudah diganti ({old.replaced_by})",
                f"meter {old_meter_number} was already replaced by {old.replaced_by}",
            )
        if session.scalar(select(Meter.id).where(Meter.meter_number == new_number)):
            raise _err(
                f"nomor meter {new_number} sudah terdaftar",
                f"meter number {new_number} is already registered",
            )
        new = Meter(
            meter_number=new_number,
            customer_id=old.customer_id,
            status=MeterStatus.ACTIVE,
            key_type=old.key_type,
            sgc=old.sgc,
            tariff_index=old.tariff_index,
            krn=old.krn,
            ken=old.ken,
            algorithm=old.algorithm,
            base_date=old.base_date,
            dkga=old.dkga,
            last_tid=0,
        )
        old.status = MeterStatus.REPLACED
        old.replaced_by = new_number
        session.add(new)
        token: str | None = None
        tid: int | None = None
        amount = carried_kwh.quantize(Decimal("0.1"))
        if amount > 0:
            params = _params_of(new)
            pan = sts.meter_pan.from_meter_number(new_number)
            key = service.key_store.decoder_key(pan, params)
            tid = sts.tid_from_datetime(now, params.base_date)
            new.last_tid = tid
            token = sts.encode(ElectricityCredit(tid=tid, amount=amount, rnd=secrets.randbelow(16)), key)
            session.add(
                ManagementTokenRecord(
                    meter_number=new_number,
                    kind="credit_transfer",
                    tokens=token,
                    tid=tid,
                    operator=operator,
                    reason=reason,
                    created_at=now,
                )
            )
        session.add(
            AuditRow(
                at=now,
                actor=operator,
                action="support.meter_replaced",
                meter_number=old_meter_number,
                detail=json.dumps(
                    {"new_meter": new_number, "carried_kwh": str(amount), "tid": tid,
                     "reason": reason},
                    sort_keys=True,
                ),
            )
        )  # fmt: skip
    return Replacement(old_meter_number, new_number, amount, token)
