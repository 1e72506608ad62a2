"""The client-wide rate governor: the async face over the token bucket, rate clock and policy.

Every attempt of a client goes through it (the transport is its only caller)::

    sent_at = await limiter.acquire()          # wait for a slot
    try:
        ...send...                             # then exactly one of:
        limiter.on_response(status, headers, sent_at, retry_after)
        limiter.on_transport_error(sent_at)    # (no response came)
    finally:
        limiter.release()

Without a store it does no I/O besides ``anyio.sleep`` and is shared by every task of one client.  With
a :class:`~faktoora_async.ratelimit.store.RateStore` (``store=``), the slots come from the store's
bucket for ``store_key``, shared by every client naming the same store: the rate one governor learns and
the pauses a server asks for reach all of them, and each measures what *all* of them sent between two
429s.  When the store is unreachable the governor carries on with its own bucket at the rate it knows,
logs one warning, and tries the store again every :data:`STORE_RETRY` seconds.
"""

from __future__ import annotations

import bisect
import collections
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import overload

import anyio

from .bucket import TokenBucket
from .clock import RateClock
from .headers import RateLimitInfo, parse_rate_headers
from .policy import RETRY_AFTER_ROUNDING, AdjustmentPolicy, PolicyConfig
from .priority import is_background
from .store import RateStore, SharedRate, StoreUnavailable

__all__ = ["AdaptiveRateLimiter", "RateLimiterStats"]

logger = logging.getLogger("faktoora_async.ratelimit")

#: Seconds of the allowed rate that may be spent at once after an idle spell (the client bucket's size).
BURST_SECONDS = 0.1
#: Span of the measured send rate (seconds).
WINDOW = 1.0
#: While callers wait for the discovery in-flight cap, they look again at least this often (seconds):
#: the cap also grows with time, not only when a request finishes.
CAP_RECHECK = 0.05
#: A background request (a status poll) gives way to waiting foreground ones for at most this many seconds
#: from its acquire() on; then it competes like them (no starvation under a steady stream of work).
MAX_YIELD = 5.0
#: After a rate store failed, it is tried again this many seconds later (meanwhile: in-process bucket).
STORE_RETRY = 5.0
#: A store's "wait" is slept at most this long before asking again (its shared rate may change).
STORE_MAX_WAIT = 0.5
#: Once the rate is known, a slot is spare only while the client sent less than this share of the rate
#: over the last :data:`WINDOW`: the server's bucket then fills beyond what the pace will ever spend.
#: Busier than that, an unused slot's token stays in the server's bucket and a later request spends it,
#: so a speculative request (an early poll that misses) would cost a token of real work.
SPARE_SHARE = 0.5
#: Own send times and the store's counter at each, kept for measuring (bounded memory).
SHARED_HISTORY = 8192


@dataclass(frozen=True)
class RateLimiterStats:
    """A governor's counters: rate now, slots handed out, 429s, new 429s (sync points), pause end, and
    how often a caller went to sleep waiting for a slot (``waits``: about one per slot that had to be
    waited for, however many callers wait)."""

    rate: float | None
    acquired: int
    throttles: int
    decreases: int
    paused_until: float
    waits: int = 0


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
        store: RateStore | None = None,
        store_key: str = "default",
        store_retry: float = STORE_RETRY,
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
        self.bucket = TokenBucket(rate, self._capacity(rate), now=now, tokens=1.0)
        self._callers = 0  # waiting or sending
        self._sending = 0  # acquired, not yet released
        self._freed: anyio.Event | None = None
        #: foreground callers waiting for a slot, in arrival order (background ones give way to them);
        #: each one's event is set when it becomes the head
        self._line: collections.deque[anyio.Event] = collections.deque()
        self._foreground_clear: anyio.Event | None = None  # set when the last of them got its slot
        self._background_lock: anyio.Lock | None = None  # background callers compete one at a time
        self._throttles = 0
        self._waits = 0
        self.last_headers: RateLimitInfo | None = None
        self.store = store
        self.store_key = store_key
        self.store_retry = store_retry
        self._degraded = False  # the store failed: own bucket until _store_retry_at
        self._store_retry_at = 0.0
        self._shared_sent: list[float] = []  # own send times in shared mode...
        self._shared_count: list[int] = []  # ...and the store's slot counter at each
        self._shared_throttled = 0
        self._pending_throttles = 0
        # own 429s the store's counter did not show yet (pending, or published but no grant since):
        # subtracted too, or the 429s of a drain would count as accepted until they make the round trip
        self._unseen_throttles = 0
        self._pending_pause: float | None = None
        self._published = -1  # the policy revision last published
        self._store_lock: anyio.Lock | None = None
        if store is not None:
            self.policy.counts = self._shared_accepted_until

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
            self._waits,
        )

    def _sync_bucket(self, now: float) -> None:
        rate = self.policy.rate_at(now)
        if rate != self.bucket.rate:
            self.bucket.set_rate(rate, now, self._capacity(rate))

    # ------------------------------------------------------------------ slots

    def try_acquire(self, *, alone: bool = False) -> float:
        """Take a slot and return 0.0, or the seconds to wait (``math.inf``: until a request finishes)."""
        return self._try_at(self._clock(), alone)

    def _try_at(self, now: float, alone: bool) -> float:
        policy = self.policy
        pause = policy.pause_until
        if now < pause:
            return pause - now
        if not alone:  # (the in-flight cap never holds back a caller who is alone)
            cap = policy.in_flight_cap(now)
            if cap is not None and self._sending >= cap:
                policy.on_saturated(now)
                return math.inf
        self._sync_bucket(now)
        if alone and policy.discovering:
            # one sequential caller is no flood: it is not paced while nothing is known (a token if there
            # is one, else one taken anyway)
            self.bucket.force_take(now)
            delay = 0.0
        else:
            delay = self.bucket.take(now)
            if delay > 0 and policy.discovering:
                policy.on_saturated(now)
        if delay <= 0:
            self._sending += 1
            self.rate_clock.on_send(now)
        return delay

    def acquire_nowait(self) -> float | None:
        """:meth:`acquire` without a coroutine when a slot is free at once: its send time, else None.

        None means "``await acquire()``" (the slot needs a wait, or a shared store is to be asked); a
        returned time is paired with :meth:`release` like the one of :meth:`acquire`.
        """
        if self.store is not None or self._line:  # (nobody overtakes a caller waiting in line)
            return None
        self._callers += 1
        now = self._clock()
        if self._try_at(now, self._callers == 1) <= 0:
            return now
        self._callers -= 1
        return None

    async def acquire(self) -> float:
        """Wait for a slot; returns the monotonic time at which the request may be sent.

        Pair every acquire with :meth:`release` once the response (or failure) is in.  A request made
        inside :func:`~.priority.background` gets a slot only while no other request waits for one; such
        requests queue in order and compete for slots one at a time (no herd of waking polls).
        """
        self._callers += 1
        try:
            if not is_background():
                return await self._acquire(None)
            yield_until = self._clock() + MAX_YIELD
            if self._background_lock is None:
                self._background_lock = anyio.Lock()
            async with self._background_lock:
                return await self._acquire(yield_until)
        except BaseException:
            self._callers -= 1
            raise

    async def _acquire(self, yield_until: float | None) -> float:
        """``yield_until``: a background caller gives way to waiting foreground ones until then (after
        that it competes like them: a steady stream of foreground requests cannot starve it).

        Foreground callers that must wait form a line: only its head waits for the next slot (sleeps
        until the next token, or until a request finishes); the others wait for the one ahead of them
        to get its slot.  One wake-up per slot, however many wait (without the line, every waiter woke
        at every token and all but one went back to sleep), and slots go in arrival order.
        """
        if yield_until is not None:
            got = await self._wait_for_slot(yield_until)
            if got is not None:
                return got
            # it gave way long enough: from now on it waits in line like the foreground callers
        if not self._line:
            delay = await self._try_once()
            if delay <= 0:
                return self._clock()
        ticket = anyio.Event()
        self._line.append(ticket)
        try:
            if self._line[0] is not ticket:
                await ticket.wait()  # set when this caller became the head
            return await self._wait_for_slot(None)
        finally:
            if self._line and self._line[0] is ticket:
                self._line.popleft()
                if self._line:
                    self._line[0].set()
            else:
                self._line.remove(ticket)
            if not self._line and self._foreground_clear is not None:
                self._foreground_clear.set()
                self._foreground_clear = None

    async def _try_once(self) -> float:
        """One attempt at a slot: 0.0 taken, else the seconds to wait (``math.inf``: until a release)."""
        if not self._use_store():
            return self.try_acquire(alone=self._callers == 1)
        # one caller at a time asks the store (the others queue here, not at the store)
        if self._store_lock is None:
            self._store_lock = anyio.Lock()
        async with self._store_lock:
            delay = await self._try_shared()
            while 0 < delay < math.inf and self._use_store():
                await anyio.sleep(delay)
                delay = await self._try_shared()
        return delay

    @overload
    async def _wait_for_slot(self, yield_until: None) -> float: ...
    @overload
    async def _wait_for_slot(self, yield_until: float) -> float | None: ...

    async def _wait_for_slot(self, yield_until: float | None) -> float | None:
        """Wait until a slot is taken: the head of the line (``yield_until`` None), or the one background
        caller, which gives way while anyone waits in line and returns None at ``yield_until``."""
        while True:
            if yield_until is not None:
                while self._line:
                    left = yield_until - self._clock()
                    if left <= 0:
                        return None
                    if self._foreground_clear is None:
                        self._foreground_clear = anyio.Event()
                    with anyio.move_on_after(left):
                        await self._foreground_clear.wait()
            delay = await self._try_once()
            if delay <= 0:
                return self._clock()
            self._waits += 1
            if math.isinf(delay):
                if self._freed is None:
                    self._freed = anyio.Event()
                with anyio.move_on_after(CAP_RECHECK):
                    await self._freed.wait()
            else:
                await anyio.sleep(delay)

    # ------------------------------------------------------------------ the shared store

    def _use_store(self) -> bool:
        if self.store is None:
            return False
        return not self._degraded or self._clock() >= self._store_retry_at

    def _store_failed(self, exc: BaseException) -> None:
        now = self._clock()
        if not self._degraded:
            mark = getattr(self.store, "mark_down", None)
            if mark is None or mark():  # one warning per store, not per client sharing it
                logger.warning(
                    "rate store unavailable (%s); continuing with the in-process rate governor", exc
                )
            self._degraded = True
            self.policy.counts = None
            self.policy.forget_syncs()
        self._store_retry_at = now + self.store_retry

    def _store_back(self) -> None:
        if self._degraded:
            mark = getattr(self.store, "mark_up", None)
            if mark is None or mark():
                logger.info("rate store reachable again; sharing the rate budget again")
            self._degraded = False
            self.policy.counts = self._shared_accepted_until
            self.policy.forget_syncs()
            self._published = -1

    def _shared_accepted_until(self, when: float) -> int:
        """Slots every client took up to ``when`` (as of our own send just before it) minus all 429s."""
        i = bisect.bisect_right(self._shared_sent, when)
        taken = self._shared_count[i - 1] if i else 0
        return taken - self._shared_throttled - self._unseen_throttles

    async def _flush(self) -> None:
        """Send what the store should know: 429s counted, a pause, a newly learned rate."""
        assert self.store is not None
        revision = self.policy.revision
        if not (self._pending_throttles or self._pending_pause or revision != self._published):
            return
        rate = None
        if revision != self._published and not self.policy.discovering:
            base, at, climb = self.policy.shared_state
            rate = SharedRate(base, at - self._clock(), climb)
        throttles, pause = self._pending_throttles, self._pending_pause
        self._pending_throttles, self._pending_pause = 0, None
        self._published = revision
        await self.store.report(self.store_key, throttles=throttles, pause=pause, rate=rate)

    async def _try_shared(self) -> float:
        """One attempt at a slot from the store; 0.0 taken, else seconds to wait (inf: until a release)."""
        assert self.store is not None
        now = self._clock()
        pause = self.policy.pause_until
        if now < pause:
            return pause - now
        cap = self.policy.in_flight_cap(now)
        if cap is not None and self._sending >= cap:
            self.policy.on_saturated(now)
            return math.inf
        rate = self.policy.rate_at(now)
        burst = self._capacity(rate)
        try:
            await self._flush()
            flushed = self.policy.revision
            grant = await self.store.take(self.store_key, rate, burst)
        except StoreUnavailable as exc:
            self._store_failed(exc)
            return 1e-6  # ask again at once, from the in-process bucket
        self._store_back()
        now = self._clock()
        self._shared_throttled = max(self._shared_throttled, grant.throttled)
        self._unseen_throttles = self._pending_throttles  # the grant counts every one published before it
        if grant.rate is not None and self.policy.revision == flushed:
            # our own news went out just before (_flush): what the store says is the newest word; unless
            # a 429 came while the store answered: then ours is newer, and the next flush publishes it
            self.policy.adopt(grant.rate, now, grant.climb)
            self._published = self.policy.revision
        if grant.wait > 0:
            if self.policy.discovering:
                self.policy.on_saturated(now)
            return min(grant.wait, STORE_MAX_WAIT)
        self._sending += 1
        self.rate_clock.on_send(now)
        self._shared_sent.append(now)
        self._shared_count.append(grant.sent)
        if len(self._shared_sent) > SHARED_HISTORY:
            del self._shared_sent[: SHARED_HISTORY // 2]
            del self._shared_count[: SHARED_HISTORY // 2]
        return 0.0

    def release(self) -> None:
        """The request of an :meth:`acquire` is finished."""
        self._callers = max(0, self._callers - 1)
        self._sending = max(0, self._sending - 1)
        freed, self._freed = self._freed, None
        if freed is not None:
            freed.set()

    def retry_delay(self, retry_after: float | None) -> float:
        """How long the request a 429 concerns should wait before its retry (for the transport).

        A ``Retry-After`` above a second (or a pause the governor imposes) is honoured; one of up to a
        second is a rounded-up "very soon": the retry then only waits for the governor's next slot,
        which :meth:`acquire` gives it anyway.
        """
        now = self._clock()
        wait = max(0.0, self.policy.pause_until - now)
        if retry_after is not None and retry_after > RETRY_AFTER_ROUNDING:
            wait = max(wait, retry_after)
        return wait

    def spare(self) -> bool:
        """True when a request sent now takes a slot nobody else is waiting for and the client's bucket
        is full: capacity that is lost unless something uses it now (e.g. a status poll sent before it
        is due).  A bucket that is not full keeps its tokens for the requests to come, so a speculative
        request then would take a token from them.  False while a shared store is in use (the slot may
        be another's)."""
        if self.store is not None or self._callers > self._sending:
            return False
        now = self._clock()
        if now < self.policy.pause_until:
            return False
        cap = self.policy.in_flight_cap(now)
        if cap is not None and self._sending >= cap:
            return False
        self._sync_bucket(now)
        if self.bucket.level(now) < max(1.0, self.bucket.capacity - 1.0):
            return False
        if self.policy.discovering:  # the server's bucket is not known to be empty: its burst overflows
            return True
        rate = self.policy.rate_at(now)
        return (
            math.isinf(rate) or self.rate_clock.sent.count_after(now - WINDOW) < SPARE_SHARE * rate * WINDOW
        )

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
        info = parse_rate_headers(headers) if headers else None
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
        if decision.new and logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "429 (new): rate %.2f/s, measured %s, pause %.2fs",
                self.policy.rate_at(now),
                self.policy.measured_rate(),
                max(0.0, decision.pause_until - now),
            )
        if decision.drain:
            self._sync_bucket(now)
            self.bucket.drain(now, 0.0)
        if self.store is not None:
            self._pending_throttles += 1
            self._unseen_throttles += 1
            if decision.pause_until > now:
                self._pending_pause = max(self._pending_pause or 0.0, decision.pause_until - now)

    # ------------------------------------------------------------------ the transport of today

    def on_success(self) -> None:
        """Thin wrapper kept for today's transport: a response that was not a 429."""
        now = self._clock()
        self.rate_clock.on_accept(now)
        self.policy.on_accept(now)

    def on_throttle(self, retry_after: float | None = None, *, sent_at: float | None = None) -> None:
        """Thin wrapper kept for today's transport: a 429 (``retry_after`` seconds, ``sent_at``)."""
        self._throttle(self._clock(), retry_after, sent_at)
