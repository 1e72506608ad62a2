"""A client-wide adaptive rate governor (in the spirit of botocore's adaptive retry mode).

Every request of a client asks :meth:`AdaptiveRateLimiter.acquire` for a slot first.

* Until the server throttles (and without ``max_rate``) there is no limit at all.
* A ``429`` is *multiplicative decrease*: the new rate is ``beta`` times the rate the server actually
  accepted since the previous throttle (successes / elapsed time; for the first throttle, the successes
  of the last second), and never more than ``beta`` times the current rate.  Throttles of requests sent
  before that decrease do not decrease again (they are echoes of the same overload).
* Every success is *additive increase*: the rate grows by ``increase`` x (the rate set at the last
  decrease) per second, so the governor slowly probes upward and finds a raised limit again.
* ``Retry-After`` pauses the whole client: no request of any task starts before it has passed.
* Slots are handed out GCRA-style (a virtual schedule), which is fair and cheap: each caller reserves
  the next slot, and up to ``burst_seconds`` of unused capacity may be spent at once.

The limiter does no I/O besides ``anyio.sleep`` and is shared by every task of one client.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

__all__ = ["AdaptiveRateLimiter", "RateLimiterStats"]


@dataclass(frozen=True)
class RateLimiterStats:
    rate: float | None
    acquired: int
    throttles: int
    decreases: int
    paused_until: float


class AdaptiveRateLimiter:
    """AIMD token scheduler; ``max_rate`` (requests/second) caps it, ``None`` starts unlimited."""

    def __init__(
        self,
        max_rate: float | None = None,
        *,
        min_rate: float = 0.5,
        beta: float = 0.9,
        increase: float = 0.02,
        burst_seconds: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_rate is not None and max_rate <= 0:
            raise ValueError("max_rate must be positive")
        if not 0 < beta < 1:
            raise ValueError("beta must be between 0 and 1")
        self.max_rate = max_rate
        self.min_rate = min(min_rate, max_rate) if max_rate else min_rate
        self.beta = beta
        self.increase = increase
        self.burst_seconds = burst_seconds
        self._clock = clock
        self._rate: float | None = max_rate
        self._base_rate: float = max_rate or 0.0
        self._next = 0.0
        self._pause_until = 0.0
        self._last_decrease = -1.0
        self._last_increase = clock()
        self._ok_since_decrease = 0
        self._recent_ok: collections.deque[float] = collections.deque(maxlen=4096)
        self._acquired = 0
        self._throttles = 0
        self._decreases = 0

    @property
    def rate(self) -> float | None:
        """The current allowed rate in requests/second (None: unlimited)."""
        return self._rate

    def stats(self) -> RateLimiterStats:
        return RateLimiterStats(
            self._rate, self._acquired, self._throttles, self._decreases, self._pause_until
        )

    def reserve(self) -> float:
        """Reserve the next slot; return how many seconds to wait before using it."""
        now = self._clock()
        self._acquired += 1
        if self._rate is None:
            return max(0.0, self._pause_until - now)
        interval = 1.0 / self._rate
        virtual = max(self._next, now - self.burst_seconds, self._pause_until - self.burst_seconds)
        self._next = virtual + interval
        start = max(virtual, now, self._pause_until)
        return start - now

    async def acquire(self) -> float:
        """Wait for a slot; returns the monotonic time at which the request may be sent."""
        delay = self.reserve()
        while delay > 0:
            await anyio.sleep(delay)
            # a pause announced while we slept applies to us too
            delay = self._pause_until - self._clock()
        return self._clock()

    def on_success(self) -> None:
        now = self._clock()
        self._ok_since_decrease += 1
        self._recent_ok.append(now)
        if self._rate is None:
            return
        elapsed = now - self._last_increase
        self._last_increase = now
        if elapsed > 0:
            self._rate += self.increase * max(self._base_rate, self.min_rate) * min(elapsed, 1.0)
            if self.max_rate is not None:
                self._rate = min(self._rate, self.max_rate)

    def on_throttle(self, retry_after: float | None = None, *, sent_at: float | None = None) -> None:
        """A 429: decrease (unless it echoes an earlier overload) and pause everyone for ``retry_after``."""
        now = self._clock()
        self._throttles += 1
        if retry_after is not None and retry_after > 0:
            self._pause_until = max(self._pause_until, now + retry_after)
        if sent_at is not None and sent_at < self._last_decrease:
            return
        accepted: float | None = None
        if self._last_decrease >= 0 and now - self._last_decrease >= 0.5:
            accepted = self._ok_since_decrease / (now - self._last_decrease)
        else:
            window = [t for t in self._recent_ok if t >= now - 1.0]
            if window:
                accepted = len(window) / max(now - window[0], 0.25)
        candidates = [c for c in (self._rate, accepted) if c is not None and c > 0]
        new_rate = self.beta * min(candidates) if candidates else self.min_rate
        new_rate = max(new_rate, self.min_rate)
        if self.max_rate is not None:
            new_rate = min(new_rate, self.max_rate)
        self._rate = new_rate
        self._base_rate = new_rate
        self._decreases += 1
        self._last_decrease = now
        self._last_increase = now
        self._ok_since_decrease = 0
