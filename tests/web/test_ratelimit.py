"""Rate limits on the ``limits`` library: moving windows per key, 0 = unlimited, log-in throttling
with growing delays, and the same counters seen by two processes through Redis."""

from __future__ import annotations

import time

import pytest

from prabayar.web.deps import Limits, channel_purchase_limit
from prabayar.web.errors import RateLimited
from prabayar.web.ratelimit import Limit, LoginPolicy, LoginThrottle, RateLimiter, open_storage

from .conftest import split_redis


def test_allows_up_to_the_limit_then_refuses_with_retry_after() -> None:
    limiter = RateLimiter()
    limit = Limit(3, 60)
    for _ in range(3):
        limiter.hit("k", limit)
    with pytest.raises(RateLimited) as caught:
        limiter.hit("k", limit)
    assert caught.value.status_code == 429
    assert 59 <= int(caught.value.headers["Retry-After"]) <= 60


def test_window_slides_and_keys_are_independent() -> None:
    limiter = RateLimiter()
    limit = Limit(2, 1)
    limiter.hit("a", limit)
    limiter.hit("a", limit)
    limiter.hit("b", limit)
    with pytest.raises(RateLimited):
        limiter.hit("a", limit)
    time.sleep(1.05)
    limiter.hit("a", limit)


def test_check_does_not_count_and_reset_forgets() -> None:
    limiter = RateLimiter()
    limit = Limit(1, 60)
    for _ in range(5):
        limiter.check("user", limit)
    limiter.hit("user", limit)
    with pytest.raises(RateLimited):
        limiter.check("user", limit)
    limiter.reset("user", limit)
    limiter.hit("user", limit)


def test_zero_means_unlimited_and_a_channel_row_overrides_the_default() -> None:
    limiter = RateLimiter()
    for _ in range(1000):
        limiter.hit("channel:X", Limit(0, 60))
    default = Limits().channel_tokens
    assert channel_purchase_limit(None, default) == Limit(600, 60)
    assert channel_purchase_limit(1200, default) == Limit(1200, 60)
    assert channel_purchase_limit(0, default).count == 0


def test_login_delays_grow_after_the_free_failures() -> None:
    policy = LoginPolicy(free_per_user_client=3, free_per_client=20, base_delay=1, max_delay=900)
    assert [policy.delay_after(n, 3) for n in range(1, 10)] == [0, 0, 0, 1, 2, 4, 8, 16, 32]
    assert policy.delay_after(100, 3) == 900
    assert policy.delay_after(21, 20) == 1


def test_login_throttle_locks_the_pair_and_the_address_not_the_user_elsewhere() -> None:
    throttle = LoginThrottle(policy=LoginPolicy(free_per_user_client=2, free_per_client=5, base_delay=60))
    for _ in range(3):
        throttle.check("budi", "203.0.113.9")
        throttle.failed("budi", "203.0.113.9")
    with pytest.raises(RateLimited) as caught:
        throttle.check("budi", "203.0.113.9")
    assert 59 <= caught.value.retry_after <= 60
    throttle.check("budi", "198.51.100.7")  # budi at home is not locked out
    throttle.check("siti", "203.0.113.9")  # the stranger's address is not yet locked for others
    for name in ("a", "b", "c"):
        throttle.failed(name, "203.0.113.9")  # 6 failures from the address: over its 5 free ones
    with pytest.raises(RateLimited):
        throttle.check("siti", "203.0.113.9")
    throttle.check("budi", "198.51.100.7")


def test_a_success_clears_the_pair_only() -> None:
    throttle = LoginThrottle(policy=LoginPolicy(free_per_user_client=2, free_per_client=3, base_delay=60))
    throttle.failed("budi", "10.0.0.1")
    throttle.failed("budi", "10.0.0.1")
    throttle.succeeded("budi", "10.0.0.1")
    throttle.failed("budi", "10.0.0.1")
    throttle.failed("budi", "10.0.0.1")  # pair: 2 failures since the success, still free
    with pytest.raises(RateLimited):  # the address: 4 failures, over its 3 free ones
        throttle.check("budi", "10.0.0.1")


def test_redis_storage_is_shared_between_limiters(redis_url: str) -> None:
    url, prefix = split_redis(redis_url)
    one = RateLimiter(open_storage(url, key_prefix=prefix))
    two = RateLimiter(open_storage(url, key_prefix=prefix))  # as a second server process would
    limit = Limit(3, 60)
    one.hit("channel:BANKDEMO", limit)
    two.hit("channel:BANKDEMO", limit)
    one.hit("channel:BANKDEMO", limit)
    with pytest.raises(RateLimited):
        two.hit("channel:BANKDEMO", limit)
    throttle_one = LoginThrottle(open_storage(url, key_prefix=prefix), LoginPolicy(free_per_user_client=1))
    throttle_two = LoginThrottle(open_storage(url, key_prefix=prefix), LoginPolicy(free_per_user_client=1))
    throttle_one.failed("siti", "10.9.9.9")
    throttle_one.failed("siti", "10.9.9.9")
    with pytest.raises(RateLimited):
        throttle_two.check("siti", "10.9.9.9")
