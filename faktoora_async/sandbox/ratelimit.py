"""Per-account token bucket: ``rate`` tokens per second, at most ``burst`` stored."""

from __future__ import annotations

import math
import time


class TokenBucket:
    """A classic token bucket; :meth:`take` returns 0 when a request may pass, else the seconds to wait.

    The bucket starts full, so ``burst`` requests pass back to back before the first refusal.
    """

    __slots__ = ("_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        if self.burst < 1:
            raise ValueError("burst must be >= 1")
        self._tokens = self.burst
        self._last = time.monotonic()

    def take(self, now: float | None = None) -> float:
        """Take one token; return 0.0 on success, or the seconds until one token is available."""
        if now is None:
            now = time.monotonic()
        elapsed = now - self._last
        self._last = now
        if elapsed > 0:
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate

    @staticmethod
    def retry_after_header(wait: float) -> str:
        """The integer ``Retry-After`` value (seconds, rounded up, at least 1) for a wait."""
        return str(max(1, math.ceil(wait)))
