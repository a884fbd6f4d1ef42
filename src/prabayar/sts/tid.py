"""Token identifier (TID): minutes since the key's base date, 24 bits (SPEC 4.3).

Time always comes in as an argument (the engine has no clock). A time past the last minute
the 24 bits can count is reported as ``TidRolloverError``, never wrapped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Final

from prabayar.sts.errors import StsError, TidRolloverError

TID_MAX: Final = 0xFFFFFF


class BaseDate(Enum):
    """The STS base dates; the value is the two-digit code used in DKGA04."""

    Y1993 = "93"
    Y2014 = "14"
    Y2035 = "35"

    @property
    def code(self) -> str:
        """Two-digit code ("93", "14", "35")."""
        return self.value

    @property
    def start(self) -> datetime:
        """Midnight UTC on 1 January of the base year."""
        return _STARTS[self]

    @property
    def last_minute(self) -> datetime:
        """The last minute a TID can count from this base date."""
        return self.start + timedelta(minutes=TID_MAX)

    @classmethod
    def from_code(cls, code: str | int) -> BaseDate:
        """Accept "93", "1993", 1993, "1993-01-01"."""
        text = str(code).strip()[:4]
        for member in cls:
            if text in (member.value, str(member.start.year)):
                return member
        raise StsError(f"unknown base date {code!r}; STS uses 1993, 2014 or 2035")

    @property
    def successor(self) -> BaseDate | None:
        """The base date a TID rollover key change moves to."""
        order = list(BaseDate)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


_STARTS: Final = {
    BaseDate.Y1993: datetime(1993, 1, 1, tzinfo=UTC),
    BaseDate.Y2014: datetime(2014, 1, 1, tzinfo=UTC),
    BaseDate.Y2035: datetime(2035, 1, 1, tzinfo=UTC),
}


def tid_from_datetime(when: datetime, base_date: BaseDate) -> int:
    """Whole minutes from the base date to ``when`` (an aware datetime)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise StsError("the issue time must be timezone-aware (TIDs count UTC minutes)")
    seconds = (when - base_date.start).total_seconds()
    if seconds < 0:
        raise StsError(f"{when.isoformat()} is before the base date {base_date.start.date()}")
    minutes = int(seconds // 60)
    if minutes > TID_MAX:
        nxt = base_date.successor
        hint = f"; move the key to base date {nxt.start.year} (TID rollover key change)" if nxt else ""
        raise TidRolloverError(
            f"{when.isoformat()} is past the last TID of base date {base_date.start.year} "
            f"({base_date.last_minute.isoformat()}){hint}"
        )
    return minutes


def datetime_from_tid(tid: int, base_date: BaseDate) -> datetime:
    """The UTC minute a TID stands for."""
    if not 0 <= tid <= TID_MAX:
        raise StsError(f"a TID has 24 bits, got {tid}")
    return base_date.start + timedelta(minutes=tid)
