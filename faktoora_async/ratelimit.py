"""A client-wide adaptive rate governor (in the spirit of botocore's adaptive retry mode).

Every request of a client asks :meth:`AdaptiveRateLimiter.acquire` for a slot first.

* **Slow start**: without ``max_rate`` the allowed rate starts at ``initial_rate`` and doubles every
  ``slow_start_period`` seconds (while it is used) until the server first throttles, so a fresh client
  never floods a rate-limited server with a burst of concurrent requests.  A caller that is alone (no
  other request waiting or in flight) is not paced during slow start: one sequential caller is no flood.
* **Multiplicative decrease** on ``429``: the new rate is ``beta`` times the rate the server actually
  accepted in the last second of sending (time spent paused does not count), and never more than
  ``beta`` times the current rate.  Throttles of requests sent before that decrease are echoes of the same
  overload and do not decrease again.
* **Cubic increase** on success (as in CUBIC/botocore): the rate climbs back towards the rate that was
  throttled, flattens out near it for a long while, then probes above it ever faster; so a steady server
  limit is used at close to 100 % with rare throttles, and a raised limit is found again.
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
    """Adaptive token bucket (slow start, multiplicative decrease, cubic increase); ``max_rate`` caps it."""

    def __init__(
        self,
        max_rate: float | None = None,
        *,
        initial_rate: float = 20.0,
        slow_start_period: float = 0.15,
        min_rate: float = 0.5,
        beta: float = 0.9,
        first_beta: float = 0.8,
        cubic_seconds: float = 6.0,
        burst_seconds: float = 0.1,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_rate is not None and max_rate <= 0:
            raise ValueError("max_rate must be positive")
        if not (0 < beta < 1 and 0 < first_beta < 1):
            raise ValueError("beta must be between 0 and 1")
        self.max_rate = max_rate
        self.min_rate = min(min_rate, max_rate) if max_rate else min_rate
        self.beta = beta
        self.first_beta = first_beta
        self.cubic_seconds = cubic_seconds
        self.slow_start_period = slow_start_period
        self.burst_seconds = burst_seconds
        self.window = window
        self._clock = clock
        now = clock()
        self._rate: float = max_rate if max_rate is not None else initial_rate
        self._slow_start = max_rate is None
        self._w_max: float = self._rate
        self._k = 0.0
        self._ok_since_decrease = 0
        self._tokens = 1.0
        self._last_fill = now
        self._pause_until = 0.0
        self._last_decrease = -1.0
        self._last_growth = now
        # requests sent, counted in 0.1 s buckets: [bucket number, count]
        self._sent: collections.deque[list[int]] = collections.deque()
        self._in_flight = 0
        self._first_send: float | None = None
        self._resumed_at = 0.0
        self._acquired = 0
        self._throttles = 0
        self._decreases = 0

    @property
    def rate(self) -> float | None:
        """The current allowed rate in requests/second."""
        return self._rate

    def stats(self) -> RateLimiterStats:
        return RateLimiterStats(
            self._rate, self._acquired, self._throttles, self._decreases, self._pause_until
        )

    def _fill(self, now: float) -> None:
        elapsed = now - self._last_fill
        self._last_fill = now
        if elapsed > 0:
            capacity = max(1.0, self._rate * self.burst_seconds)
            self._tokens = min(capacity, self._tokens + elapsed * self._rate)

    def _record_send(self, now: float) -> None:
        self._acquired += 1
        if self._first_send is None:
            self._first_send = now
        bucket = int(now * 10)
        sent = self._sent
        if sent and sent[-1][0] == bucket:
            sent[-1][1] += 1
        else:
            sent.append([bucket, 1])
            horizon = bucket - int(self.window * 10) - 2
            while sent and sent[0][0] < horizon:
                sent.popleft()

    def try_acquire(self, *, alone: bool = False) -> float:
        """Take a token and return 0.0, or return the seconds to wait before trying again."""
        now = self._clock()
        if now < self._pause_until:
            return self._pause_until - now
        self._fill(now)
        if self._tokens >= 1.0 - 1e-9 or (alone and self._slow_start):
            self._tokens = max(0.0, self._tokens - 1.0)
            self._record_send(now)
            return 0.0
        return (1.0 - self._tokens) / self._rate

    async def acquire(self) -> float:
        """Wait for a token; returns the monotonic time at which the request may be sent.

        Pair every successful acquire with :meth:`release` once the response (or failure) is in.
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

    def _cubic_c(self) -> float:
        # scale: climbing from beta * w_max back to w_max takes ``cubic_seconds``
        return self._w_max * (1.0 - self.beta) / self.cubic_seconds**3

    def _cubic(self, now: float) -> float:
        return self._w_max + self._cubic_c() * (now - self._last_decrease - self._k) ** 3

    def on_success(self) -> None:
        now = self._clock()
        elapsed = now - self._last_growth
        self._last_growth = now
        self._ok_since_decrease += 1
        if self._slow_start:
            # grow only while the rate is actually used, so an idle client does not inflate it
            if self._sent_rate(now) >= 0.5 * self._rate:
                self._rate = min(self._rate * 2.0 ** (min(elapsed, 1.0) / self.slow_start_period), 1e6)
        elif self._last_decrease >= 0:
            self._rate = max(self.min_rate, self._cubic(now))
        if self.max_rate is not None:
            self._rate = min(self._rate, self.max_rate)

    def _sent_rate(self, now: float) -> float:
        """Requests sent per second over the last ``window`` seconds (time spent paused excluded)."""
        begin = max(now - self.window, self._pause_until, self._first_send or now)
        first = int(begin * 10)
        count = 0
        for bucket, n in reversed(self._sent):
            if bucket < first:
                break
            count += n
        span = max(now - first / 10, 0.1)
        if now - begin < 0.2 or count < 2:
            return self._rate
        return count / span

    def on_throttle(self, retry_after: float | None = None, *, sent_at: float | None = None) -> None:
        """A 429: decrease (unless it echoes an earlier overload) and pause everyone for ``retry_after``."""
        now = self._clock()
        self._throttles += 1
        echo = sent_at is not None and sent_at < self._last_decrease
        if not echo:
            base = min(self._rate, self._sent_rate(now))
            since = now - max(self._last_decrease, self._resumed_at, self._first_send or now)
            if self._last_decrease >= 0 and since >= 0.5:
                # what the server accepted since we resumed after the last decrease: its real rate plus at
                # most its burst spread over the interval (an overestimate costs one more throttle; an
                # underestimate would cost a long, slow climb)
                base = min(base, self._ok_since_decrease / since)
            base = max(self.min_rate, base)
            if since < 1.0 and not self._slow_start:
                # overloaded again within a second of resuming: far above the limit, halve
                new_rate = 0.5 * base
                self._w_max = max(self.min_rate, new_rate / self.beta)
            else:
                beta = self.beta
                if self._slow_start:
                    beta = self.first_beta
                elif since < self.cubic_seconds:
                    # throttled again before even reaching the last ceiling: that ceiling was too high
                    beta = self.beta * self.beta
                new_rate = beta * base
                self._w_max = base
            self._rate = max(self.min_rate, new_rate)
            if self.max_rate is not None:
                self._rate = min(self._rate, self.max_rate)
            self._slow_start = False
            self._decreases += 1
            self._last_decrease = now
            self._last_growth = now
            self._ok_since_decrease = 0
            if self._w_max > self._rate:
                self._k = ((self._w_max - self._rate) / self._cubic_c()) ** (1.0 / 3.0)
            else:
                self._k = 0.0
        if retry_after is not None and retry_after > 0:
            self._pause_until = max(self._pause_until, now + retry_after)
            if not echo:
                self._resumed_at = self._pause_until
            self._tokens = min(self._tokens, 1.0)
