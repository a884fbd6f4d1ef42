"""What a prepaid meter holds in its non-volatile memory (PLN.md section 3, SPEC section 10)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import IntEnum, StrEnum

from prabayar.meter.settings import MeterSettings
from prabayar.sts import DecoderKey, KeyParameters, meter_pan

#: Energy resolution of the credit register: consumption is integrated to 1 Wh / 1000.
ENERGY_QUANTUM = Decimal("0.000001")


class RelayState(StrEnum):
    """The supply contactor: closed (power on) or open, and why it is open."""

    CLOSED = "closed"
    OPEN_NO_CREDIT = "open_no_credit"
    TRIPPED_OVERLOAD = "tripped_overload"


class TamperCause(IntEnum):
    """Tamper causes with the digit service code 08 shows (Itron EM512 manual, PLN.md 3.5)."""

    COVER_OPEN_POWER_ON = 1
    COVER_OPEN_POWER_OFF = 2
    REVERSE_CURRENT = 3
    BYPASS = 4
    REVERSE_AND_BYPASS = 5
    EARTH_LEAKAGE_HIGH_MAINS = 6
    EARTH_LEAKAGE_LOW_MAINS = 7
    MAGNET = 8

    @property
    def label_id(self) -> str:
        return _TAMPER_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _TAMPER_LABELS[self][1]


_TAMPER_LABELS: dict[TamperCause, tuple[str, str]] = {
    TamperCause.COVER_OPEN_POWER_ON: (
        "tutup terminal dibuka (listrik hidup)",
        "cover opened, power on",
    ),
    TamperCause.COVER_OPEN_POWER_OFF: (
        "tutup terminal dibuka (listrik mati)",
        "cover opened, power off",
    ),
    TamperCause.REVERSE_CURRENT: ("arus terbalik", "reverse current"),
    TamperCause.BYPASS: ("bypass", "bypass"),
    TamperCause.REVERSE_AND_BYPASS: ("arus terbalik dan bypass", "reverse current and bypass"),
    TamperCause.EARTH_LEAKAGE_HIGH_MAINS: (
        "arus bocor ke tanah (tegangan >200 V)",
        "earth leakage, mains >200 V",
    ),
    TamperCause.EARTH_LEAKAGE_LOW_MAINS: (
        "arus bocor ke tanah (tegangan <200 V)",
        "earth leakage, mains <200 V",
    ),
    TamperCause.MAGNET: ("medan magnet", "magnet"),
}


@dataclass(frozen=True)
class TokenRecord:
    """An accepted token as the meter remembers it for service codes 54 and 59."""

    digits: str
    kind: str
    tid: int | None
    kwh: Decimal | None
    entered_at: datetime


@dataclass(frozen=True)
class LastEntry:
    """The outcome of the newest token keyed in, accepted or not (service code 56).

    Every rejection reads "GAGAL" on the LCD; a field technician needs the reason (CRC, used,
    old, manufacturer code, lockout ...), so the meter keeps the last one in non-volatile memory.
    """

    at: datetime
    kind: str
    reason: str | None
    token_type: str | None


@dataclass(frozen=True)
class Event:
    """One line of the meter's event log (read by the support diagnosis)."""

    at: datetime
    kind: str
    detail: str


@dataclass
class MeterState:
    """Everything the meter keeps across power cycles; the state file is this, serialised.

    ``meter_time`` is the meter's own notion of now: it never runs backwards, so a simulation
    that ran ahead of the wall clock is not undone by the next real-time command.
    """

    meter_number: str
    key: DecoderKey
    params: KeyParameters
    settings: MeterSettings
    manufactured_at: datetime
    meter_time: datetime
    tid_memory: list[int]
    credit_kwh: Decimal = Decimal(0)
    cumulative_kwh: Decimal = Decimal(0)
    relay: RelayState = RelayState.OPEN_NO_CREDIT
    trip_until: datetime | None = None
    load_watts: int = 0
    power_limit_watts: int | None = None
    phase_unbalance_limit_watts: int | None = None
    tamper: TamperCause | None = None
    tamper_at: datetime | None = None
    alarm_threshold_kwh: Decimal = Decimal(5)
    alarm_silenced: bool = False
    muted_until: datetime | None = None
    wrong_entries: int = 0
    locked_until: datetime | None = None
    kct_sections: dict[int, str] = field(default_factory=dict)
    kct_started_at: datetime | None = None
    last_tokens: list[TokenRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    last_entry: LastEntry | None = None

    @property
    def pan(self) -> str:
        """The 18-digit meter PAN (IIN + meter number + check digit) the decoder key belongs to."""
        return meter_pan.from_meter_number(self.meter_number)

    def log(self, at: datetime, kind: str, detail: str) -> None:
        """Append to the event log, keeping only the newest ``event_log_size`` entries."""
        self.events.append(Event(at, kind, detail))
        overflow = len(self.events) - self.settings.event_log_size
        if overflow > 0:
            del self.events[:overflow]

    def remember_token(self, record: TokenRecord) -> None:
        """Keep the newest accepted tokens for service codes 54/59."""
        self.last_tokens.append(record)
        overflow = len(self.last_tokens) - self.settings.last_tokens_size
        if overflow > 0:
            del self.last_tokens[:overflow]

    def __repr__(self) -> str:  # the dataclass repr would include the key object; keep it short
        return (
            f"MeterState(meter_number={self.meter_number!r}, credit_kwh={self.credit_kwh}, "
            f"relay={self.relay.value}, tamper={self.tamper})"
        )
