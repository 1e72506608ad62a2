"""The adjustment policy: what the server's answers say about its rate limit (pure, fake-clock testable).

The server is modelled as a token bucket of unknown rate ``R`` and burst ``B``.  A 429 is the one exact
observation the client gets: *at the moment the throttled request was sent, the server's bucket was
empty*.  Two such moments ``s1 < s2`` bracket an exact measurement: every request the server accepted
that was sent in ``(s1, s2]`` was paid for by tokens that arrived in that span, so
``R = accepted / (s2 - s1)`` (exact while the bucket never filled up in between, and the client keeps
it near empty, so it does not).  The policy therefore works in **sync points**:

1. **Discovery** (nothing known): no pacing; the client spends the burst the server grants at start.
   The governor keeps at most :data:`DISCOVERY_IN_FLIGHT` requests in flight (doubling every
   :data:`DISCOVERY_DOUBLING` seconds while that cap is what holds callers back), because every request
   in flight when the bucket runs dry is answered 429 before the client can react.
2. **First 429** (first sync): the rate is estimated from what was accepted since saturation began,
   assuming a burst of :data:`PRIOR_BURST_SECONDS` of the rate, times :data:`FIRST_SAFETY`; then it
   climbs by :data:`RAMP` per second (tokens left unused meanwhile stay in the server's bucket and are
   spent when the climb passes ``R``), so the second 429 comes with little overshoot.
3. **Later 429s**: the rate becomes the measured ``R`` (over the last :data:`MEASURE_SPAN` seconds of sync
   points, or more) times ``1 + DRIFT``: a deliberate tiny excess, so the bucket keeps being used to the
   last token and a 429 re-synchronises the client about every ``1 / (DRIFT * R)`` seconds.
4. **No 429 for long** (:data:`PROBE_AFTER` sync periods): the limit may have been raised (or another
   client sharing the key stopped): the rate climbs again by :data:`PROBE_RAMP` per second.

A 429 of a request sent before the client heard of the last one is an *echo* of that overload and says
nothing new.  Only the callers a 429 concerns are held back: the throttled request waits for its
``Retry-After`` (the transport's retry), everyone else just resumes at the new pace (the client's bucket
is emptied, so the next request goes ``1 / rate`` later).  ``Retry-After`` above
:data:`RETRY_AFTER_ROUNDING` is taken literally: then the server means a real pause, and everyone waits.
So does a **streak** of :data:`STREAK` new 429s within a second (the model does not fit this server,
e.g. a fixed-window limit): the rate is cut by ``BETA`` and everyone waits for ``Retry-After``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .clock import RateClock

__all__ = ["AdjustmentPolicy", "PolicyConfig", "ThrottleDecision"]

#: Pace while nothing is known (requests/second): high enough to spend any usual burst within a second,
#: low enough that a burst of simultaneous requests cannot all meet an empty bucket at once...
DISCOVERY_RATE = 200.0
#: Requests in flight at most while nothing is known: bounds the 429s of the first drain (the requests
#: sent while the first 429 is on its way back; few, since a 429 is answered fast) to about this.
DISCOVERY_IN_FLIGHT = 16
#: While the discovery pace or cap holds callers back and no 429 came, both double every this many
#: seconds (a server without a limit is used at full speed within seconds).
DISCOVERY_DOUBLING = 0.5
#: Two hold-backs at most this far apart (seconds) count as one spell of being held back.
HELD_GAP = 0.05
#: Prior for the server's burst, in seconds of its rate (burst = rate x 1 s is the usual configuration).
PRIOR_BURST_SECONDS = 1.0
#: The first estimate looks at what was accepted in this many seconds before the first 429.
FIRST_WINDOW = 1.0
#: The first estimate is taken this much lower (its prior may be wrong; unused tokens are not lost).
FIRST_SAFETY = 0.95
#: Climb per second (exponential, a share of the rate) between the first and the second sync point: fast,
#: because tokens left unused overflow a small server bucket; the overshoot it causes is bounded by
#: what the server's bucket held (``sqrt(2 * RAMP * R * hidden)``), a few requests per round trip at most.
RAMP = 0.1
#: The climb after a first drain that came at once (a small burst: the estimate may be far too low).
RAMP_FAST = 1.0
#: After the first drain the climb reaches the rate's upper bound within this many seconds.
FIRST_CLIMB_SECONDS = 5.0
#: A measurement between two sync points is exact to about this many requests (counting at both ends,
#: send-time jitter): its relative uncertainty is this over ``R x span``.
UNCERTAIN_REQUESTS = 3.0
#: After a sync point the rate climbs through its uncertainty in about this many seconds, so a 429
#: comes back soon when the measurement was low.
CLIMB_SECONDS = 4.0
#: Deliberate excess over the measured rate after the second sync point (see the module docstring).
DRIFT = 0.001
#: Sync points at least this far apart (seconds) give the rate measurement (longer: more exact).
MEASURE_SPAN = 4.0
#: A new 429 fewer than this many accepted requests after the last sync point measures nothing (its
#: counting error is most of the count: e.g. one request 0.1 s after the first drain would "measure" 10/s
#: on a 100/s server); it only nudges the rate down by :data:`NUDGE` and is not kept as a sync point.
MIN_MEASURE_REQUESTS = 20
NUDGE = 0.03
#: Sync points older than this (seconds) are forgotten (the limit or the key's other users may change).
HISTORY = 15.0
#: Without a 429 for this many expected sync periods, the rate starts climbing again...
PROBE_AFTER = 3.0
#: ...but after at most this many seconds...
PROBE_AFTER_MAX = 15.0
#: ...by this share per second, doubling every PROBE_DOUBLING seconds while no 429 comes.
PROBE_RAMP = 0.01
PROBE_DOUBLING = 3.0
#: A ``Retry-After`` up to this many seconds is taken as rounded up to whole seconds, not as a pause.
RETRY_AFTER_ROUNDING = 1.0
#: This many new (non-echo) 429s in a row, with no request accepted in between, mean the model does not
#: fit the server (e.g. a fixed-window limit whose quota is spent until the window ends).
STREAK = 4
#: Moments at which the server's saved tokens are estimated between two sync points.
UNUSED_SAMPLES = 40
#: On a streak the rate is multiplied by this (multiplicative decrease, as in AIMD).
BETA = 0.7
#: A shared rate within this share of ours is not taken over (ours is as good, and climbs on).
ADOPT_TOLERANCE = 0.005
#: Never pace slower than this (requests/second).
MIN_RATE = 0.5


@dataclass(frozen=True)
class PolicyConfig:
    """The policy's tunables (defaults: the constants above).  ``max_rate`` caps every rate."""

    max_rate: float | None = None
    min_rate: float = MIN_RATE
    beta: float = BETA
    drift: float = DRIFT
    ramp: float = RAMP
    probe_ramp: float = PROBE_RAMP
    prior_burst_seconds: float = PRIOR_BURST_SECONDS
    discovery_rate: float = DISCOVERY_RATE
    discovery_in_flight: int = DISCOVERY_IN_FLIGHT
    discovery_doubling: float = DISCOVERY_DOUBLING
    measure_span: float = MEASURE_SPAN

    def __post_init__(self) -> None:
        if self.max_rate is not None and not self.max_rate > 0:
            raise ValueError("max_rate must be positive")
        if not 0 < self.beta < 1:
            raise ValueError("beta must be between 0 and 1")
        if self.drift < 0 or self.ramp < 0 or self.probe_ramp < 0:
            raise ValueError("drift and ramps must be >= 0")
        if not self.discovery_rate > 0:
            raise ValueError("discovery_rate must be positive")
        if self.discovery_in_flight < 1:
            raise ValueError("discovery_in_flight must be >= 1")


@dataclass(frozen=True)
class ThrottleDecision:
    """What a 429 changes: ``new`` (not an echo), empty the client's bucket, everyone waits until."""

    new: bool
    drain: bool
    pause_until: float


class AdjustmentPolicy:
    """Decides the allowed rate from sync points (429s) and what the :class:`RateClock` measured."""

    def __init__(self, config: PolicyConfig, clock: RateClock, now: float) -> None:
        self.config = config
        self.clock = clock
        self._started = now
        #: seconds of "the discovery cap held a caller back", from the first time it did
        self._saturated_at: float | None = None  # the last time the discovery pace held a caller back
        self._held = 0.0  # seconds callers were held back by it (gaps over HELD_GAP not counted)
        self._base_rate: float = config.max_rate if config.max_rate is not None else config.discovery_rate
        self._base_at = now
        self._climb = 0.0  # share per second the rate climbs from _base_at on
        self._syncs: list[tuple[float, int]] = []  # (send time of the throttled request, C(send time))
        self._heard_at = -math.inf  # when the last new 429 arrived (requests sent before: echoes)
        self._streak = 0  # new 429s in a row with no accepted request sent after the previous one
        self.pause_until = 0.0
        self.decreases = 0
        self.known_rate: float | None = None  # from RateLimit headers: the server's own word
        self.last_sent_rate = math.inf  # the paced rate when the last throttled request was sent
        #: how many requests sent up to a time the server accepted; None: this client's own counts (a
        #: shared rate store sets it to the counts of every client sharing the key)
        self.counts: Callable[[float], int] | None = None
        self.revision = 0  # bumped whenever the rate's base or climb changes (to publish it)
        self._adopted = False  # a rate learned elsewhere (a shared store) was taken over
        self.burst: float | None = None  # the server's burst, learned from the first drain
        self._first_window: tuple[float, int] | None = None  # (span, accepted) before the first 429

    # ------------------------------------------------------------------ state

    @property
    def discovering(self) -> bool:
        """Nothing is known yet: no pacing, but few requests in flight."""
        return (
            not self._syncs and self.known_rate is None and self.config.max_rate is None and not self._adopted
        )

    def _growth(self, now: float) -> float:
        return math.pow(2.0, min(self._held / self.config.discovery_doubling, 20.0))

    def rate_at(self, now: float) -> float:
        """The allowed rate at ``now``."""
        if self.discovering:
            return self._base_rate * self._growth(now)
        rate = self._base_rate
        if self._climb and not math.isinf(rate):
            rate *= math.exp(self._climb * min(60.0, max(0.0, now - self._base_at)))
        return self._cap(rate)

    def _cap(self, rate: float) -> float:
        c = self.config
        if c.max_rate is not None:
            rate = min(rate, c.max_rate)
        if self.known_rate is not None:
            rate = min(rate, self.known_rate)
        return max(c.min_rate, rate)

    def in_flight_cap(self, now: float) -> int | None:
        """How many requests may be in flight at ``now`` (None: no cap)."""
        if not self.discovering:
            return None
        return int(self.config.discovery_in_flight * self._growth(now))

    def on_saturated(self, now: float) -> None:
        """The discovery pace or cap held a caller back: count the time callers are held back."""
        if self._saturated_at is not None:
            self._held += min(max(0.0, now - self._saturated_at), HELD_GAP)
        self._saturated_at = now

    def _accepted_until(self, when: float) -> int:
        """Requests sent up to ``when`` and not answered 429 (the tokens the server charged for them)."""
        if self.counts is not None:
            return self.counts(when)
        sent, throttled = self.clock.sent, self.clock.throttled
        return (sent.total - sent.count_after(when)) - (throttled.total - throttled.count_after(when))

    def measured_rate(self) -> tuple[float, float] | None:
        """``(R, span)`` from the sync points: accepted between the newest and an older one, per second.

        A lower bound of the server's rate (exact unless its bucket overflowed in between).  The oldest
        sync point kept gives the most exact figure; when the newest span alone says clearly less, the
        rate has dropped (or another client took a share) and the newest span wins.
        """
        syncs = self._syncs
        if len(syncs) < 2:
            return None
        s_new, c_new = syncs[-1]
        s_old, c_old = syncs[0]
        span = s_new - s_old
        if span <= 0:
            return None
        long_rate = max(0.0, c_new - c_old) / span
        # a recent span that says clearly less than the long one (beyond its own counting error):
        # the rate dropped; the shortest such span tells the new rate soonest
        for s, c in reversed(syncs[1:-1]):
            recent = s_new - s
            count = max(0.0, c_new - c)
            if count >= 2 * UNCERTAIN_REQUESTS and count / recent < long_rate * (
                1.0 - 2 * UNCERTAIN_REQUESTS / count
            ):
                return count / recent, recent
        return long_rate, span

    # ------------------------------------------------------------------ events

    def on_accept(self, now: float, sent_at: float | None = None) -> None:
        """A response that was not a 429 (2xx/3xx/5xx): after a long quiet spell, probe upwards."""
        if (sent_at if sent_at is not None else now) > self._heard_at:
            self._streak = 0
        if len(self._syncs) < 2 or self.known_rate is not None:
            return
        c = self.config
        if self._climb >= c.probe_ramp:
            # probing already: every PROBE_DOUBLING seconds without a 429 the climb doubles
            if now - self._base_at >= PROBE_DOUBLING:
                self._base_rate = self.rate_at(now)
                self._base_at = now
                self._climb = min(self._climb * 2.0, RAMP_FAST)
                self.revision += 1
            return
        period = 1.0 / max(c.drift * self._base_rate, 1e-9)
        quiet = now - max(self._heard_at, self._base_at)
        if quiet >= max(c.measure_span, min(PROBE_AFTER * period, PROBE_AFTER_MAX)):
            self._base_rate = self.rate_at(now)
            self._base_at = now
            self._climb = c.probe_ramp
            self.revision += 1

    def on_throttle(self, now: float, retry_after: float | None, sent_at: float | None) -> ThrottleDecision:
        """A 429 that arrived at ``now`` for a request sent at ``sent_at``."""
        if sent_at is None:
            sent_at = now
        literal = retry_after is not None and retry_after > RETRY_AFTER_ROUNDING
        if sent_at <= self._heard_at:
            # an echo: sent before the client heard of the last overload
            if literal:
                self.pause_until = max(self.pause_until, now + float(retry_after or 0.0))
            return ThrottleDecision(False, False, self.pause_until)
        self._heard_at = now
        self.decreases += 1
        self._streak += 1
        streak = self._streak >= STREAK
        current = self.rate_at(now)
        self.last_sent_rate = self.rate_at(sent_at)
        accepted = self._accepted_until(sent_at)
        if self._syncs and not streak and accepted - self._syncs[-1][1] < MIN_MEASURE_REQUESTS:
            # too close to the last sync point to measure anything: the bucket is (still) empty, so pace a
            # little lower and keep climbing; the next 429 measures from the older sync point
            self._base_rate = self._cap(current * (1.0 - NUDGE))
            self._base_at = now
            self.revision += 1
            if literal:
                self.pause_until = max(self.pause_until, now + float(retry_after or 0.0))
            return ThrottleDecision(True, True, self.pause_until)
        self._syncs.append((sent_at, accepted))
        while len(self._syncs) > 2 and sent_at - self._syncs[0][0] > HISTORY:
            self._syncs.pop(0)
        self._new_rate(now, sent_at, streak, current)
        if literal or streak:
            self.pause_until = max(self.pause_until, now + float(retry_after or RETRY_AFTER_ROUNDING))
        return ThrottleDecision(True, True, self.pause_until)

    def _new_rate(self, now: float, sent_at: float, streak: bool, current: float) -> None:
        c = self.config
        measured = self.measured_rate()
        if len(self._syncs) == 1 and self._adopted:
            # a rate learned elsewhere (shared store) is better than a guess from one drain: keep it (a
            # little lower: this 429 says it is above the limit now) and its climb, until a second 429
            # of ours measures the rate
            rate = current * (1.0 - 2 * c.drift)
        elif len(self._syncs) == 1:
            rate, span, upper = self._first_estimate(sent_at)
            rate = min(rate, current)
            # a drain within a fraction of a second says little about the rate (the burst was small):
            # climb faster, up to RAMP_FAST per second; and reach the upper bound (what was accepted
            # per second, were the server's bucket empty from the start) in FIRST_CLIMB_SECONDS
            self._climb = max(
                c.ramp,
                RAMP_FAST * (1.0 - span / FIRST_WINDOW),
                math.log(max(1.0, upper / rate)) / FIRST_CLIMB_SECONDS,
            )
        elif measured is not None and measured[0] > 0:
            low, span = measured
            # the server's rate is at least ``low`` (what it accepted) and below the paced rate that
            # just drained its bucket; a wide gap means its bucket overflowed while we were slower
            high = self.last_sent_rate
            uncertainty = UNCERTAIN_REQUESTS / (low * span)
            rate = low * (1.0 + c.drift)
            if self.burst is None and self._first_window is not None:
                w_span, w_accepted = self._first_window
                self.burst = max(1.0, w_accepted - low * w_span)
            burst = self.burst if self.burst is not None else c.prior_burst_seconds * low
            gap = math.log(high / low) if high > low else 0.0
            if gap > 2 * uncertainty + 0.02 and self._unused(low) >= 0.8 * burst:
                # the server's bucket may have filled up while we were slower: ``low`` is too low
                rate = (low + high) / 2
            # climb through the measurement's uncertainty (and a wide gap to the rate that drained the
            # bucket) in about CLIMB_SECONDS, so a low measurement is corrected by the next 429
            wide = gap if gap > 3 * uncertainty + 0.02 else 0.0
            self._climb = (uncertainty + wide / 2) / CLIMB_SECONDS
            self.trace = (low, high, span, rate, self._unused(low), burst)
        else:
            rate = current
        if streak and not math.isinf(current):
            rate = min(rate, current * c.beta)
            self._streak = 0
        self._base_rate = self._cap(rate)
        self._base_at = now
        self.revision += 1

    def _first_estimate(self, sent_at: float) -> tuple[float, float, float]:
        """Rate from the first drain: in the last :data:`FIRST_WINDOW` seconds the server accepted its
        rate times that span plus at most its (prior) burst; the send rate is an upper bound."""
        c = self.config
        first = self.clock.first_send
        begin = max(sent_at - FIRST_WINDOW, first if first is not None else sent_at)
        span = sent_at - begin
        accepted = self._accepted_until(sent_at) - self._accepted_until(begin)
        self._first_window = (span, accepted)
        if accepted <= 0 or span <= 0:
            return c.min_rate, span, c.min_rate
        estimate = min(accepted / (c.prior_burst_seconds + span), accepted / span)
        return max(c.min_rate, estimate * FIRST_SAFETY), span, accepted / span

    def _unused(self, rate: float) -> float:
        """The most tokens a server of ``rate`` had saved between the last two sync points (sampled at
        :data:`UNUSED_SAMPLES` moments, from the same counts as the measurement: own or shared)."""
        (begin, c_begin), (end, _) = self._syncs[-2], self._syncs[-1]
        most = 0.0
        for i in range(1, UNUSED_SAMPLES + 1):
            t = begin + (end - begin) * i / UNUSED_SAMPLES
            most = max(most, rate * (t - begin) - (self._accepted_until(t) - c_begin))
        return most

    @property
    def shared_state(self) -> tuple[float, float, float]:
        """``(base rate, time it was set, climb per second)``: what a shared store publishes."""
        return self._base_rate, self._base_at, self._climb

    def adopt(self, rate: float, now: float, climb: float = 0.0) -> None:
        """Take over a rate (and its climb) another client learned (from a shared store), unless ours
        says the same."""
        if self.known_rate is not None or not rate > 0:
            return
        if (
            not self.discovering
            and abs(rate - self.rate_at(now)) <= ADOPT_TOLERANCE * rate
            and abs(climb - self._climb) <= 1e-4
        ):
            return
        self._adopted = True
        self._base_rate = self._cap(rate)
        self._base_at = now
        self._climb = climb

    def forget_syncs(self) -> None:
        """Start measuring afresh (the counts changed meaning: a shared store came or went)."""
        had = bool(self._syncs)
        self._syncs.clear()
        self._adopted = self._adopted or had

    def on_rate_info(
        self, now: float, rate: float | None, remaining: float | None, reset: float | None
    ) -> None:
        """The server said its limit in headers: take its rate as known, and pause when nothing remains."""
        if rate is not None and rate > 0:
            self.known_rate = rate
            self._base_rate = rate
            self._base_at = now
            self._climb = 0.0
        if remaining is not None and remaining < 1 and reset is not None and reset > 0:
            self.pause_until = max(self.pause_until, now + reset)
