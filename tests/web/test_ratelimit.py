"""The in-process rate limiter: counts per key, refuses past the limit, forgets old events."""

from __future__ import annotations

import pytest

from prabayar.web.errors import RateLimited
from prabayar.web.ratelimit import Limit, RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_up_to_the_limit_then_refuses_with_retry_after() -> None:
    clock = FakeTime()
    limiter = RateLimiter(clock=clock)
    limit = Limit(3, 60)
    for _ in range(3):
        limiter.hit("k", limit)
    with pytest.raises(RateLimited) as caught:
        limiter.hit("k", limit)
    assert caught.value.status_code == 429
    assert caught.value.headers["Retry-After"] == "60"
    clock.now += 59.5
    with pytest.raises(RateLimited) as again:
        limiter.hit("k", limit)
    assert again.value.retry_after == 1


def test_window_slides_and_keys_are_independent() -> None:
    clock = FakeTime()
    limiter = RateLimiter(clock=clock)
    limit = Limit(2, 10)
    limiter.hit("a", limit)
    limiter.hit("a", limit)
    limiter.hit("b", limit)
    with pytest.raises(RateLimited):
        limiter.hit("a", limit)
    clock.now += 10
    limiter.hit("a", limit)


def test_reset_forgets_a_key() -> None:
    limiter = RateLimiter(clock=FakeTime())
    limit = Limit(1, 60)
    limiter.hit("user", limit)
    limiter.reset("user")
    limiter.hit("user", limit)
    with pytest.raises(RateLimited):
        limiter.hit("user", limit)


def test_memory_is_bounded_by_pruning_stale_keys() -> None:
    clock = FakeTime()
    limiter = RateLimiter(clock=clock, max_keys=3)
    limit = Limit(5, 10)
    for key in ("a", "b", "c"):
        limiter.hit(key, limit)
    clock.now += 11
    limiter.hit("d", limit)
    assert set(limiter._events) == {"d"}
