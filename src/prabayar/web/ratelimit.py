"""Rate limits and log-in throttling on the ``limits`` library, shared by every server process.

With ``PRABAYAR_REDIS_URL`` set the counters live in Redis (``limits``' Redis storage), so N
server processes (``prabayar serve --workers N``) or hosts share one budget per key; without it
they live in this process's memory, which is right for one process only.

Two tools:

- :class:`RateLimiter` - a moving window (``Limit(count, seconds)``) per key: at most ``count``
  events in any ``seconds``; ``count == 0`` means unlimited (a channel row may say so).
- :class:`LoginThrottle` - failed log-ins only (a success never counts), per (user name, client
  address) and per client address, with delays that double after a few free failures. A
  stranger failing for ``budi`` from another address locks only their own (name, address) pair
  and address, never ``budi`` at home.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from prabayar.web.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events per ``seconds`` for one key; ``count == 0`` is unlimited."""

    count: int
    seconds: int

    def item(self) -> RateLimitItemPerSecond:
        return RateLimitItemPerSecond(self.count, max(1, int(self.seconds)))


def open_storage(redis_url: str | None, *, key_prefix: str = "prabayar") -> Storage:
    """``limits`` storage: Redis when a URL is given, else this process's memory."""
    if redis_url:
        return RedisStorage(redis_url, key_prefix=f"{key_prefix}:limits")
    return MemoryStorage()


class RateLimiter:
    """Moving-window limits per key on a ``limits`` storage (thread-safe, process-shared on Redis)."""

    def __init__(self, storage: Storage | None = None) -> None:
        self.storage = storage if storage is not None else MemoryStorage()
        self._strategy = MovingWindowRateLimiter(self.storage)

    def hit(self, key: str, limit: Limit) -> None:
        """Count one event for ``key``; raise :class:`RateLimited` when over the limit."""
        if limit.count <= 0:
            return
        item = limit.item()
        if not self._strategy.hit(item, key):
            raise RateLimited(retry_after=self._retry_after(item, key))

    def check(self, key: str, limit: Limit) -> None:
        """Raise :class:`RateLimited` if ``key`` is at its limit, without counting an event."""
        if limit.count <= 0:
            return
        item = limit.item()
        if not self._strategy.test(item, key):
            raise RateLimited(retry_after=self._retry_after(item, key))

    def reset(self, key: str, limit: Limit) -> None:
        """Forget ``key``'s events under ``limit``."""
        self._strategy.clear(limit.item(), key)

    def _retry_after(self, item: RateLimitItemPerSecond, key: str) -> int:
        stats = self._strategy.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))


class AsyncRateLimiter:
    """The same moving-window limits for code on the event loop (the purchase lane).

    On Redis it uses ``limits``' asyncio storage with the same key prefix as the blocking
    :class:`RateLimiter`, so both count into one budget per key; in memory it calls the
    process's blocking limiter directly (no I/O, nothing to wait for).
    """

    def __init__(self, blocking: RateLimiter, redis_url: str | None, *, key_prefix: str = "prabayar") -> None:
        self.blocking = blocking
        self._strategy: Any = None
        if redis_url:
            from limits.aio.storage import RedisStorage as AsyncRedisStorage
            from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindow

            url = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            storage = AsyncRedisStorage(url, implementation="redispy", key_prefix=f"{key_prefix}:limits")
            self._strategy = AsyncMovingWindow(storage)

    async def hit(self, key: str, limit: Limit) -> None:
        if limit.count <= 0:
            return
        if self._strategy is None:
            self.blocking.hit(key, limit)
            return
        item = limit.item()
        if not await self._strategy.hit(item, key):
            raise RateLimited(retry_after=await self._retry_after(item, key))

    async def check(self, key: str, limit: Limit) -> None:
        if limit.count <= 0:
            return
        if self._strategy is None:
            self.blocking.check(key, limit)
            return
        item = limit.item()
        if not await self._strategy.test(item, key):
            raise RateLimited(retry_after=await self._retry_after(item, key))

    async def close(self) -> None:
        """Close the asyncio Redis connections (they belong to the loop that opened them)."""
        if self._strategy is None:
            return
        client = getattr(getattr(self._strategy.storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()

    async def _retry_after(self, item: RateLimitItemPerSecond, key: str) -> int:
        stats = await self._strategy.get_window_stats(item, key)
        return max(1, math.ceil(float(stats.reset_time) - time.time()))


@dataclass(frozen=True)
class LoginPolicy:
    """How failed log-ins are throttled (documented in docs/security.md).

    After ``free_per_user_client`` failures for one (user name, client address) within
    ``window_seconds``, each further failure locks that pair for ``base_delay`` seconds, doubling
    each time up to ``max_delay``; the same per client address after ``free_per_client``.
    """

    free_per_user_client: int = 3
    free_per_client: int = 20
    base_delay: int = 1
    max_delay: int = 900
    window_seconds: int = 900

    def delay_after(self, failures: int, free: int) -> int:
        """Seconds locked after the ``failures``-th failure (0 while still free)."""
        if failures <= free:
            return 0
        return int(min(self.max_delay, self.base_delay * 2 ** min(failures - free - 1, 30)))


class LoginThrottle:
    """Growing delays after failed log-ins; keyed per (name, address) and per address."""

    def __init__(self, storage: Storage | None = None, policy: LoginPolicy | None = None) -> None:
        self.storage = storage if storage is not None else MemoryStorage()
        self.policy = policy or LoginPolicy()

    @staticmethod
    def _keys(username: str, client: str) -> tuple[str, str]:
        return f"login-fail:user:{username.strip().lower()}|{client}", f"login-fail:client:{client}"

    def check(self, username: str, client: str) -> None:
        """Raise :class:`RateLimited` while the (name, address) pair or the address is locked."""
        retry = 0.0
        for key in self._keys(username, client):
            if self.storage.get(f"{key}:lock") > 0:
                retry = max(retry, self.storage.get_expiry(f"{key}:lock") - time.time())
        if retry > 0:
            raise RateLimited(retry_after=max(1, math.ceil(retry)))

    def failed(self, username: str, client: str) -> None:
        """Count one failure; lock the pair and/or the address for the growing delay."""
        policy = self.policy
        pair, address = self._keys(username, client)
        for key, free in ((pair, policy.free_per_user_client), (address, policy.free_per_client)):
            failures = self.storage.incr(key, policy.window_seconds)
            delay = policy.delay_after(failures, free)
            if delay > 0:
                self.storage.clear(f"{key}:lock")
                self.storage.incr(f"{key}:lock", delay)

    def succeeded(self, username: str, client: str) -> None:
        """A success clears the pair's failures (never the address's: one good account must not
        reset a guesser's budget for other names)."""
        pair, _ = self._keys(username, client)
        self.storage.clear(pair)
        self.storage.clear(f"{pair}:lock")
