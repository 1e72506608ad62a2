"""Status polls and the rate budget (issue 14): polls give way to work, and use slots nobody wants.

* A request made inside ``ratelimit.background()`` (every status poll of the waiter) gets a governor slot
  only while no foreground request (download, create) waits for one: when the rate is the bottleneck,
  a poll sent before a waiting download only finds another invoice to download later.
* ``AdaptiveRateLimiter.spare()`` says a slot is free at once and nobody waits for it; the waiter then
  polls an invoice before its scheduled first poll (capacity that is lost otherwise: at the start of a
  run, at its end).
* A new 429 a few requests after the last sync point measures nothing and only nudges the rate down
  (one such 429 used to "measure" 8 req/s on a 100 req/s sandbox and stall a bulk run for seconds).
"""

from __future__ import annotations

import time

import anyio
import pytest

from faktoora_async.client import FaktooraClient
from faktoora_async.einvoice.generate import generate_invoices
from faktoora_async.ratelimit import AdaptiveRateLimiter, governor
from faktoora_async.ratelimit.policy import MIN_MEASURE_REQUESTS, NUDGE
from faktoora_async.ratelimit.priority import background, is_background
from faktoora_async.sandbox import Sandbox


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_background_is_scoped_to_its_block() -> None:
    assert not is_background()
    with background():
        assert is_background()
        with background():
            assert is_background()
        assert is_background()
    assert not is_background()


@pytest.mark.anyio
async def test_a_waiting_foreground_request_gets_the_next_slot_before_earlier_background_ones() -> None:
    lim = AdaptiveRateLimiter(max_rate=5.0)  # a slot every 200 ms (a wide margin on a busy machine)
    await lim.acquire()  # the bucket's one token: everyone below has to wait for the next ones
    lim.release()
    order: list[str] = []

    async def call(name: str, low: bool) -> None:
        if low:
            with background():
                await lim.acquire()
        else:
            await lim.acquire()
        order.append(name)
        lim.release()

    async with anyio.create_task_group() as tg:
        for i in range(4):
            tg.start_soon(call, f"poll{i}", True)
        await anyio.sleep(0.01)  # the polls wait first...
        tg.start_soon(call, "download", False)  # ...the download comes later and still goes first
    assert order[0] == "download", order
    assert sorted(order[1:]) == [f"poll{i}" for i in range(4)]  # and the polls are not starved


@pytest.mark.anyio
async def test_a_steady_stream_of_foreground_requests_does_not_starve_a_background_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(governor, "MAX_YIELD", 0.3)
    lim = AdaptiveRateLimiter(max_rate=50.0)  # a slot every 20 ms, always wanted by 4 callers
    done = anyio.Event()
    got_after: list[float] = []

    async def foreground() -> None:
        while not done.is_set():
            await lim.acquire()
            lim.release()

    async def poll() -> None:
        started = time.monotonic()
        with background():
            await lim.acquire()
        got_after.append(time.monotonic() - started)
        lim.release()
        done.set()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(foreground)
            await anyio.sleep(0.05)
            tg.start_soon(poll)
    (after,) = got_after
    assert after >= 0.25  # it gave way while the foreground callers waited...
    assert after < 3.0  # ...and then competed like them


@pytest.mark.anyio
async def test_background_requests_go_at_once_when_nobody_waits() -> None:
    lim = AdaptiveRateLimiter(max_rate=1000.0)
    started = time.monotonic()
    with background():
        for _ in range(5):
            await lim.acquire()
            lim.release()
    assert time.monotonic() - started < 0.5


def test_spare_means_a_free_token_and_no_pause() -> None:
    clock = FakeClock(0.0)
    lim = AdaptiveRateLimiter(max_rate=10.0, clock=clock)
    assert lim.spare()  # starts with a token, nobody waits
    assert lim.acquire_nowait() is not None  # take it (sending)
    assert not lim.spare()  # no token now
    clock.now += 0.2  # two tokens' worth of time later (the bucket holds one: 10/s x 0.1 s)
    assert lim.spare()
    lim.release()
    lim.on_response(429, {}, clock.now, 5.0)  # the server asks for a real pause
    assert not lim.spare()
    clock.now += 5.1
    assert lim.spare()


def test_a_busy_client_has_no_spare_slot_even_with_a_full_bucket() -> None:
    """A token the pace leaves unused while the client is busy stays in the server's bucket and a later
    request spends it: an early poll that missed would cost a token of real work.  So a slot is spare only
    with the client's bucket full *and* less than SPARE_SHARE of the rate sent over the last WINDOW."""
    clock = FakeClock(0.0)
    lim = AdaptiveRateLimiter(max_rate=100.0, clock=clock)  # bucket of 10 tokens (0.1 s of the rate)
    for _ in range(60):  # 60 requests in 0.6 s: above half the rate
        assert lim.acquire_nowait() is not None
        lim.release()
        clock.now += 0.01
    clock.now += 0.05  # 5 tokens of 10: not full
    assert not lim.spare()
    clock.now += 0.1  # full now, but 60 requests were sent within the last second
    assert lim.bucket.level(clock.now) >= lim.bucket.capacity - 1.0
    assert not lim.spare()
    assert governor.WINDOW == 1.0 and governor.SPARE_SHARE == 0.5
    clock.now = 1.12  # the last second holds the sends after 0.12 s: 48 (< 50)
    assert lim.spare()


@pytest.mark.anyio
async def test_no_spare_slot_while_a_caller_waits() -> None:
    lim = AdaptiveRateLimiter(max_rate=5.0)  # one token, then one every 0.2 s
    await lim.acquire()
    lim.release()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lim.acquire)  # waits ~0.2 s for the next token
        await anyio.sleep(0.15)
        assert not lim.spare()
    lim.release()


def test_a_429_right_after_a_sync_point_nudges_the_rate_instead_of_measuring() -> None:
    clock = FakeClock(0.0)
    lim = AdaptiveRateLimiter(discovery_rate=1000.0, clock=clock)
    for _ in range(300):  # all accepted, then the first drain
        assert lim.try_acquire() == 0.0
        lim.on_response(200, {}, clock.now)
        lim.release()
        clock.now += 0.005
    lim.on_response(429, {}, clock.now, 1.0)
    first = lim.rate
    assert first is not None
    clock.now += 0.01
    for _ in range(3):  # a few accepted, well under MIN_MEASURE_REQUESTS
        lim.on_response(200, {}, clock.now)
        clock.now += 0.01
    assert MIN_MEASURE_REQUESTS > 3
    lim.on_response(429, {}, clock.now, 1.0)  # new (sent after we heard of the first), 0.04 s later
    assert lim.stats().decreases == 2
    second = lim.rate
    # "3 accepted in 0.04 s" would say 75/s; it is a nudge of NUDGE below the climbing first estimate
    assert second is not None and second >= first * (1 - NUDGE) * 0.999, (first, second)
    assert lim.policy.measured_rate() is None  # still one sync point: the next 429 measures from it


@pytest.mark.anyio
async def test_waits_poll_early_on_spare_slots_and_find_invoices_sooner() -> None:
    """An idle client (nothing else wants its slots) polls each invoice once its age passes the fastest
    time measured, instead of waiting for the schedule's quantile: most of these find it ready."""
    count = 30
    async with (
        Sandbox(processing_delay=(0.2, 1.2), seed=31) as sb,
        FaktooraClient(sb.api_key, base_url=sb.base_url) as client,
    ):
        created = await client.invoices.create(list(generate_invoices(count, seed=5)))
        ids = [c.faktoora_id for c in created]
        submitted = time.time()
        waited: list[float] = []

        async def wait(fid: str) -> None:
            await client.invoices.wait(fid, until="generated", timeout=30, submitted_at=submitted)
            waited.append(time.time() - submitted)

        async with anyio.create_task_group() as tg:
            for fid in ids:
                tg.start_soon(wait, fid)
        stats = client.waiter.stats
    assert len(waited) == count
    assert stats.early_polls > 0 and stats.early_hits > 0, stats
    # the probes measure the time to ready with short growing pauses (several polls each, more on a busy
    # machine: 77 for 30 invoices in a full-suite run); the early polls add at most one per 0.25 s per wait
    assert stats.polls <= 4 * count, stats
