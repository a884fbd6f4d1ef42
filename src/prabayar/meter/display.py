"""The result of every key-in, and the texts the LCD shows: Indonesian first, English beside.

Faces (web page, terminal meter, CLI) and the support diagnosis read ``MeterResult`` instead of
parsing display strings: ``kind`` says what happened, ``reason`` narrows a rejection down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

WIB = timezone(timedelta(hours=7), "WIB")


class ResultKind(StrEnum):
    """What a key-in did. Values are stable: they go into JSON and the event log."""

    ACCEPT = "accept"
    KCT_PARTIAL = "kct_partial"
    KEY_CHANGED = "key_changed"  # the last section of a key change set: the new key is in use
    TEST_DISPLAY = "test_display"
    REJECT = "reject"
    USED = "used"
    OLD = "old"
    OVER = "over"
    KEY_EXPIRED = "key_expired"
    TAMPER = "tamper"
    FUNCTION_ERROR = "function_error"
    RANGE_ERROR = "range_error"
    KEY_TYPE_ERROR = "key_type_error"
    DDTK_ERROR = "ddtk_error"
    LOCKED = "locked"
    CODE = "code"
    UNKNOWN_CODE = "unknown_code"

    @property
    def accepted(self) -> bool:
        """Whether the token did what it asks (partial key change counts: it was taken)."""
        return self in (ResultKind.ACCEPT, ResultKind.KCT_PARTIAL, ResultKind.KEY_CHANGED, ResultKind.TEST_DISPLAY)

    @property
    def is_token_rejection(self) -> bool:
        return self in _REJECTIONS


_REJECTIONS = frozenset(
    {
        ResultKind.REJECT,
        ResultKind.USED,
        ResultKind.OLD,
        ResultKind.OVER,
        ResultKind.KEY_EXPIRED,
        ResultKind.TAMPER,
        ResultKind.FUNCTION_ERROR,
        ResultKind.RANGE_ERROR,
        ResultKind.KEY_TYPE_ERROR,
        ResultKind.DDTK_ERROR,
    }
)


@dataclass(frozen=True)
class MeterResult:
    """What one key-in (a token or a service code) did, and what the LCD shows.

    ``lines_id``/``lines_en``: the display, Indonesian and English. ``kwh_added``: credit added
    by this entry (None when nothing was added). ``credit_kwh``: the register afterwards.
    ``reason``: a short machine word for rejections ("format", "crc", "mfr_code", ...).
    """

    kind: ResultKind
    lines_id: tuple[str, ...]
    lines_en: tuple[str, ...]
    credit_kwh: Decimal
    kwh_added: Decimal | None = None
    reason: str | None = None
    token_type: str | None = None
    lockout_remaining: timedelta | None = None
    kct_sections: tuple[int, ...] = field(default_factory=tuple)

    @property
    def accepted(self) -> bool:
        return self.kind.accepted

    @property
    def text(self) -> str:
        """One line for logs and CLIs: "BENAR +20.0 kWh ... / ACCEPT +20.0 kWh ..."."""
        return f"{' '.join(self.lines_id)} / {' '.join(self.lines_en)}"


def kwh(value: Decimal) -> str:
    """Register display: two decimals, rounded down (the meter never shows more than it has)."""
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_DOWN)} kWh"


def kwh_token(value: Decimal) -> str:
    """A token amount as vended: 0.1 kWh resolution."""
    return f"{value.quantize(Decimal('0.1'))} kWh"


def seconds(delta: timedelta) -> int:
    """Whole seconds, rounded up so "0 s" is never shown while still locked."""
    whole = int(delta.total_seconds())
    return whole + (1 if delta.total_seconds() > whole else 0)


def wib(when: datetime) -> str:
    """A time as shown to a person in Indonesia (WIB, UTC+7)."""
    return when.astimezone(WIB).strftime("%d-%m-%Y %H:%M WIB")


def utc_iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


# Fixed display texts: (Indonesian lines, English lines). Dynamic parts are appended by callers.
TEXTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "reject": (("GAGAL", "Token salah"), ("REJECT", "Wrong token")),
    "used": (("USED", "Token sudah dipakai"), ("USED", "Token already used")),
    "old": (("OLD", "Token terlalu lama"), ("OLD", "Token older than the meter remembers")),
    "over": (("OVER", "Kredit melebihi kapasitas"), ("OVER", "Credit would exceed the register")),
    "key_expired": (
        ("KEY EXP", "Kunci kedaluwarsa, hubungi PLN 123"),
        ("KEY EXPIRED", "Meter key expired, call PLN 123"),
    ),
    "tamper": (
        ("PERIKSA", "Hubungi PLN 123"),
        ("CHECK", "Tamper latched: only clear tamper or clear credit accepted"),
    ),
    "function_error": (("GAGAL", "Fungsi tidak didukung"), ("REJECT", "Function not supported")),
    "range_error": (("GAGAL", "Nilai di luar jangkauan"), ("REJECT", "Value out of range")),
    "key_type_error": (("GAGAL", "Jenis kunci tidak sah"), ("REJECT", "Illegal key type")),
    "ddtk_error": (
        ("GAGAL", "Kunci bawaan: kredit ditolak"),
        ("REJECT", "Default key (DDTK): credit refused"),
    ),
}


def ordinal(section: int) -> str:
    """Key-change section names as meters show them ("1st KCT")."""
    return {1: "1st", 2: "2nd", 3: "3rd", 4: "4th"}[section]
