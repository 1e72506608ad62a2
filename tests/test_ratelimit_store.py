"""Rate stores: the in-process one (fake clock) and the Redis one against a real Redis server.

The Redis tests use the fixtures of ``tests/_services.py``: ``redis_url`` (a fresh database of the shared
test server) and ``private_redis`` (a server of the test's own, stopped mid-run to show the fallback).
They skip with the reason when no server is there, and fail when FAKTOORA_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import inspect
import logging
import time

import anyio
import pytest

from faktoora_async import FaktooraClient, RetryConfig
from faktoora_async.errors import ConfigurationError
from faktoora_async.ratelimit import (
    AdaptiveRateLimiter,
    Grant,
    InProcessStore,
    RateStore,
    SharedRate,
    open_store,
    store_key,
)
from faktoora_async.ratelimit.store import gcra_take
from faktoora_async.sandbox import Sandbox


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _client(sb: Sandbox, store: RateStore | None) -> FaktooraClient:
    """A client whose governor uses ``store`` (through ``rate_store=`` once the client takes it)."""
    retry = RetryConfig(max_retries=30, deadline=None)
    if "rate_store" in inspect.signature(FaktooraClient).parameters:
        return FaktooraClient(sb.api_key, base_url=sb.base_url, retry=retry, rate_store=store)
    client = FaktooraClient(sb.api_key, base_url=sb.base_url, retry=retry)
    lim = AdaptiveRateLimiter(store=store, store_key=store_key(sb.api_key))
    client.rate_limiter = lim
    client._transport.limiter = lim
    return client


# ------------------------------------------------------------------------------------------ pure parts


def test_store_key_hides_the_api_key_and_separates_tenants() -> None:
    key = store_key("ak_secret_key_123456")
    assert "secret" not in key and key.startswith("faktoora:rl:")
    assert store_key("ak_secret_key_123456", "tenant-a") != store_key("ak_secret_key_123456", "tenant-b")
    assert store_key("ak_secret_key_123456") == key


def test_gcra_admits_a_burst_then_spaces_at_the_rate() -> None:
    tat, now, waits = 0.0, 10.0, []
    for _ in range(4):
        wait, tat = gcra_take(tat, now, 10.0, 2.0)
        waits.append(round(wait, 6))
    assert waits == [0.0, 0.0, 0.0, pytest.approx(0.1)]  # burst 2 early slots + the one due now
    wait, tat = gcra_take(tat, now + 0.1, 10.0, 2.0)
    assert wait == 0.0


def test_shared_rate_climbs_from_its_base() -> None:
    rate = SharedRate(100.0, at=5.0, climb=0.01)
    assert rate.at_time(5.0) == 100.0
    assert rate.at_time(4.0) == 100.0  # not before it was set
    assert rate.at_time(15.0) == pytest.approx(100.0 * 2.718281828**0.1)


async def test_in_process_store_is_one_bucket_per_key() -> None:
    clock = FakeClock()
    store = InProcessStore(clock)
    a, b = store_key("ak_one_________"), store_key("ak_two_________")
    assert (await store.take(a, 10.0, 1.0)).wait == 0.0
    assert (await store.take(a, 10.0, 1.0)).wait == 0.0  # burst 1: one slot early
    assert (await store.take(a, 10.0, 1.0)).wait == pytest.approx(0.1)
    assert (await store.take(b, 10.0, 1.0)).wait == 0.0  # another key: its own bucket
    await store.report(a, throttles=1, pause=2.0, rate=SharedRate(5.0, 0.0))
    grant = await store.take(a, 10.0, 1.0)
    assert grant.wait == pytest.approx(2.0) and grant.throttled == 1 and grant.rate == 5.0
    clock.now += 2.0
    grant = await store.take(a, 10.0, 1.0)
    assert grant.wait == 0.0 and grant.sent == 3


async def test_own_429s_are_not_counted_as_accepted_before_the_store_shows_them() -> None:
    """A drain's 429s arrive within milliseconds; the store's 429 counter shows them only after the next
    take.  Counted as accepted meanwhile, a sync point 0.01 s after the last one "measured" 1,000+ req/s
    and the rate ran away (B7, one worker on Redis: 33 s instead of 20.5 s, 50 429s)."""
    store = InProcessStore()
    lim = AdaptiveRateLimiter(store=store, store_key=store_key("ak_unseen_______"))
    sent = []
    for _ in range(10):
        sent.append(await lim.acquire())
        lim.release()
    now = sent[-1]
    assert lim.policy.counts is not None and lim.policy.counts(now) == 10
    for at in sent[-4:]:  # the last four were answered 429
        lim.on_response(429, {}, at, 1.0)
    assert lim.policy.counts(now) == 6  # before any take told us the store's counter
    await lim.acquire()  # publishes the four and reads the counter back: still counted once
    lim.release()
    assert lim.policy.counts(now) == 6


class _GatedStore(InProcessStore):
    """An in-process store whose answers can be held back (a slow Redis round trip)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate: anyio.Event | None = None

    async def take(self, key: str, rate: float, burst: float) -> Grant:
        grant = await super().take(key, rate, burst)
        if self.gate is not None:
            await self.gate.wait()
        return grant


async def test_a_429_during_a_take_is_not_overwritten_by_the_stores_older_rate() -> None:
    """A take's answer carries the shared rate as it was before a 429 that arrived meanwhile; adopting
    it threw the new rate away (never published either): the rate ran away after every 429 streak (B7,
    one worker on Redis: 45.9 s and 176 429s for a 20.5 s run)."""
    store, key = _GatedStore(), store_key("ak_race_________")
    await store.report(key, rate=SharedRate(500.0, 0.0))  # an old, far too high shared rate
    lim = AdaptiveRateLimiter(store=store, store_key=key)
    sent = await lim.acquire()  # adopts 500/s (nothing of ours to say yet)
    lim.release()
    assert lim.policy.rate_at(sent) == pytest.approx(500.0)
    store.gate = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lim.acquire)
        await anyio.sleep(0.05)  # the take is under way
        for _ in range(4):  # a streak of new 429s (each sent after the last was heard): the rate is cut
            lim.on_response(429, {}, time.monotonic(), 1.0)
        ours = lim.policy.rate_at(lim.policy.pause_until)
        assert ours < 400.0
        store.gate.set()
    lim.release()
    assert lim.policy.rate_at(lim.policy.pause_until) == pytest.approx(ours)  # not the store's 500
    store.gate = None
    await anyio.sleep(max(0.0, lim.policy.pause_until - time.monotonic()))
    await lim.acquire()  # publishes ours
    lim.release()
    grant = await store.take(key, 1.0, 1.0)
    assert grant.rate is not None and grant.rate < 400.0


def test_open_store_reads_urls_and_passes_objects() -> None:
    store = InProcessStore()
    assert open_store(store) is store
    assert open_store(None) is None
    with pytest.raises(ConfigurationError, match="rate_store"):
        open_store("memcached://localhost")
    with pytest.raises(ConfigurationError, match="rate_store"):
        FaktooraClient("ak_test_key_0000", rate_store="memcached://localhost")


pytestmark = pytest.mark.anyio


# ------------------------------------------------------------------------------------------ Redis


async def test_redis_store_shares_one_bucket_counters_rate_and_pause(redis_url: str) -> None:
    import redis.asyncio as aioredis

    first, second = open_store(redis_url), open_store(redis_url)
    assert first is not None and second is not None
    key = store_key("ak_shared_test_key_0001", "tenant")
    try:
        await first.report(key, rate=SharedRate(5.0, 0.0))
        grants = [await first.take(key, 1000.0, 2.0) for _ in range(3)]  # the published 5/s wins
        assert [g.wait for g in grants] == [0.0, 0.0, 0.0]
        other = await second.take(key, 1000.0, 2.0)  # the same bucket: now it must wait ~1/5 s
        assert 0.05 < other.wait <= 0.2 + 1e-3
        assert other.rate == pytest.approx(5.0) and other.sent == 3
        await second.report(key, throttles=2, pause=3.0)
        paused = await first.take(key, 1000.0, 2.0)
        assert 2.5 < paused.wait <= 3.0 and paused.throttled == 2
        raw = aioredis.from_url(redis_url)
        keys = [k.decode() async for k in raw.scan_iter("*")]
        await raw.aclose()
        assert keys == [key]  # one hash per key and tenant; the API key itself is nowhere
        assert "ak_shared" not in repr(first)
    finally:
        await first.aclose()
        await second.aclose()


async def test_clients_sharing_redis_stay_under_the_limit_together(redis_url: str) -> None:
    # three clients on one key, 12 callers each: with in-process governors each would learn the limit
    # alone; sharing the store they pace as one.  Counts only (no timing asserts).
    n = 360
    async with Sandbox(rate=60, burst=10) as sb:
        store = open_store(redis_url)
        clients = [_client(sb, store) for _ in range(3)]
        remaining = n

        async def caller(c: FaktooraClient) -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await c.invoices.next_number()

        try:
            async with anyio.create_task_group() as tg:
                for c in clients:
                    for _ in range(12):
                        tg.start_soon(caller, c)
        finally:
            for c in clients:
                await c.aclose()
            assert store is not None
            await store.aclose()
        counts = sb.stats()["requests"]["GET /api/v1/invoices/next-number"]
    total = sum(counts.values())
    print(f"3 clients sharing Redis: {counts.get('429', 0)}/{total} throttled")
    assert counts.get("200") == n
    # three governors pacing alone at the limit each would see ~2/3 of their requests refused; one
    # shared bucket keeps it to the few 429s of finding the limit (a short run: a few percent at most)
    assert counts.get("429", 0) / total <= 0.06, counts


async def test_redis_stopped_mid_run_the_run_finishes_with_one_warning(
    private_redis: object, caplog: pytest.LogCaptureFixture
) -> None:
    n = 300
    server = private_redis
    async with Sandbox(rate=50, burst=10) as sb:
        store = open_store(server.url)  # type: ignore[attr-defined]
        clients = [_client(sb, store) for _ in range(2)]
        done = 0
        remaining = n

        async def caller(c: FaktooraClient) -> None:
            nonlocal remaining, done
            while remaining > 0:
                remaining -= 1
                await c.invoices.next_number()
                done += 1
                if done == n // 3:
                    server.stop()  # type: ignore[attr-defined]

        caplog.set_level(logging.INFO, logger="faktoora_async.ratelimit")
        try:
            async with anyio.create_task_group() as tg:
                for c in clients:
                    for _ in range(8):
                        tg.start_soon(caller, c)
        finally:
            for c in clients:
                await c.aclose()
            assert store is not None
            await store.aclose()
        counts = sb.stats()["requests"]["GET /api/v1/invoices/next-number"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "rate store" in r.message]
    total = sum(counts.values())
    print(
        f"Redis stopped after {n // 3}: {counts.get('429', 0)}/{total} throttled, {len(warnings)} warning(s)"
    )
    assert done == n and counts.get("200") == n  # nothing lost
    assert len(warnings) == 1  # one for the store both clients share, not one per client or request
    assert all("unavailable" in r.message for r in warnings)


async def test_a_governor_rejoins_the_store_when_redis_is_back(
    private_redis: object, caplog: pytest.LogCaptureFixture
) -> None:
    server = private_redis
    store = open_store(server.url)  # type: ignore[attr-defined]
    assert store is not None
    lim = AdaptiveRateLimiter(max_rate=200.0, store=store, store_key=store_key("ak_rejoin_test_key"),
                              store_retry=0.2)  # fmt: skip
    caplog.set_level(logging.INFO, logger="faktoora_async.ratelimit")
    try:
        for _ in range(5):
            sent = await lim.acquire()
            lim.on_response(200, {}, sent)
            lim.release()
        server.stop()  # type: ignore[attr-defined]
        for _ in range(5):  # served by the in-process bucket meanwhile
            sent = await lim.acquire()
            lim.release()
        server.start()  # type: ignore[attr-defined]
        await anyio.sleep(0.3)
        for _ in range(5):
            sent = await lim.acquire()
            lim.release()
        import redis.asyncio as aioredis

        raw = aioredis.from_url(server.url)  # type: ignore[attr-defined]
        sent_in_redis = int(await raw.hget(store_key("ak_rejoin_test_key"), "sent") or 0)
        await raw.aclose()
    finally:
        await store.aclose()
    messages = [r.message for r in caplog.records if "rate store" in r.message]
    assert len(messages) == 2, messages
    assert "unavailable" in messages[0] and "reachable again" in messages[1]
    assert sent_in_redis >= 4  # slots come from the (restarted, empty) Redis again


async def test_client_rate_store_url_shares_the_budget_and_is_closed_with_the_client(redis_url: str) -> None:
    import redis.asyncio as aioredis

    async with Sandbox(rate=50, burst=10) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url, rate_store=redis_url) as c:
            for _ in range(5):
                await c.invoices.next_number()
            assert c.rate_limiter.store is not None
        raw = aioredis.from_url(redis_url)
        try:
            sent = int(await raw.hget(store_key(sb.api_key), "sent") or 0)
        finally:
            await raw.aclose()
    assert sent == 5  # every request took its slot from Redis, under the hashed key of key + tenant
