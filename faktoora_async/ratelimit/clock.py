"""The rate clock: when requests were sent and answered, and the rates measured from that."""

from __future__ import annotations

import bisect

__all__ = ["EventLog", "RateClock"]

#: How far back the exact send times are kept.  The governor looks back at most a few round trips (to
#: the send time of a throttled request) and one measuring window; 30 s is far more than either.
HISTORY_SECONDS = 30.0
#: Never keep more than this many timestamps per log, whatever the rate (memory bound: ~8 bytes each).
HISTORY_MAX = 1 << 16


class EventLog:
    """Timestamps of one kind of event, in the order they happened, with exact counts over time.

    ``total`` counts every event ever recorded; :meth:`count_after` and :meth:`count_between` are exact
    for the last :data:`HISTORY_SECONDS` (or :data:`HISTORY_MAX` events).  Pure: times are passed in.
    """

    __slots__ = ("_start", "_times", "total")

    def __init__(self) -> None:
        self._times: list[float] = []
        self._start = 0
        self.total = 0

    def record(self, when: float, n: int = 1) -> None:
        times = self._times
        if times and when < times[-1]:
            # events reported out of order (a response for an old send time): keep the list sorted
            for _ in range(n):
                bisect.insort(times, when, lo=self._start)
        elif n == 1:
            times.append(when)
        else:
            times.extend([when] * n)
        self.total += n
        start = self._start
        # the trim has work only when the oldest kept event is out of the horizon, or too many are kept
        if times[start] < when - HISTORY_SECONDS or len(times) - start > HISTORY_MAX:
            self._trim(when)

    def _trim(self, now: float) -> None:
        times = self._times
        start = self._start
        live = len(times) - start
        if live > HISTORY_MAX:
            start = len(times) - HISTORY_MAX
        horizon = now - HISTORY_SECONDS
        if times[start] < horizon:
            start = bisect.bisect_left(times, horizon, lo=start)
        self._start = start
        if start > 4096 and start * 2 > len(times):
            del times[:start]
            self._start = 0

    def count_after(self, when: float) -> int:
        """Events strictly after ``when`` (within the kept history)."""
        return len(self._times) - bisect.bisect_right(self._times, when, lo=self._start)

    def count_between(self, begin: float, end: float) -> int:
        """Events in ``(begin, end]``."""
        times = self._times
        lo = bisect.bisect_right(times, begin, lo=self._start)
        hi = bisect.bisect_right(times, end, lo=lo)
        return hi - lo

    def between(self, begin: float, end: float) -> list[float]:
        """The timestamps in ``(begin, end]``, oldest first."""
        times = self._times
        lo = bisect.bisect_right(times, begin, lo=self._start)
        return times[lo : bisect.bisect_right(times, end, lo=lo)]

    @property
    def last(self) -> float | None:
        return self._times[-1] if len(self._times) > self._start else None


class RateClock:
    """Measured send and accept rates of one client (botocore's ``RateClocker``, with exact counts).

    ``sent`` holds send times; ``accepted`` and ``throttled`` hold the *send* times of the requests the
    server accepted or answered 429, so "how many of the requests sent between two moments were
    accepted" is one subtraction.  ``window`` is the span of :meth:`send_rate`.
    """

    __slots__ = ("accepted", "first_send", "sent", "throttled", "window")

    def __init__(self, window: float = 1.0) -> None:
        if window <= 0:
            raise ValueError("window must be positive")
        self.window = window
        self.sent = EventLog()
        self.accepted = EventLog()
        self.throttled = EventLog()
        self.first_send: float | None = None

    def on_send(self, now: float) -> None:
        if self.first_send is None:
            self.first_send = now
        self.sent.record(now)

    def on_accept(self, sent_at: float) -> None:
        self.accepted.record(sent_at)

    def on_throttle(self, sent_at: float) -> None:
        self.throttled.record(sent_at)

    def send_rate(self, now: float, *, since: float | None = None) -> float | None:
        """Requests sent per second over the last ``window`` seconds (from ``since`` if later).

        None when the span is too short (under 0.2 s) or fewer than two requests were sent in it.
        """
        begin = now - self.window
        if since is not None:
            begin = max(begin, since)
        if self.first_send is not None:
            begin = max(begin, self.first_send)
        span = now - begin
        count = self.sent.count_after(begin)
        if span < 0.2 or count < 2:
            return None
        return count / span

    def accepted_rate(self, begin: float, end: float) -> float | None:
        """Requests sent in ``(begin, end]`` and accepted, per second; None for a span under 0.25 s."""
        span = end - begin
        if span < 0.25:
            return None
        return self.accepted.count_between(begin, end) / span
