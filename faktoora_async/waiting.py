"""The one waiter: until an invoice reaches a state, fed by webhooks or by polling on a learned schedule.

``client.invoices.wait()`` and the bulk engine both wait here, so they share one schedule per client.

Polling (no webhook has been fed to the client's :class:`~faktoora_async.webhooks.WebhookHub`): a few
*probe* waits poll from submission on with short, growing pauses and so measure how long invoices take
from submission to the target state; every other wait sends its first poll when ``FIRST_POLL_QUANTILE`` of
the measured invoices were ready (a probe still under way counts as slower than all), and after a miss
re-polls after a short pause (a tenth of the typical time, growing).  One wait in ``PROBE_EVERY`` probes
again, so the measurements follow a server that speeds up or slows down.

Webhook mode (the hub has been fed): a wait listens to the hub and sends a status GET only as a safety
net, ``max(2 x expected time, safety_poll)`` after submission (the windows after that double).  With
``confirm=True`` an event that says "done" is confirmed with one GET before the wait returns.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from . import errors
from .models import InvoiceStatus
from .models.responses import status_reached
from .ratelimit.priority import background
from .webhooks import WebhookHub

__all__ = ["PollSchedule", "WaitStats", "Waiter"]

PROBES = 8  # waits measuring the time to ready at a time
PROBE_EVERY = 64  # after the first probes, one wait in this many probes again
PROBE_FIRST_PAUSE = 0.1  # s: a probe's first pause, growing by PROBE_GROWTH after each miss
PROBE_GROWTH = 1.25
PROBE_LATE = 0.5  # s: once MIN_SAMPLES are measured, a wait that starts later than this after submission
#                   does not probe (its first poll would only bound the time from above: invoices queued
#                   behind a full waiting stage "measured" 12 s on a server that takes 0.5-2 s)
SAMPLE_WINDOW = 32  # measurements the estimate is taken from (the latest)
MIN_SAMPLES = 4  # measurements needed before the estimate is used
FIRST_POLL_QUANTILE = 0.85  # first poll when this share of measured invoices was ready
RECHECK = 0.25  # s between looks at the estimate while a wait has none yet
NO_ESTIMATE_WAIT = 10.0  # s after submission: the latest first poll of a wait while nothing is measured
REPOLL_SHARE = 0.1  # a re-poll after a miss comes after this share of the typical time to ready ...
MIN_REPOLL = 0.05  # ... but no sooner (s)
REPOLL_GROWTH = 1.5
EARLY_GAP = 0.25  # s: a wait polls early (on a slot nobody else wants) at most this often


@dataclass
class WaitStats:
    """Counters of one waiter (deltas of these are what a bulk run reports)."""

    waits: int = 0
    polls: int = 0
    first_poll_hits: int = 0  # first polls at the estimate that found the invoice ready
    webhook_ready: int = 0  # waits ended by a webhook event without a confirming GET
    early_polls: int = 0  # polls sent before the schedule's time, on slots nobody else wanted
    early_hits: int = 0  # ...that found the invoice ready


class PollSchedule:
    """The learned schedule (pure state, no I/O): measurements of the time from submission to ready."""

    def __init__(self) -> None:
        self.samples: deque[float] = deque(maxlen=SAMPLE_WINDOW)
        self.probing = 0
        self.started = 0

    def estimate(self) -> float | None:
        """Seconds after submission by which ``FIRST_POLL_QUANTILE`` of invoices were ready, or None while
        too few probes have finished (a probe still under way counts as slower than every sample)."""
        n = len(self.samples) + self.probing
        k = math.ceil(FIRST_POLL_QUANTILE * n) - 1
        if len(self.samples) < MIN_SAMPLES or k >= len(self.samples):
            return None
        return sorted(self.samples)[max(0, k)]

    def expected(self) -> float:
        """The typical time to ready (1 s before anything was measured)."""
        est = self.estimate()
        return est if est is not None else max(self.samples, default=1.0)

    def wants_probe(self, refresh: bool) -> bool:
        return self.probing < PROBES and (len(self.samples) < PROBES or refresh)

    def repoll_interval(self, cap: float) -> float:
        est = self.estimate()
        base = REPOLL_SHARE * est if est is not None else RECHECK
        return min(max(MIN_REPOLL, base), cap)

    def record(self, submitted: float, last_miss: float, found: float) -> None:
        """A probe found the invoice ready at ``found`` after a miss at ``last_miss``.

        A narrow window is a measurement (its middle); a first poll that hit (no miss since submission)
        is an upper bound, kept too, so that probes which started late (a stalled loop, a busy server)
        still let the schedule learn instead of handing the probe slot on forever; a wide window after a
        miss says little and is dropped.
        """
        if last_miss <= submitted:
            self.samples.append(max(0.0, found - submitted))
        elif found - last_miss <= max(0.2, 0.5 * (found - submitted)):
            self.samples.append(max(0.0, (last_miss + found) / 2 - submitted))


Fetch = Callable[[], Awaitable[InvoiceStatus]]
Reached = Callable[[InvoiceStatus], bool]


class Waiter:
    """Waits for invoices of one client (see the module docstring).  ``poll_cap``: the longest pause
    between two polls; ``safety_poll``: the shortest webhook-mode window before a safety GET; ``spare``:
    the governor's "a slot is free and nobody wants it" (polls are sent early on such slots)."""

    def __init__(
        self,
        hub: WebhookHub,
        *,
        poll_cap: float = 5.0,
        safety_poll: float = 10.0,
        spare: Callable[[], bool] | None = None,
    ) -> None:
        self.hub = hub
        #: True when a request now would use rate capacity that is otherwise lost (the client's governor)
        self.spare = spare
        self.poll_cap = poll_cap
        self.safety_poll = safety_poll
        self.schedule = PollSchedule()
        self.stats = WaitStats()

    async def wait(
        self,
        faktoora_id: str,
        fetch: Fetch,
        reached: Reached,
        target: str,
        *,
        timeout: float,
        submitted_at: float | None = None,
        confirm: bool = True,
        webhooks: bool | None = None,
    ) -> InvoiceStatus:
        """Until ``reached(status)``; ``target`` is the state name events are compared with.

        ``submitted_at`` (``time.time()``) when known, else the invoice is polled at once (it may well be
        ready).  ``webhooks``: True waits on the hub from the start, False never listens, None switches to
        it once the hub has been fed.  Raises GenerationFailedError, WaitTimeoutError, or what a status
        GET raised (NotFoundError for an id the server does not know).
        """
        self.stats.waits += 1
        w = _Wait(self, faktoora_id, fetch, reached, target, confirm, webhooks)
        with anyio.move_on_after(timeout if math.isfinite(timeout) else None):
            return await w.run(submitted_at)
        last = w.last
        state = (last.invoice_status or last.job_status) if last is not None else None
        raise errors.WaitTimeoutError(
            f"invoice {faktoora_id} did not reach {target} within {timeout:g}s (last: {state or w.problem})",
            faktoora_id=faktoora_id,
            last_status=last,
        )


class _Wait:
    """One wait's state (kept off the shared Waiter)."""

    def __init__(
        self,
        waiter: Waiter,
        faktoora_id: str,
        fetch: Fetch,
        reached: Reached,
        target: str,
        confirm: bool,
        webhooks: bool | None,
    ) -> None:
        self.w = waiter
        self.fid = faktoora_id
        self.fetch = fetch
        self.reached = reached
        self.target = target
        self.confirm = confirm
        self.webhooks = webhooks
        self.last: InvoiceStatus | None = None
        self.problem = "no status yet"
        self.disproved: str | None = None  # an event state the server contradicted: not trusted again
        self._early_at = -math.inf  # when this wait last polled early (on a spare slot)

    # -- pieces -----------------------------------------------------------------------------------
    def _hub_mode(self) -> bool:
        if self.webhooks is False:
            return False
        return bool(self.webhooks) or self.w.hub.active

    def _event_says_done(self) -> bool:
        seen = self.w.hub.latest(self.fid)
        return seen is not None and seen != self.disproved and status_reached(seen, self.target)

    async def _poll(self) -> bool:
        """One status GET; True when the target is reached."""
        self.w.stats.polls += 1
        try:
            with background():  # a poll gives way to requests waiting for a slot (downloads, creates)
                status = await self.fetch()
        except errors.RateLimitError as exc:
            # a throttled poll says nothing about the invoice: the schedule polls again (the governor
            # paces it, the deadline still holds); only a wait that never gets an answer times out
            self.problem = f"status polls throttled ({exc.status} after the transport's retries)"
            return False
        self.last = status
        if status.failed:
            raise errors.GenerationFailedError(
                f"invoice {self.fid} could not be generated: {status.error or 'no reason given'}",
                faktoora_id=self.fid,
                status=status,
            )
        if self.reached(status):
            return True
        self.problem = f"still {status.invoice_status or status.job_status or 'processing'}"
        return False

    async def _pause(self, seconds: float) -> bool:
        """Sleep ``seconds``; True (early) when an event says the target is reached."""
        if self.webhooks is False:
            await anyio.sleep(seconds)
            return False
        end = time.monotonic() + seconds
        while True:
            if self._event_says_done():
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            if await self.w.hub.wait_for_change(self.fid, self.w.hub.latest(self.fid), left) is None:
                return self._event_says_done()

    async def _done_by_event(self) -> InvoiceStatus | None:
        """An event said done: confirm it (or trust it); None when the server disagrees."""
        if not self.confirm:
            self.w.stats.webhook_ready += 1
            self.last = InvoiceStatus(invoice_status=self.w.hub.latest(self.fid))
            return self.last
        if await self._poll():
            assert self.last is not None
            return self.last
        self.disproved = self.w.hub.latest(self.fid)
        return None

    def _early_poll_ok(self, submitted: float, now: float) -> bool:
        """A poll before the schedule's time is free when the governor has a slot nobody wants (at the
        start of a run, while work is still scarce; at its end): only for invoices at least as old as
        the fastest one measured, and at most one every :data:`EARLY_GAP` seconds per wait."""
        spare, samples = self.w.spare, self.w.schedule.samples
        if spare is None or not samples or now - self._early_at < EARLY_GAP:
            return False
        return now - submitted >= min(samples) and spare()

    # -- strategies ---------------------------------------------------------------------------------
    async def run(self, submitted_at: float | None) -> InvoiceStatus:
        if self._event_says_done():  # already announced
            result = await self._done_by_event()
            if result is not None:
                return result
            return await self._repoll(self.w.schedule.repoll_interval(self.w.poll_cap))
        if submitted_at is None:  # unknown age: it may well be ready, ask at once
            if await self._poll():
                assert self.last is not None
                return self.last
            return await self._repoll(self.w.schedule.repoll_interval(self.w.poll_cap))
        if self._hub_mode():
            return await self._on_hub(submitted_at)
        return await self._scheduled(submitted_at)

    async def _scheduled(self, submitted: float) -> InvoiceStatus:
        schedule = self.w.schedule
        schedule.started += 1
        refresh = schedule.started % PROBE_EVERY == 0
        timed = False
        while True:
            if schedule.wants_probe(refresh) and (
                time.time() - submitted < PROBE_LATE or len(schedule.samples) < MIN_SAMPLES
            ):
                return await self._probe(submitted)
            est = schedule.estimate()
            # no estimate yet (the probes are still measuring; one that ends without a measurement hands
            # its slot over at the top of this loop): wait for one, but never longer than NO_ESTIMATE_WAIT
            due = submitted + (est if est is not None else max([NO_ESTIMATE_WAIT, *schedule.samples]))
            timed = est is not None
            now = time.time()
            if now >= due:
                break
            if self._early_poll_ok(submitted, now):
                self._early_at = now
                self.w.stats.early_polls += 1
                if await self._poll():
                    self.w.stats.early_hits += 1
                    assert self.last is not None
                    return self.last
                continue
            # waits submitted together would look at the same moments: a jittered pause spreads their
            # looks for a spare slot over time (each look that finds one uses it)
            if await self._pause(min(due - now, RECHECK * (0.5 + random.random()))):
                result = await self._done_by_event()
                if result is not None:
                    return result
            if self._hub_mode():
                return await self._on_hub(submitted)
        if await self._poll():
            if timed:
                self.w.stats.first_poll_hits += 1
            assert self.last is not None
            return self.last
        return await self._repoll(schedule.repoll_interval(self.w.poll_cap))

    async def _probe(self, submitted: float) -> InvoiceStatus:
        schedule = self.w.schedule
        schedule.probing += 1
        try:
            last_miss = submitted
            pause = PROBE_FIRST_PAUSE
            while True:
                if await self._pause(pause):
                    result = await self._done_by_event()
                    if result is not None:
                        return result
                if self._hub_mode():
                    return await self._on_hub(submitted)
                asked = time.time()
                if await self._poll():
                    schedule.record(submitted, last_miss, asked)
                    assert self.last is not None
                    return self.last
                last_miss = asked
                pause = min(pause * PROBE_GROWTH, self.w.poll_cap)
        finally:
            schedule.probing -= 1

    async def _repoll(self, interval: float) -> InvoiceStatus:
        while True:
            if await self._pause(interval):
                result = await self._done_by_event()
                if result is not None:
                    return result
            if self._hub_mode() and self.disproved is None:
                return await self._on_hub(time.time())
            if await self._poll():
                assert self.last is not None
                return self.last
            interval = min(interval * REPOLL_GROWTH, self.w.poll_cap)

    async def _on_hub(self, submitted: float) -> InvoiceStatus:
        window = max(2.0 * self.w.schedule.expected(), self.w.safety_poll)
        cap = 4.0 * window
        due = submitted + window
        while True:
            if await self._pause(max(0.0, due - time.time())):
                result = await self._done_by_event()
                if result is not None:
                    return result
                # the server disagreed with the event: poll soon and often until it agrees
                return await self._repoll(self.w.schedule.repoll_interval(self.w.poll_cap))
            if await self._poll():  # the safety net
                assert self.last is not None
                return self.last
            window = min(2.0 * window, cap)
            due = time.time() + window
