"""An in-process sliding-window rate limiter (one server process needs no Redis).

Used on log-in (per client address and per user name) and on token-related endpoints (per
channel or per user), so guessing passwords or hammering the vending path costs real time.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from prabayar.web.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events per ``seconds`` for one key."""

    count: int
    seconds: float


class RateLimiter:
    """Remembers recent event times per key; thread-safe; memory bounded by the windows."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hit(self, key: str, limit: Limit) -> None:
        """Count one event for ``key``; raise :class:`RateLimited` when over the limit."""
        now = self._clock()
        with self._lock:
            events = self._events.get(key)
            if events is None:
                if len(self._events) >= self._max_keys:
                    self._prune(now, limit.seconds)
                events = self._events.setdefault(key, deque())
            while events and events[0] <= now - limit.seconds:
                events.popleft()
            if len(events) >= limit.count:
                retry = max(1, math.ceil(events[0] + limit.seconds - now))
                raise RateLimited(retry_after=retry)
            events.append(now)

    def reset(self, key: str) -> None:
        """Forget a key (after a successful log-in, failures no longer count)."""
        with self._lock:
            self._events.pop(key, None)

    def _prune(self, now: float, window: float) -> None:
        stale = [k for k, ev in self._events.items() if not ev or ev[-1] <= now - window]
        for k in stale:
            del self._events[k]
