"""Reading what the customer gives us: the typed digits and what the meter displayed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from prabayar.digits import is_digits
from prabayar.sts import meter_number

_SEPARATORS = re.compile(r"[\s\-./]+")


class DisplayHint(StrEnum):
    """What the meter's LCD said, normalised over brands (PLN.md 3.2)."""

    ACCEPTED = "accepted"  # BENAR, ACCEPT
    REJECTED = "rejected"  # SALAH, REJECT, GAGAL
    USED = "used"
    OLD = "old"
    OVER = "over"
    PERIKSA = "periksa"  # tamper / installation fault
    COVER_OPEN = "cover_open"  # rUSAk
    BLANK = "blank"  # nothing on the display: the meter is dead
    BLOCKED = "blocked"
    KEY_EXPIRED = "key_expired"
    LOCKED = "locked"  # Loc Out after wrong entries
    UNKNOWN = "unknown"


#: Words and phrases per hint, matched as whole words (so "TOKEN" is not "OK", "BLOCKED" is
#: not "LOCKED"); the first hint with a match wins, so a lockout or tamper shown beside
#: "GAGAL" is what counts.
_HINTS: tuple[tuple[DisplayHint, tuple[str, ...]], ...] = (
    (DisplayHint.PERIKSA, ("PERIKSA", "TAMPER", "CHECK")),
    (DisplayHint.COVER_OPEN, ("RUSAK",)),
    (DisplayHint.BLANK, ("BLANK", "KOSONG", "MATI", "TIDAK MENYALA", "NO DISPLAY", "DEAD")),
    (DisplayHint.BLOCKED, ("BLOCK", "BLOCKED", "BLOKIR", "DIBLOKIR", "TERBLOKIR")),
    (DisplayHint.KEY_EXPIRED, ("KEY EXP", "KEYEXP", "KEY EXPIRED", "KEDALUWARSA", "DDTK", "DEFAULT KEY")),
    (DisplayHint.LOCKED, ("LOC", "LOCK", "LOCKED", "LOCKOUT", "TERKUNCI")),
    (DisplayHint.USED, ("USED", "SUDAH DIPAKAI", "TERPAKAI")),
    (DisplayHint.OLD, ("OLD", "LAMA")),
    (DisplayHint.OVER, ("OVER", "OVERFLOW", "PENUH")),
    (DisplayHint.REJECTED, ("SALAH", "REJECT", "REJECTED", "GAGAL", "ERROR", "ERR", "FAIL", "FAILED", "CRC")),
    (DisplayHint.ACCEPTED, ("BENAR", "ACCEPT", "ACCEPTED", "OK", "BERHASIL")),
)
_WORDS = re.compile(r"[A-Z0-9]+")
_SUPPLY_OFF = ("LISTRIK MATI", "LISTRIKNYA MATI", "LAMPU MATI", "POWER OFF")


def read_display(text: str | None) -> DisplayHint | None:
    """The hint behind free text such as "GAGAL", "rUSAk" or "Reject 2"; None if nothing given."""
    if text is None or not text.strip():
        return None
    words = f" {' '.join(_WORDS.findall(text.upper()))} "
    for supply in _SUPPLY_OFF:  # "listrik mati" is the supply (no credit, trip), not the LCD
        words = words.replace(f" {supply} ", " ")
    for hint, phrases in _HINTS:
        if any(f" {p} " in words for p in phrases):
            return hint
    return DisplayHint.UNKNOWN


@dataclass(frozen=True)
class TypedEntry:
    """The customer's digits with separators removed; ``digits`` is None if letters were typed."""

    raw: str
    digits: str | None

    @property
    def length(self) -> int:
        return len(self.digits or "")


def read_entry(text: str) -> TypedEntry:
    """Strip the spaces, hyphens and dots receipts and chat messages put between groups."""
    compact = _SEPARATORS.sub("", text.strip())
    return TypedEntry(raw=text, digits=compact if is_digits(compact) else None)


class NumberKind(StrEnum):
    """What a digit string that is not a token most likely is."""

    METER_NUMBER = "meter_number"
    IDPEL = "idpel"
    PHONE = "phone"
    OTHER = "other"


def identify_non_token(digits: str) -> NumberKind:
    """A customer sometimes keys in the wrong number from the receipt or the SMS."""
    if len(digits) in (11, 13) and meter_number.is_valid(digits):
        return NumberKind.METER_NUMBER
    if len(digits) == 12 and not digits.startswith("08"):
        return NumberKind.IDPEL
    if digits.startswith(("08", "628")) and 10 <= len(digits) <= 14:
        return NumberKind.PHONE
    return NumberKind.OTHER
