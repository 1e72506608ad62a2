"""The rate governor's parts, each alone, with a fake clock: pure logic, no sleeps, no server.

The end-to-end behaviour against a rate-limited sandbox is in ``test_client_ratelimit.py``.
"""

from __future__ import annotations

import math

import pytest

from faktoora_async.ratelimit import (
    AdaptiveRateLimiter,
    AdjustmentPolicy,
    EventLog,
    PolicyConfig,
    RateClock,
    RateLimitInfo,
    TokenBucket,
    parse_rate_headers,
)


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------------------------------------ token bucket


def test_bucket_starts_full_and_paces_at_its_rate() -> None:
    b = TokenBucket(10.0, capacity=3, now=0.0)
    assert [b.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take(0.0) == pytest.approx(0.1)
    assert b.take(0.05) == pytest.approx(0.05)
    assert b.take(0.1) == 0.0
    # idle for a long time: never more than the capacity
    assert b.level(100.0) == pytest.approx(3.0)


def test_bucket_rate_change_keeps_earned_tokens_and_caps_capacity() -> None:
    b = TokenBucket(10.0, capacity=5, now=0.0, tokens=0.0)
    b.set_rate(100.0, 0.2)  # 2 tokens earned at the old rate
    assert b.level(0.2) == pytest.approx(2.0)
    assert b.level(0.22) == pytest.approx(4.0)
    b.set_rate(100.0, 0.22, capacity=1.5)
    assert b.level(0.22) == pytest.approx(1.5)
    with pytest.raises(ValueError):
        b.set_rate(0.0, 1.0)
    with pytest.raises(ValueError):
        TokenBucket(-1.0, now=0.0)


def test_bucket_debt_is_paid_back_before_the_next_token() -> None:
    b = TokenBucket(10.0, capacity=2, now=0.0)
    b.drain(0.0, -1.0)  # the server's bucket is known to be one request in debt
    assert b.take(0.0) == pytest.approx(0.2)
    b.force_take(0.2)
    assert b.level(0.2) == pytest.approx(0.0)
    b.refund(0.2)
    assert b.take(0.2) == 0.0


def test_bucket_infinite_rate_never_waits() -> None:
    b = TokenBucket(math.inf, now=0.0)
    assert all(b.take(0.0) == 0.0 for _ in range(1000))


# ------------------------------------------------------------------------------------------ rate clock


def test_event_log_counts_exactly_and_keeps_order() -> None:
    log = EventLog()
    for t in (1.0, 1.5, 2.0, 2.0, 3.0):
        log.record(t)
    log.record(1.2)  # out of order (a late response of an early send)
    assert log.total == 6
    assert log.count_after(1.5) == 3
    assert log.count_between(1.0, 2.0) == 4
    assert log.last == 3.0


def test_event_log_forgets_old_history_but_not_the_total() -> None:
    log = EventLog()
    for i in range(10_000):
        log.record(i * 0.01)  # 100 s of events
    assert log.total == 10_000
    assert log.count_after(0.0) <= 3_001  # only the last ~30 s are kept
    assert log.count_after(95.0) == 499


def test_rate_clock_measures_send_and_accept_rates() -> None:
    clock = RateClock(window=1.0)
    assert clock.send_rate(0.0) is None
    for i in range(50):
        clock.on_send(i * 0.02)  # 50/s
        if i % 2 == 0:
            clock.on_accept(i * 0.02)
    assert clock.send_rate(0.99) == pytest.approx(50.0, rel=0.05)
    assert clock.send_rate(0.1) is None  # too short a span to say
    assert clock.accepted_rate(0.0, 1.0) == pytest.approx(24.0)
    assert clock.accepted_rate(0.0, 0.1) is None
    with pytest.raises(ValueError):
        RateClock(window=0)


# ------------------------------------------------------------------------------------------ headers


def test_no_rate_headers_is_none() -> None:
    assert parse_rate_headers({"Content-Type": "application/json", "Retry-After": "1"}, 0.0) is None


def test_ietf_separate_fields_with_policy() -> None:
    info = parse_rate_headers(
        {
            "RateLimit-Limit": "100",
            "RateLimit-Remaining": "42",
            "RateLimit-Reset": "3",
            "RateLimit-Policy": "100;w=10",
        },
        0.0,
    )
    assert info == RateLimitInfo(limit=100, remaining=42, reset=3, window=10)
    assert info is not None and info.rate == 10.0


def test_ietf_structured_fields() -> None:
    info = parse_rate_headers({"ratelimit": '"default";r=7;t=2', "ratelimit-policy": '"default";q=50;w=5'}, 0)
    assert info == RateLimitInfo(limit=50, remaining=7, reset=2, window=5)
    info = parse_rate_headers({"RateLimit": "limit=20, remaining=3, reset=1"}, 0.0)
    assert info == RateLimitInfo(limit=20, remaining=3, reset=1, window=None)
    assert info is not None and info.rate is None  # no window: no rate


def test_x_ratelimit_with_unix_reset_in_seconds_or_milliseconds() -> None:
    now = 1_800_000_000.0
    for reset in ("1800000005", "1800000005000"):
        info = parse_rate_headers(
            {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, now
        )
        assert info == RateLimitInfo(limit=5000, remaining=0, reset=pytest.approx(5.0), window=None)
    info = parse_rate_headers({"X-Ratelimit-Reset-After": "0.5", "X-RateLimit-Reset": "9"}, now)
    assert info is not None and info.reset == 0.5


def test_unreadable_rate_headers_are_ignored() -> None:
    assert parse_rate_headers({"RateLimit-Limit": "lots", "X-RateLimit-Remaining": "n/a"}, 0.0) is None
    info = parse_rate_headers({"RateLimit-Limit": "bad", "RateLimit-Remaining": "4"}, 0.0)
    assert info == RateLimitInfo(remaining=4)


# ------------------------------------------------------------------------------------------ policy


def _policy(**kw: float) -> tuple[AdjustmentPolicy, RateClock]:
    clock = RateClock()
    return AdjustmentPolicy(PolicyConfig(**kw), clock, 0.0), clock  # type: ignore[arg-type]


def test_policy_slow_start_grows_only_while_the_rate_is_used() -> None:
    policy, clock = _policy(initial_rate=10)
    t = 0.0
    rates = []
    for _ in range(20):  # idle: 2.5 requests/s, far below the rate
        t += 0.4
        clock.on_send(t)
        policy.on_accept(t)
        rates.append(policy.rate)
    assert len(set(rates[5:])) == 1  # once measurable, an unused rate does not grow
    idle = policy.rate
    for _ in range(1000):  # used: 2,000 requests/s for 0.5 s
        t += 0.0005
        clock.on_send(t)
        policy.on_accept(t)
    assert policy.rate > 2 * idle


def test_policy_first_throttle_guesses_from_the_accepted_rate_and_echoes_change_nothing() -> None:
    policy, clock = _policy(initial_rate=10)
    t = 0.0
    for _ in range(200):  # 400 accepted per second for 0.5 s
        t += 0.0025
        clock.on_send(t)
        policy.on_accept(t)
    assert policy.on_throttle(t, 1.0, sent_at=t)
    first = policy.rate
    assert first <= 0.9 * 400 + 1e-6
    assert policy.pause_until == pytest.approx(t + 1.0)
    assert not policy.on_throttle(t + 0.01, 1.0, sent_at=t - 0.01)  # an echo
    assert policy.rate == first and policy.decreases == 1


def test_policy_climbs_after_holding_and_respects_max_rate() -> None:
    policy, _ = _policy(max_rate=10)
    assert policy.rate == 10 and not policy.slow_start
    policy.on_throttle(1.0, None, sent_at=1.0)
    assert policy.rate < 10
    rates = []
    for i in range(120):
        policy.on_accept(2.0 + i)
        rates.append(policy.rate)
    assert rates == sorted(rates) and rates[-1] == 10


def test_policy_rejects_bad_options() -> None:
    with pytest.raises(ValueError):
        PolicyConfig(max_rate=0)
    with pytest.raises(ValueError):
        PolicyConfig(beta=1.5)


# ------------------------------------------------------------------------------------------ governor


def test_governor_contract_other_4xx_say_nothing() -> None:
    clock = FakeClock()
    lim = AdaptiveRateLimiter(max_rate=10, clock=clock)
    assert lim.try_acquire() == 0.0
    before = (lim.rate_clock.accepted.total, lim.policy.decreases, lim.rate)
    for status in (400, 401, 404, 409, 413, 422):
        lim.on_response(status, {}, clock.now)
    assert (lim.rate_clock.accepted.total, lim.policy.decreases, lim.rate) == before
    lim.on_response(503, {}, clock.now)
    lim.on_response(200, {}, clock.now)
    assert lim.rate_clock.accepted.total == 2
    lim.on_response(429, {"Retry-After": "2"}, clock.now, 2.0)
    assert lim.stats().throttles == 1 and lim.stats().decreases == 1
    assert lim.try_acquire() == pytest.approx(2.0)
    lim.on_transport_error(clock.now)  # says nothing either
    assert lim.stats().throttles == 1


def test_governor_remembers_rate_headers() -> None:
    clock = FakeClock()
    lim = AdaptiveRateLimiter(clock=clock)
    lim.on_response(200, {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "59"}, clock.now)
    assert lim.last_headers == RateLimitInfo(limit=60, remaining=59)


def test_governor_paces_concurrent_callers_but_not_a_lone_one_in_slow_start() -> None:
    clock = FakeClock()
    lim = AdaptiveRateLimiter(initial_rate=10, burst_seconds=0.0, clock=clock)
    assert lim.try_acquire() == 0.0
    assert lim.try_acquire() > 0  # a second concurrent caller waits
    assert lim.try_acquire(alone=True) == 0.0  # a lone sequential caller does not
