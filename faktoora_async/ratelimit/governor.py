"""The client-wide rate governor: the async face over the token bucket, rate clock and policy.

Every attempt of a client goes through it (the transport is its only caller)::

    sent_at = await limiter.acquire()          # wait for a slot
    try:
        ...send...                             # then exactly one of:
        limiter.on_response(status, headers, sent_at, retry_after)
        limiter.on_transport_error(sent_at)    # (no response came)
    finally:
        limiter.release()

It does no I/O besides ``anyio.sleep`` and is shared by every task of one client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import anyio

from .bucket import TokenBucket
from .clock import RateClock
from .headers import RateLimitInfo, parse_rate_headers
from .policy import AdjustmentPolicy, PolicyConfig

__all__ = ["AdaptiveRateLimiter", "RateLimiterStats"]

#: Seconds of the allowed rate that may be spent at once after an idle spell (the client bucket's size).
BURST_SECONDS = 0.1
#: Span of the measured send rate (seconds).
WINDOW = 1.0


@dataclass(frozen=True)
class RateLimiterStats:
    """Counters of one governor: its rate now, slots handed out, 429s seen, rate decreases, pause end."""

    rate: float | None
    acquired: int
    throttles: int
    decreases: int
    paused_until: float


class AdaptiveRateLimiter:
    """Adaptive client-side rate limit (slow start, decrease to the accepted rate, stepwise increase).

    ``max_rate`` caps the rate (and, given alone, fixes it).  The other keywords tune the policy (see
    :mod:`faktoora_async.ratelimit.policy`); ``clock`` is the monotonic clock (a fake one in tests).
    """

    def __init__(
        self,
        max_rate: float | None = None,
        *,
        initial_rate: float = PolicyConfig.initial_rate,
        slow_start_period: float = PolicyConfig.slow_start_period,
        min_rate: float = PolicyConfig.min_rate,
        beta: float = PolicyConfig.beta,
        first_beta: float = PolicyConfig.first_beta,
        hold_seconds: float = PolicyConfig.hold_seconds,
        step_up: float = PolicyConfig.step_up,
        gap: float = PolicyConfig.gap,
        plateau_seconds: float = PolicyConfig.plateau_seconds,
        probe: float = PolicyConfig.probe,
        bucket_guess: float = PolicyConfig.bucket_guess,
        burst_seconds: float = BURST_SECONDS,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        config = PolicyConfig(
            max_rate=max_rate,
            initial_rate=initial_rate,
            slow_start_period=slow_start_period,
            min_rate=min_rate,
            beta=beta,
            first_beta=first_beta,
            hold_seconds=hold_seconds,
            step_up=step_up,
            gap=gap,
            plateau_seconds=plateau_seconds,
            probe=probe,
            bucket_guess=bucket_guess,
        )
        self.max_rate = max_rate
        self.burst_seconds = burst_seconds
        self._clock = clock
        now = clock()
        self.rate_clock = RateClock(window)
        self.policy = AdjustmentPolicy(config, self.rate_clock, now)
        self.bucket = TokenBucket(self.policy.rate, self._capacity(self.policy.rate), now=now, tokens=1.0)
        self._in_flight = 0
        self._throttles = 0
        self.last_headers: RateLimitInfo | None = None

    def _capacity(self, rate: float) -> float:
        return max(1.0, rate * self.burst_seconds)

    # ------------------------------------------------------------------ state

    @property
    def rate(self) -> float | None:
        """The current allowed rate in requests/second."""
        return self.policy.rate

    def stats(self) -> RateLimiterStats:
        return RateLimiterStats(
            self.policy.rate,
            self.rate_clock.sent.total,
            self._throttles,
            self.policy.decreases,
            self.policy.pause_until,
        )

    def _sync_bucket(self, now: float) -> None:
        rate = self.policy.rate
        if rate != self.bucket.rate:
            self.bucket.set_rate(rate, now, self._capacity(rate))

    # ------------------------------------------------------------------ slots

    def try_acquire(self, *, alone: bool = False) -> float:
        """Take a slot and return 0.0, or return the seconds to wait before trying again."""
        now = self._clock()
        pause = self.policy.pause_until
        if now < pause:
            return pause - now
        self._sync_bucket(now)
        delay = self.bucket.take(now)
        if delay > 0 and alone and self.policy.slow_start:
            # one sequential caller is no flood: it is not paced while nothing is known
            self.bucket.force_take(now)
            self.bucket.drain(now, 0.0)
            delay = 0.0
        if delay <= 0:
            self.rate_clock.on_send(now)
        return delay

    async def acquire(self) -> float:
        """Wait for a slot; returns the monotonic time at which the request may be sent.

        Pair every acquire with :meth:`release` once the response (or failure) is in.
        """
        self._in_flight += 1  # waiting or sending, until release()
        try:
            while True:
                delay = self.try_acquire(alone=self._in_flight == 1)
                if delay <= 0:
                    return self._clock()
                await anyio.sleep(delay)
        except BaseException:
            self._in_flight -= 1
            raise

    def release(self) -> None:
        """The request of an :meth:`acquire` is finished."""
        self._in_flight = max(0, self._in_flight - 1)

    # ------------------------------------------------------------------ outcomes

    def on_response(
        self,
        status: int,
        headers: Mapping[str, str],
        sent_at: float,
        retry_after: float | None = None,
    ) -> None:
        """Every HTTP response: 429 throttles; other 4xx say nothing about the rate; the rest is success.

        ``RateLimit-*`` / ``X-RateLimit-*`` headers, when present, are remembered in ``last_headers``.
        """
        info = parse_rate_headers(headers, time.time()) if headers else None
        if info is not None:
            self.last_headers = info
        if status == 429:
            self._throttle(retry_after if retry_after is not None else 1.0, sent_at)
        elif status < 400 or status >= 500:
            self._accept(sent_at)

    def on_transport_error(self, sent_at: float) -> None:
        """No response came (reset, timeout): nothing is learned about the rate."""

    def _accept(self, sent_at: float) -> None:
        now = self._clock()
        self.rate_clock.on_accept(sent_at)
        self.policy.on_accept(now)

    def _throttle(self, retry_after: float | None, sent_at: float | None) -> None:
        now = self._clock()
        self._throttles += 1
        if sent_at is not None:
            self.rate_clock.on_throttle(sent_at)
        self.policy.on_throttle(now, retry_after, sent_at)
        if retry_after is not None and retry_after > 0:
            self.bucket.drain(now, 1.0)

    # ------------------------------------------------------------------ the transport of today

    def on_success(self) -> None:
        """Thin wrapper kept for today's transport: a response that was not a 429."""
        now = self._clock()
        self._accept(now)

    def on_throttle(self, retry_after: float | None = None, *, sent_at: float | None = None) -> None:
        """Thin wrapper kept for today's transport: a 429 (``retry_after`` seconds, ``sent_at``)."""
        self._throttle(retry_after, sent_at)
