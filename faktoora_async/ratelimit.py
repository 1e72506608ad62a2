"""A client-wide adaptive rate governor (in the spirit of botocore's adaptive retry mode).

Every request of a client asks :meth:`AdaptiveRateLimiter.acquire` for a slot first.

* **Slow start**: without ``max_rate`` the allowed rate starts at ``initial_rate`` and doubles every
  ``slow_start_period`` seconds (while it is used) until the server first throttles, so a fresh client
  never floods a rate-limited server with a burst of concurrent requests.  A caller that is alone (no
  other request waiting or in flight) is not paced during slow start: one sequential caller is no flood.
* **First 429**: the rate becomes ``first_beta`` times what the server *accepted* per second since the
  first request (a rough guess: the server's rate, plus its burst, minus what slow start left unused);
  that guess is a soft ceiling, tried again right below it and passed in small steps.
* **Later 429s** (a firm ceiling): everything sent at the current rate since it was set (or since the
  pause ended) was accepted until the server's bucket ran dry, so the limit is about that rate times
  ``1 - bucket / drained`` (``bucket`` starts at ``bucket_guess`` seconds and is learned from two such
  drains at two rates, which also give the limit itself); the rate goes a little below that, never below
  ``0.97`` times the rate that held before the last step up.  Throttles of requests sent before that
  decrease are echoes of the same overload and change nothing.
* **Increase**: every ``hold_seconds`` without a throttle the rate steps up (``step_up`` times while no
  ceiling is known, else half-way to ``1 - gap`` of the ceiling); right below the ceiling it stays for
  ``plateau_seconds`` and then probes ``probe`` above it: one rare probe, so a raised limit is found again.
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
    """Adaptive token bucket (slow start, decrease to the accepted rate, stepwise increase, ``max_rate``)."""

    def __init__(
        self,
        max_rate: float | None = None,
        *,
        initial_rate: float = 20.0,
        slow_start_period: float = 0.15,
        min_rate: float = 0.5,
        beta: float = 0.7,
        first_beta: float = 0.9,
        hold_seconds: float = 1.5,
        step_up: float = 1.15,
        gap: float = 0.1,
        plateau_seconds: float = 30.0,
        probe: float = 0.03,
        bucket_guess: float = 0.15,
        burst_seconds: float = 0.1,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_rate is not None and max_rate <= 0:
            raise ValueError("max_rate must be positive")
        if not (0 < beta < 1 and 0 < first_beta <= 1):
            raise ValueError("beta must be between 0 and 1")
        self.max_rate = max_rate
        self.min_rate = min(min_rate, max_rate) if max_rate else min_rate
        self.first_beta = first_beta
        self.max_margin = 1.0 - beta
        self.min_margin = 0.01
        self.hold_seconds = hold_seconds
        self.step_up = step_up
        self.gap = gap
        self.plateau_seconds = plateau_seconds
        self.probe = probe
        self.bucket_guess = bucket_guess
        self.slow_start_period = slow_start_period
        self.burst_seconds = burst_seconds
        self.window = window
        self._clock = clock
        now = clock()
        self._rate: float = max_rate if max_rate is not None else initial_rate
        self._slow_start = max_rate is None
        # after the first throttle: the lowest rate known to be too high (firm once a throttle at a paced
        # rate said so; soft when only guessed from slow start) and the highest rate that held while used
        self._ceiling: float | None = None
        self._ceiling_firm = False
        self._bucket = bucket_guess
        self._prev_rate = 0.0
        self._last_firm: tuple[float, float] | None = None
        self._step_at = now
        self._ok_in_step = 0
        self._ok_since_resume = 0
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

    def on_success(self) -> None:
        now = self._clock()
        if now >= self._resumed_at:
            self._ok_since_resume += 1
            self._ok_in_step += 1
        if self._slow_start:
            elapsed = now - self._last_growth
            self._last_growth = now
            # grow only while the rate is actually used, so an idle client does not inflate it
            if self._sent_rate(now) >= 0.5 * self._rate:
                self._rate = min(self._rate * 2.0 ** (min(elapsed, 1.0) / self.slow_start_period), 1e6)
            if self.max_rate is not None:
                self._rate = min(self._rate, self.max_rate)
            return
        if self._last_decrease < 0 or now < self._resumed_at:
            return
        held = now - max(self._step_at, self._resumed_at)
        if held < self.hold_seconds:
            return
        rate = self._rate
        used = self._ok_in_step >= 0.85 * rate * held
        ceiling = self._ceiling
        new_rate = rate
        # a firm ceiling is approached up to ``gap`` below it, halving the distance each step; a soft one
        # (guessed from slow start) is tried right below it, then passed
        below = ceiling * (1.0 - (self.gap if self._ceiling_firm else self.gap / 2)) if ceiling else 0.0
        if ceiling is not None and rate < below - 1e-9:
            target = min((rate + ceiling) / 2, below) if self._ceiling_firm else below
            new_rate = min(rate * self.step_up, target)
        elif used and (ceiling is None or not self._ceiling_firm):
            # no throttle has told us where the limit is (or only slow start did): keep climbing, in
            # smaller steps once past the guess from slow start
            new_rate = rate * (self.step_up if ceiling is None else 1.0 + self.gap)
            self._ceiling = None
        elif held >= self.plateau_seconds:
            # a long plateau right below the last throttle: probe a little above it, rarely
            new_rate = rate * (1.0 + self.probe)
            if ceiling is not None:
                new_rate = max(new_rate, ceiling * (1.0 - self.gap / 4))
            if ceiling is not None and new_rate >= ceiling:
                self._ceiling = None
        else:
            return
        if self.max_rate is not None:
            new_rate = min(new_rate, self.max_rate)
        self._prev_rate = rate
        self._rate = max(self.min_rate, new_rate)
        self._step_at = now
        self._ok_in_step = 0

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
        """A 429: lower the rate (unless it echoes an earlier one); pause everyone for ``retry_after``."""
        now = self._clock()
        self._throttles += 1
        echo = sent_at is not None and sent_at < self._last_decrease
        if not echo:
            rate = self._rate
            # what the server accepted while its bucket was being drained (since the first request or
            # the end of the last pause): its rate plus whatever its bucket held at the start
            drained = now - max(self._resumed_at, self._first_send or now)
            accepted = (
                self._ok_since_resume / drained if drained >= 0.25 and self._ok_since_resume >= 4 else rate
            )
            if self._slow_start:
                # the rate doubled past the limit: only a rough guess, refined by the next throttle
                est = max(self.min_rate, min(rate, accepted))
                new_rate = self.first_beta * est
                self._ceiling = est
                self._ceiling_firm = False
            else:
                # the bucket started draining when the current rate was set (the one before held) or
                # when the last pause ended; everything sent since then at ``rate`` was accepted
                drained = now - max(self._step_at, self._resumed_at)
                est = rate
                if drained >= 0.25 and self._ok_in_step >= 4:
                    est = max(self.min_rate, min(rate, self._ok_in_step / drained))
                # sending at ``est`` emptied a bucket of (about ``bucket_guess`` seconds of) the limit in
                # ``drained`` seconds: the limit is about est * (1 - bucket_guess / drained)
                margin = min(self.max_margin, max(self.min_margin, self._bucket / max(drained, 1e-3)))
                new_rate = est * (1.0 - margin - 0.02)
                if self._prev_rate < est:
                    # the rate before the last step up held for a while: the limit is about there or above
                    new_rate = max(new_rate, 0.97 * self._prev_rate)
                last = self._last_firm
                if last is not None and abs(last[1] - drained) >= 0.5:
                    # two drains of the same bucket at two rates: est * drained = bucket + limit * drained
                    limit = (last[0] * last[1] - est * drained) / (last[1] - drained)
                    if 0 < limit < min(est, last[0]):
                        new_rate = 0.97 * limit
                        self._bucket = min(2.0, max(self.bucket_guess, (est - limit) * drained / limit))
                new_rate = min(new_rate, est * (1.0 - self.min_margin))
                self._last_firm = (est, drained)
                self._ceiling = est
                self._ceiling_firm = True
            self._rate = max(self.min_rate, new_rate)
            if self.max_rate is not None:
                self._rate = min(self._rate, self.max_rate)
            self._slow_start = False
            self._decreases += 1
            self._prev_rate = 0.0
            self._last_decrease = now
            self._step_at = now
            self._ok_in_step = 0
            self._ok_since_resume = 0
        if retry_after is not None and retry_after > 0:
            self._pause_until = max(self._pause_until, now + retry_after)
            if not echo:
                self._resumed_at = self._pause_until
                self._step_at = self._pause_until
            self._tokens = min(self._tokens, 1.0)
