"""Wake-ups of the live chat's streams: Redis pub/sub across processes (two buses stand for two
server processes), in-process wake-ups without Redis, and polling as the floor."""

from __future__ import annotations

import asyncio
import time

from prabayar.web.chat_bus import PollingBus, RedisBus, open_bus

from .conftest import split_redis


def test_polling_bus_wakes_its_own_streams_at_once_and_polls_otherwise() -> None:
    bus = PollingBus(interval=0.5)

    async def scenario() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        waiter = asyncio.ensure_future(bus.wait(["chat:1"], 10.0))
        await asyncio.sleep(0.05)
        bus.publish("chat:1")
        await waiter
        woken = loop.time() - start
        start = loop.time()
        await bus.wait(["chat:2"], 10.0)  # nobody publishes: the poll interval bounds the wait
        return woken, loop.time() - start

    woken, polled = asyncio.run(scenario())
    assert woken < 0.4 and 0.4 <= polled < 2.0
    assert isinstance(open_bus(None), PollingBus)


def test_redis_bus_wakes_a_stream_of_another_process(redis_url: str) -> None:
    url, prefix = split_redis(redis_url)
    writer, reader = RedisBus(url, prefix), RedisBus(url, prefix)  # two server processes

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        waiter = asyncio.ensure_future(reader.wait(["chat:7"], 10.0))
        await asyncio.sleep(0.3)  # subscribed
        start = loop.time()
        await loop.run_in_executor(None, writer.publish, "chat:7")
        await waiter
        return loop.time() - start

    try:
        elapsed = asyncio.run(scenario())
    finally:
        writer.close()
        reader.close()
    assert elapsed < 2.0


def test_redis_bus_without_redis_falls_back_to_polling() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0", "nowhere")
    bus.publish("chat:1")  # logged, not raised: the row is written anyway
    start = time.monotonic()
    asyncio.run(bus.wait(["chat:1"], 0.5))
    assert time.monotonic() - start < 3.0
