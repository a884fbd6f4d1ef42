"""Wake-ups for the live chat's streams across server processes.

The messages themselves are rows in the database (``prabayar.support.chat_service``); the bus
only says "look again". With ``PRABAYAR_REDIS_URL`` a write publishes on Redis channel
``<prefix>:chat:<id>`` (and ``<prefix>:chat:queue``) and every process's open streams on that
topic wake up at once. Without Redis (embedded SQLite, one machine) each stream polls the table
every ``interval`` seconds; a publish inside the same process still wakes its streams at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable
from typing import Any, Protocol

log = logging.getLogger(__name__)


class ChatBus(Protocol):
    def publish(self, topic: str) -> None: ...

    async def wait(self, topics: Iterable[str], timeout: float) -> None: ...

    def close(self) -> None: ...


class _LocalWakeups:
    """In-process wake-ups: streams of this process waiting on a topic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def wake(self, topic: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(topic, ()))
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nothing to wake
                loop.call_soon_threadsafe(event.set)

    async def wait(self, topics: Iterable[str], timeout: float) -> None:
        entry = (asyncio.get_running_loop(), asyncio.Event())
        names = list(topics)
        with self._lock:
            for t in names:
                self._waiters.setdefault(t, set()).add(entry)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(entry[1].wait(), timeout)
        finally:
            with self._lock:
                for t in names:
                    self._waiters.get(t, set()).discard(entry)


class PollingBus:
    """No Redis: wake streams of this process at once, others find new rows by polling."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._local = _LocalWakeups()

    def publish(self, topic: str) -> None:
        self._local.wake(topic)

    async def wait(self, topics: Iterable[str], timeout: float) -> None:
        await self._local.wait(topics, min(timeout, self.interval))

    def close(self) -> None:
        return None


class RedisBus:
    """Redis pub/sub: a publish in any process wakes the streams of every process."""

    def __init__(self, url: str, prefix: str = "prabayar") -> None:
        import redis

        self.url = url
        self.prefix = prefix
        self._redis = redis.Redis.from_url(url)
        self._local = _LocalWakeups()

    def _channel(self, topic: str) -> str:
        return f"{self.prefix}:{topic}"

    def publish(self, topic: str) -> None:
        self._local.wake(topic)
        try:
            self._redis.publish(self._channel(topic), b"1")
        except Exception as exc:  # the row is written; other processes see it on their next poll
            log.warning("chat bus publish failed: %s", type(exc).__name__)

    async def wait(self, topics: Iterable[str], timeout: float) -> None:
        import redis.asyncio as aioredis

        names = list(topics)
        client: Any = aioredis.Redis.from_url(self.url)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(*[self._channel(t) for t in names])
            local = asyncio.ensure_future(self._local.wait(names, timeout))
            remote = asyncio.ensure_future(self._next(pubsub, timeout))
            _, pending = await asyncio.wait({local, remote}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
        except Exception as exc:  # Redis down: behave like polling
            log.warning("chat bus wait failed: %s", type(exc).__name__)
            await asyncio.sleep(min(timeout, 1.0))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    @staticmethod
    async def _next(pubsub: Any, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            message = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=max(0.05, deadline - loop.time())
            )
            if message is not None:
                return

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._redis.close()


def open_bus(redis_url: str | None, prefix: str = "prabayar") -> ChatBus:
    return RedisBus(redis_url, prefix) if redis_url else PollingBus()
