"""What the use cases return: frozen values, safe to hand to any face (no key material)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from prabayar.sts import DecoderKey, KeyParameters
from prabayar.vending.pricing import PriceBreakdown
from prabayar.vending.receipt import Receipt


@dataclass(frozen=True)
class PurchaseResult:
    """A sale as the channel sees it; ``replayed`` is True when an idempotent retry found it."""

    reference_number: str
    channel: str
    channel_reference: str
    meter_number: str
    idpel: str
    name: str
    tariff_code: str
    va: int
    token: str
    tid: int
    price: PriceBreakdown
    created_at: datetime
    delivered: bool
    replayed: bool = False
    #: Key change tokens of a campaign (prabayar.vending.campaigns) to key BEFORE ``token``,
    #: which is made with the new key; empty for an ordinary sale.
    key_change_tokens: tuple[str, ...] = ()

    @property
    def kwh(self) -> Decimal:
        return self.price.kwh

    @property
    def receipt(self) -> Receipt:
        p = self.price
        return Receipt(
            meter_number=self.meter_number,
            idpel=self.idpel,
            name=self.name,
            tariff_code=self.tariff_code,
            va=self.va,
            reference_number=self.reference_number,
            total_paid=p.total_paid,
            meterai=p.meterai,
            ppn=p.ppn,
            pbjt=p.pbjt,
            angsuran=p.angsuran,
            stroom=p.stroom,
            kwh=p.kwh,
            token=self.token,
            admin_fee=p.admin_fee,
            key_change_tokens=self.key_change_tokens,
        )


@dataclass(frozen=True)
class Inquiry:
    """Who and what is behind a meter number or IDPEL, before buying."""

    meter_number: str
    idpel: str
    name: str
    address: str
    tariff_code: str
    tariff_class: str
    va: int
    unit_code: str
    unit_name: str
    meter_status: str
    customer_status: str
    monthly_cap_kwh: Decimal
    kwh_this_month: Decimal
    debt_remaining: int
    unsold: tuple[PurchaseResult, ...] = ()

    @property
    def kwh_remaining_this_month(self) -> Decimal:
        return max(self.monthly_cap_kwh - self.kwh_this_month, Decimal(0))


@dataclass(frozen=True)
class ManagementResult:
    """A management token set, in the order the tokens must be keyed in."""

    kind: str
    meter_number: str
    tokens: tuple[str, ...]
    operator: str
    reason: str
    created_at: datetime
    tid: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One line of the append-only audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    meter_number: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class MeterKey:
    """A meter's key parameters and decoder key; the key's repr hides its bytes."""

    meter_number: str
    meter_pan: str
    params: KeyParameters
    decoder_key: DecoderKey = field(repr=False)


@dataclass(frozen=True)
class Principal:
    """An authenticated web user."""

    username: str
    role: str
    idpel: str | None


@dataclass(frozen=True)
class ChannelInfo:
    """A sales channel as faces may show it."""

    code: str
    name: str
    kind: str
    allowed_nominals: tuple[int, ...] | None
    min_nominal: int
    max_nominal: int
    #: Purchases per minute the channel may make (0 = unlimited); the web's limiter reads it.
    purchases_per_minute: int = 600
    #: Changes whenever the channel's keys rotate or it is disabled (for API-key caches).
    key_version: int = 0
