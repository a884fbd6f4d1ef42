"""The TID memory store: replay protection (SPEC section 10 step 5 and 7)."""

from __future__ import annotations

from collections.abc import Sequence


def manufacture_fill(manufacture_tid: int, size: int) -> list[int]:
    """A fresh meter's memory: every slot holds the manufacture time, so older tokens are "Old"."""
    return [manufacture_tid] * size


def is_old(memory: Sequence[int], tid: int, size: int) -> bool:
    """Older than everything a *full* memory remembers: the meter can no longer tell whether
    it was used. A memory emptied by a TID rollover key change has forgotten nothing yet, so
    until it fills again no token is "Old" (a token bought with the KCTs may be keyed in after
    a later one)."""
    return len(memory) >= size and tid < min(memory)


def is_used(memory: Sequence[int], tid: int) -> bool:
    """This TID was already accepted."""
    return tid in memory


def remember(memory: list[int], tid: int, size: int) -> None:
    """Store an accepted TID; when full, the oldest (smallest) entry makes room."""
    memory.append(tid)
    memory.sort()
    while len(memory) > size:
        memory.pop(0)
