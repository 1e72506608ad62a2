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

import math
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
#: While callers wait for the discovery in-flight cap, they look again at least this often (seconds):
#: the cap also grows with time, not only when a request finishes.
CAP_RECHECK = 0.05


@dataclass(frozen=True)
class RateLimiterStats:
    """A governor's counters: rate now, slots handed out, 429s, new 429s (sync points), pause end."""

    rate: float | None
    acquired: int
    throttles: int
    decreases: int
    paused_until: float


class AdaptiveRateLimiter:
    """Adaptive client-side rate limit shared by every task of one client (see :mod:`.policy`).

    ``max_rate`` caps the rate (and, given alone, fixes it: no discovery).  ``burst_seconds`` sizes the
    client's own bucket; the other keywords tune the policy (:class:`~.policy.PolicyConfig`).  ``clock``
    is the monotonic clock (a fake one in tests).
    """

    def __init__(
        self,
        max_rate: float | None = None,
        *,
        min_rate: float = PolicyConfig.min_rate,
        beta: float = PolicyConfig.beta,
        drift: float = PolicyConfig.drift,
        ramp: float = PolicyConfig.ramp,
        probe_ramp: float = PolicyConfig.probe_ramp,
        prior_burst_seconds: float = PolicyConfig.prior_burst_seconds,
        discovery_rate: float = PolicyConfig.discovery_rate,
        discovery_in_flight: int = PolicyConfig.discovery_in_flight,
        discovery_doubling: float = PolicyConfig.discovery_doubling,
        measure_span: float = PolicyConfig.measure_span,
        burst_seconds: float = BURST_SECONDS,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        config = PolicyConfig(
            max_rate=max_rate,
            min_rate=min(min_rate, max_rate) if max_rate else min_rate,
            beta=beta,
            drift=drift,
            ramp=ramp,
            probe_ramp=probe_ramp,
            prior_burst_seconds=prior_burst_seconds,
            discovery_rate=discovery_rate,
            discovery_in_flight=discovery_in_flight,
            discovery_doubling=discovery_doubling,
            measure_span=measure_span,
        )
        self.max_rate = max_rate
        self.burst_seconds = burst_seconds
        self._clock = clock
        now = clock()
        self.rate_clock = RateClock(window)
        self.policy = AdjustmentPolicy(config, self.rate_clock, now)
        rate = self.policy.rate_at(now)
        self.bucket = TokenBucket(rate, 1.0, now=now, tokens=1.0)
        self._callers = 0  # waiting or sending
        self._sending = 0  # acquired, not yet released
        self._freed: anyio.Event | None = None
        self._throttles = 0
        self.last_headers: RateLimitInfo | None = None

    def _capacity(self, rate: float) -> float:
        return 1.0 if math.isinf(rate) else max(1.0, rate * self.burst_seconds)

    # ------------------------------------------------------------------ state

    @property
    def rate(self) -> float | None:
        """The current allowed rate in requests/second (None while it is still being discovered)."""
        if self.policy.discovering:
            return None
        return self.policy.rate_at(self._clock())

    def stats(self) -> RateLimiterStats:
        return RateLimiterStats(
            self.rate,
            self.rate_clock.sent.total,
            self._throttles,
            self.policy.decreases,
            self.policy.pause_until,
        )

    def _sync_bucket(self, now: float) -> None:
        rate = self.policy.rate_at(now)
        if rate != self.bucket.rate:
            # while discovering, requests are spaced strictly (no burst of simultaneous sends that would
            # all meet the server's empty bucket at once)
            capacity = 1.0 if self.policy.discovering else self._capacity(rate)
            self.bucket.set_rate(rate, now, capacity)

    # ------------------------------------------------------------------ slots

    def try_acquire(self, *, alone: bool = False) -> float:
        """Take a slot and return 0.0, or the seconds to wait (``math.inf``: until a request finishes)."""
        now = self._clock()
        pause = self.policy.pause_until
        if now < pause:
            return pause - now
        cap = self.policy.in_flight_cap(now)
        if cap is not None and self._sending >= cap and not alone:
            self.policy.on_saturated(now)
            return math.inf
        self._sync_bucket(now)
        delay = self.bucket.take(now)
        if delay > 0 and self.policy.discovering:
            if alone:
                # one sequential caller is no flood: it is not paced while nothing is known
                self.bucket.force_take(now)
                delay = 0.0
            else:
                self.policy.on_saturated(now)
        if delay <= 0:
            self._sending += 1
            self.rate_clock.on_send(now)
        return delay

    async def acquire(self) -> float:
        """Wait for a slot; returns the monotonic time at which the request may be sent.

        Pair every acquire with :meth:`release` once the response (or failure) is in.
        """
        self._callers += 1
        try:
            while True:
                delay = self.try_acquire(alone=self._callers == 1)
                if delay <= 0:
                    return self._clock()
                if math.isinf(delay):
                    if self._freed is None:
                        self._freed = anyio.Event()
                    with anyio.move_on_after(CAP_RECHECK):
                        await self._freed.wait()
                else:
                    await anyio.sleep(delay)
        except BaseException:
            self._callers -= 1
            raise

    def release(self) -> None:
        """The request of an :meth:`acquire` is finished."""
        self._callers = max(0, self._callers - 1)
        self._sending = max(0, self._sending - 1)
        freed, self._freed = self._freed, None
        if freed is not None:
            freed.set()

    # ------------------------------------------------------------------ outcomes

    def on_response(
        self,
        status: int,
        headers: Mapping[str, str],
        sent_at: float,
        retry_after: float | None = None,
    ) -> None:
        """Every HTTP response: 429 throttles; other 4xx say nothing about the rate; the rest is success.

        ``RateLimit-*`` / ``X-RateLimit-*`` headers, when present, are the server's own word and win.
        """
        now = self._clock()
        info = parse_rate_headers(headers, time.time()) if headers else None
        if info is not None:
            self._rate_info(now, info)
        if status == 429:
            self._throttle(now, retry_after, sent_at)
        elif status < 400 or status >= 500:
            self.rate_clock.on_accept(sent_at)
            self.policy.on_accept(now, sent_at)

    def on_transport_error(self, sent_at: float) -> None:
        """No response came (reset, timeout): nothing is learned about the rate."""

    def _rate_info(self, now: float, info: RateLimitInfo) -> None:
        self.last_headers = info
        self.policy.on_rate_info(now, info.rate, info.remaining, info.reset)
        if info.remaining is not None:
            self._sync_bucket(now)
            # requests sent after this one may already be spending what remains
            self.bucket.drain(now, info.remaining - max(0, self._sending - 1))

    def _throttle(self, now: float, retry_after: float | None, sent_at: float | None) -> None:
        self._throttles += 1
        if sent_at is not None:
            self.rate_clock.on_throttle(sent_at)
        decision = self.policy.on_throttle(now, retry_after, sent_at)
        if decision.drain:
            self._sync_bucket(now)
            self.bucket.drain(now, 0.0)

    # ------------------------------------------------------------------ the transport of today

    def on_success(self) -> None:
        """Thin wrapper kept for today's transport: a response that was not a 429."""
        now = self._clock()
        self.rate_clock.on_accept(now)
        self.policy.on_accept(now)

    def on_throttle(self, retry_after: float | None = None, *, sent_at: float | None = None) -> None:
        """Thin wrapper kept for today's transport: a 429 (``retry_after`` seconds, ``sent_at``)."""
        self._throttle(self._clock(), retry_after, sent_at)
