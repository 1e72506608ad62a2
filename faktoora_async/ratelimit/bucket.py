"""The client-side token bucket that paces requests: pure arithmetic, the time is always passed in."""

from __future__ import annotations

import math

__all__ = ["TokenBucket"]


class TokenBucket:
    """Tokens accrue at ``rate`` per second up to ``capacity``; a request takes one.

    :meth:`take` either takes a token (returns ``0.0``) or returns the seconds until one is there.
    ``rate`` may be ``math.inf`` (no pacing at all).  The level may be pushed below zero with
    :meth:`drain` (a debt: the server's own bucket is known to be empty), so the next token comes only
    after the debt is paid back at ``rate``.  No clock of its own: every method takes ``now``, which
    makes the bucket trivially testable with a fake clock.
    """

    __slots__ = ("_capacity", "_last", "_rate", "_tokens")

    def __init__(
        self, rate: float, capacity: float = 1.0, *, now: float, tokens: float | None = None
    ) -> None:
        if not rate > 0:
            raise ValueError("rate must be positive")
        self._rate = float(rate)
        self._capacity = max(1.0, float(capacity))
        self._tokens = self._capacity if tokens is None else float(tokens)
        self._last = now

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def capacity(self) -> float:
        return self._capacity

    def _fill(self, now: float) -> None:
        elapsed = now - self._last
        if elapsed > 0:
            self._last = now
            if math.isinf(self._rate):
                self._tokens = self._capacity
            else:
                self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)

    def level(self, now: float) -> float:
        """Tokens available at ``now`` (negative while a debt is being paid back)."""
        self._fill(now)
        return self._tokens

    def set_rate(self, rate: float, now: float, capacity: float | None = None) -> None:
        """Change the rate (and the capacity) from ``now`` on; tokens earned so far are kept."""
        if not rate > 0:
            raise ValueError("rate must be positive")
        self._fill(now)
        self._rate = float(rate)
        if capacity is not None:
            self._capacity = max(1.0, float(capacity))
            self._tokens = min(self._tokens, self._capacity)

    def take(self, now: float) -> float:
        """Take one token and return ``0.0``, or return the seconds until a token is available."""
        rate = self._rate
        if rate == math.inf:
            return 0.0
        tokens = self._tokens
        elapsed = now - self._last
        if elapsed > 0:  # (_fill, written out: this runs for every request)
            self._last = now
            tokens += elapsed * rate
            if tokens > self._capacity:
                tokens = self._capacity
        if tokens >= 1.0 - 1e-9:
            self._tokens = tokens - 1.0
            return 0.0
        self._tokens = tokens
        return (1.0 - tokens) / rate

    def force_take(self, now: float) -> None:
        """Take one token even if none is there (the level may go negative)."""
        if self._rate == math.inf:
            self._fill(now)
            tokens = self._tokens
        else:
            tokens = self._tokens
            elapsed = now - self._last
            if elapsed > 0:  # (_fill, written out)
                self._last = now
                tokens += elapsed * self._rate
                if tokens > self._capacity:
                    tokens = self._capacity
        floor = -self._capacity - 1.0
        tokens -= 1.0
        self._tokens = tokens if tokens > floor else floor

    def drain(self, now: float, level: float = 0.0) -> None:
        """Lower the level to at most ``level`` (e.g. ``0.0`` when the server said its bucket is empty)."""
        self._fill(now)
        self._tokens = min(self._tokens, level)

    def refund(self, now: float, tokens: float = 1.0) -> None:
        """Give back tokens (a request that was taken but never sent)."""
        self._fill(now)
        self._tokens = min(self._capacity, self._tokens + tokens)
