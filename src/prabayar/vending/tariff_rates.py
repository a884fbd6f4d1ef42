"""The Rp/kWh in force at a moment: the one lookup every sale makes (kept free of use cases)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from prabayar.vending.models import TariffClass, TariffPrice


def tariff_rate_at(session: Session, tariff: TariffClass, when: datetime) -> Decimal:
    """The Rp/kWh of ``tariff`` in force at ``when`` (the newest version that has started).

    A class without any version (a database from before versions existed) uses its base price.
    One indexed query (``uq_tariff_prices_class_from``).
    """
    rate = session.scalar(
        select(TariffPrice.rp_per_kwh)
        .where(TariffPrice.tariff_class_id == tariff.id, TariffPrice.effective_from <= when)
        .order_by(TariffPrice.effective_from.desc())
        .limit(1)
    )
    return rate if rate is not None else tariff.rp_per_kwh
