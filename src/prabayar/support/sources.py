"""What the diagnosis engine needs to know, as support sees it.

The engine reads these small records rather than vending's or the meter's own types, so that
it can be fed by the vending back office plus the meter emulator's state files
(``prabayar.support.adapters``) or by anything else that knows the same facts (an HSM-backed
key service, a meter data head-end).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from prabayar.sts import DecoderKey, KeyParameters


@dataclass(frozen=True)
class MeterRecord:
    """The back office's view of a meter and its customer."""

    meter_number: str
    idpel: str
    name: str
    key: DecoderKey | None  # vending's current decoder key for this meter
    params: KeyParameters | None
    blocked: bool = False
    replaced_by: str | None = None

    def __repr__(self) -> str:
        return f"MeterRecord(meter_number={self.meter_number!r}, idpel={self.idpel!r})"


@dataclass(frozen=True)
class Sale:
    """One ledger row: a token sold (or attempted) for a meter."""

    token: str | None  # None when the sale never produced a token
    meter_number: str
    idpel: str
    tid: int | None
    kwh: Decimal | None
    created_at: datetime
    delivered: bool
    reference: str
    channel: str
    kind: str = "credit"  # credit, clear_tamper, key_change, ...
    completed: bool = True
    channel_reference: str | None = None  # the seller's own reference: what advice needs


@dataclass(frozen=True)
class CampaignKeyChange:
    """A key-change campaign's KCT set for a meter (vending's ``campaign_meters`` row)."""

    campaign_id: int
    tokens: tuple[str, ...]
    #: generated (not yet handed out), delivered (with a sale or on a visit), confirmed, stale
    state: str
    delivered_at: datetime | None = None
    delivered_via: str | None = None


@dataclass(frozen=True)
class TokenEntry:
    """A token the meter accepted, as it remembers it."""

    digits: str
    tid: int | None
    entered_at: datetime


@dataclass(frozen=True)
class MeterSnapshot:
    """The device's own state (known for emulated meters, or read by a technician)."""

    meter_number: str
    key: DecoderKey | None  # None when the meter's memory cannot be read (broken)
    params: KeyParameters | None
    tid_memory: tuple[int, ...]
    tid_memory_size: int
    credit_kwh: Decimal
    credit_max_kwh: Decimal
    tamper: str | None = None  # description of the tamper cause, None if none
    broken: str | None = None  # description of a fault, None if the meter works
    locked_until: datetime | None = None
    accepted: tuple[TokenEntry, ...] = ()
    events: tuple[tuple[datetime, str, str], ...] = field(default=())

    def __repr__(self) -> str:
        return f"MeterSnapshot(meter_number={self.meter_number!r}, credit_kwh={self.credit_kwh})"


class SupportSources(Protocol):
    """Read-only facts for one diagnosis."""

    def meter(self, identifier: str) -> MeterRecord:
        """The meter by 11-digit meter number or 12-digit IDPEL; raises ``MeterNotFound``."""
        ...

    def sales_for_meter(self, meter_number: str) -> Sequence[Sale]:
        """Sales for the meter, newest first (including unfinished and undelivered ones)."""
        ...

    def sale_by_token(self, digits: str) -> Sale | None:
        """The sale that produced exactly these 20 digits, for any meter."""
        ...

    def sales_by_tokens(self, candidates: Collection[str]) -> Sequence[Sale]:
        """Sales (any meter) whose token is one of ``candidates`` (an indexed batch lookup)."""
        ...

    def snapshot(self, meter_number: str) -> MeterSnapshot | None:
        """The meter's own state if it can be read, else None."""
        ...
