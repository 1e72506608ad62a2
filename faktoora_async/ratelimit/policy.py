"""The adjustment policy: how the allowed rate moves on what the server answers (pure, fake-clock testable).

* **Slow start**: without ``max_rate`` the allowed rate starts at :data:`INITIAL_RATE` and doubles every
  :data:`SLOW_START_PERIOD` seconds while it is used, until the server first throttles.
* **First 429**: the rate becomes :data:`FIRST_BETA` times what the server accepted per second since the
  first request; that guess is a soft ceiling, tried again right below it and passed in small steps.
* **Later 429s** (a firm ceiling): everything sent at the current rate since it was set was accepted
  until the server's bucket ran dry, so the limit is about that rate times ``1 - bucket / drained``
  (``bucket`` starts at :data:`BUCKET_GUESS` seconds and is learned from two drains at two rates); the
  rate goes a little below that, never below 0.97 times the rate that held before the last step up.
  Throttles of requests sent before that decrease are echoes of the same overload and change nothing.
* **Increase**: every :data:`HOLD_SECONDS` without a throttle the rate steps up (:data:`STEP_UP` times
  while no ceiling is known, else half-way to ``1 - GAP`` of the ceiling); right below the ceiling it
  stays for :data:`PLATEAU_SECONDS`, then probes :data:`PROBE` above it, so a raised limit is found again.
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import RateClock

__all__ = ["AdjustmentPolicy", "PolicyConfig"]

#: Requests/second before anything is known: low enough not to flood a small limit at once.
INITIAL_RATE = 20.0
#: Slow start doubles the rate every this many seconds while the rate is used.
SLOW_START_PERIOD = 0.15
#: Never pace slower than this (requests/second): one request every two seconds still makes progress.
MIN_RATE = 0.5
#: After a firm throttle the rate drops by at most ``1 - BETA`` (multiplicative decrease, as in AIMD).
BETA = 0.7
#: After the first throttle (slow start overshot) the rate is this share of what was accepted.
FIRST_BETA = 0.9
#: Seconds a rate must hold without a throttle before it steps up.
HOLD_SECONDS = 1.5
#: Step factor while no ceiling is known.
STEP_UP = 1.15
#: Distance kept below a firm ceiling (a share of it).
GAP = 0.1
#: Seconds right below a ceiling before one probe above it.
PLATEAU_SECONDS = 30.0
#: How far above the ceiling a probe goes (a share).
PROBE = 0.03
#: First guess of the server's bucket, in seconds of its rate (learned from two drains).
BUCKET_GUESS = 0.15
#: The smallest decrease of a firm throttle (a share of the rate).
MIN_MARGIN = 0.01
#: Extra margin taken below the estimated limit after a firm throttle.
SAFETY = 0.02
#: A drain shorter than this (seconds), or fewer accepts than MIN_ACCEPTS, says too little to measure.
MIN_DRAIN = 0.25
MIN_ACCEPTS = 4


@dataclass(frozen=True)
class PolicyConfig:
    """The policy's tunables (defaults: the constants above)."""

    max_rate: float | None = None
    initial_rate: float = INITIAL_RATE
    slow_start_period: float = SLOW_START_PERIOD
    min_rate: float = MIN_RATE
    beta: float = BETA
    first_beta: float = FIRST_BETA
    hold_seconds: float = HOLD_SECONDS
    step_up: float = STEP_UP
    gap: float = GAP
    plateau_seconds: float = PLATEAU_SECONDS
    probe: float = PROBE
    bucket_guess: float = BUCKET_GUESS

    def __post_init__(self) -> None:
        if self.max_rate is not None and self.max_rate <= 0:
            raise ValueError("max_rate must be positive")
        if not (0 < self.beta < 1 and 0 < self.first_beta <= 1):
            raise ValueError("beta must be between 0 and 1")


class AdjustmentPolicy:
    """Decides the allowed rate from accepts and throttles; reads the :class:`RateClock` it is given."""

    def __init__(self, config: PolicyConfig, clock: RateClock, now: float) -> None:
        self.config = config
        self.clock = clock
        c = config
        self.min_rate = min(c.min_rate, c.max_rate) if c.max_rate else c.min_rate
        self.rate: float = c.max_rate if c.max_rate is not None else c.initial_rate
        self.slow_start = c.max_rate is None
        self.pause_until = 0.0
        self.decreases = 0
        # the lowest rate known to be too high (firm once a throttle at a paced rate said so; soft when
        # only guessed from slow start), and the highest rate that held before the last step up
        self._ceiling: float | None = None
        self._ceiling_firm = False
        self._bucket = c.bucket_guess
        self._prev_rate = 0.0
        self._last_firm: tuple[float, float] | None = None
        self._step_at = now
        self._ok_in_step = 0
        self._ok_since_resume = 0
        self._last_decrease = -1.0
        self._last_growth = now
        self._resumed_at = 0.0

    def _cap(self, rate: float) -> float:
        rate = max(self.min_rate, rate)
        return min(rate, self.config.max_rate) if self.config.max_rate is not None else rate

    def on_accept(self, now: float) -> None:
        """The server accepted a request (2xx/3xx/5xx): count it, and maybe step the rate up."""
        if now >= self._resumed_at:
            self._ok_since_resume += 1
            self._ok_in_step += 1
        if self.slow_start:
            elapsed = now - self._last_growth
            self._last_growth = now
            # grow only while the rate is actually used, so an idle client does not inflate it
            sent = self.clock.send_rate(now, since=self.pause_until)
            if (sent if sent is not None else self.rate) >= 0.5 * self.rate:
                growth = 2.0 ** (min(elapsed, 1.0) / self.config.slow_start_period)
                self.rate = self._cap(min(self.rate * growth, 1e6))
            return
        if self._last_decrease < 0 or now < self._resumed_at:
            return
        held = now - max(self._step_at, self._resumed_at)
        if held >= self.config.hold_seconds:
            self._step(now, held)

    def _step(self, now: float, held: float) -> None:
        c = self.config
        rate = self.rate
        used = self._ok_in_step >= 0.85 * rate * held
        ceiling = self._ceiling
        firm = self._ceiling_firm
        # a firm ceiling is approached up to ``gap`` below it, halving the distance each step; a soft one
        # (guessed from slow start) is tried right below it, then passed
        below = ceiling * (1.0 - (c.gap if firm else c.gap / 2)) if ceiling else 0.0
        if ceiling is not None and rate < below - 1e-9:
            target = min((rate + ceiling) / 2, below) if firm else below
            new_rate = min(rate * c.step_up, target)
        elif used and (ceiling is None or not firm):
            # no throttle has told us where the limit is (or only slow start did): keep climbing
            new_rate = rate * (c.step_up if ceiling is None else 1.0 + c.gap)
            self._ceiling = None
        elif held >= c.plateau_seconds:
            # a long plateau right below the last throttle: probe a little above it, rarely
            new_rate = rate * (1.0 + c.probe)
            if ceiling is not None:
                new_rate = max(new_rate, ceiling * (1.0 - c.gap / 4))
                if new_rate >= ceiling:
                    self._ceiling = None
        else:
            return
        self._prev_rate = rate
        self.rate = self._cap(new_rate)
        self._step_at = now
        self._ok_in_step = 0

    def on_throttle(self, now: float, retry_after: float | None, sent_at: float | None) -> bool:
        """A 429: lower the rate unless it echoes an earlier one; pause for ``retry_after``.

        Returns True when it was new information (not an echo).
        """
        echo = sent_at is not None and sent_at < self._last_decrease
        if not echo:
            self._decrease(now)
        if retry_after is not None and retry_after > 0:
            self.pause_until = max(self.pause_until, now + retry_after)
            if not echo:
                self._resumed_at = self.pause_until
                self._step_at = self.pause_until
        return not echo

    def _decrease(self, now: float) -> None:
        c = self.config
        rate = self.rate
        if self.slow_start:
            # what the server accepted while its bucket was drained (since the first request or the end
            # of the last pause): its rate plus whatever its bucket held at the start
            drained = now - max(self._resumed_at, self.clock.first_send or now)
            ok = self._ok_since_resume
            accepted = ok / drained if drained >= MIN_DRAIN and ok >= MIN_ACCEPTS else rate
            # the rate doubled past the limit: only a rough guess, refined by the next throttle
            est = max(self.min_rate, min(rate, accepted))
            new_rate = c.first_beta * est
            self._ceiling = est
            self._ceiling_firm = False
        else:
            new_rate = self._firm_estimate(now, rate)
        self.rate = self._cap(new_rate)
        self.slow_start = False
        self.decreases += 1
        self._prev_rate = 0.0
        self._last_decrease = now
        self._step_at = now
        self._ok_in_step = 0
        self._ok_since_resume = 0

    def _firm_estimate(self, now: float, rate: float) -> float:
        """The rate after a throttle at a paced rate: from how long the server's bucket took to drain."""
        c = self.config
        # the bucket started draining when the current rate was set or when the last pause ended;
        # everything sent since then at ``rate`` was accepted
        drained = now - max(self._step_at, self._resumed_at)
        est = rate
        if drained >= MIN_DRAIN and self._ok_in_step >= MIN_ACCEPTS:
            est = max(self.min_rate, min(rate, self._ok_in_step / drained))
        # sending at ``est`` emptied a bucket of (about ``bucket`` seconds of) the limit in ``drained``
        # seconds: the limit is about est * (1 - bucket / drained)
        margin = min(1.0 - c.beta, max(MIN_MARGIN, self._bucket / max(drained, 1e-3)))
        new_rate = est * (1.0 - margin - SAFETY)
        if self._prev_rate < est:
            # the rate before the last step up held for a while: the limit is about there or above
            new_rate = max(new_rate, 0.97 * self._prev_rate)
        last = self._last_firm
        if last is not None and abs(last[1] - drained) >= 0.5:
            # two drains of the same bucket at two rates: est * drained = bucket + limit * drained
            limit = (last[0] * last[1] - est * drained) / (last[1] - drained)
            if 0 < limit < min(est, last[0]):
                new_rate = 0.97 * limit
                self._bucket = min(2.0, max(c.bucket_guess, (est - limit) * drained / limit))
        new_rate = min(new_rate, est * (1.0 - MIN_MARGIN))
        self._last_firm = (est, drained)
        self._ceiling = est
        self._ceiling_firm = True
        return new_rate
