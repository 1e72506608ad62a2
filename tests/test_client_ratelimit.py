"""The shared rate governor against a rate-limited sandbox: throttles stay rare and the limit is found.

No timing asserts: the checks are counts (429s among all requests, as the sandbox counted them) and the
governor's learned rate relative to the server's configured one.
"""

from __future__ import annotations

import time

import anyio
import pytest

from faktoora_async import FaktooraClient, RetryConfig
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

RATE = 40.0


async def test_concurrent_callers_share_one_governor_and_rarely_hit_429() -> None:
    async with (
        Sandbox(rate=RATE, burst=8) as sb,
        FaktooraClient(
            sb.api_key, base_url=sb.base_url, retry=RetryConfig(max_retries=20, deadline=None)
        ) as c,
    ):
        remaining = 240

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await c.invoices.next_number()

        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            for _ in range(12):
                tg.start_soon(worker)
        achieved = (240 - 8) / (time.monotonic() - started)  # what this (maybe loaded) client managed

        counts = sb.stats()["requests"]["GET /api/v1/invoices/next-number"]
        total = sum(counts.values())
        throttled = counts.get("429", 0)
        assert counts.get("200") == 240
        assert throttled >= 1, "the limit was never reached: the test proves nothing"
        print(f"rate governor: {throttled}/{total} throttled, learned {c.rate_limiter.rate:.1f}/s")
        assert throttled / total < 0.04, counts
        learned = c.rate_limiter.rate
        assert learned is not None and 0.5 * min(RATE, achieved) <= learned <= 1.6 * RATE
        stats = c.rate_limiter.stats()
        assert stats.throttles == throttled
        assert stats.decreases <= throttled


async def test_max_rate_caps_the_client_below_the_server_limit() -> None:
    async with (
        Sandbox(rate=RATE, burst=2) as sb,
        FaktooraClient(sb.api_key, base_url=sb.base_url, max_rate=RATE / 2) as c,
    ):
        async with anyio.create_task_group() as tg:
            for _ in range(30):
                tg.start_soon(c.invoices.next_number)
        counts = sb.stats()["requests"]["GET /api/v1/invoices/next-number"]
        assert counts == {"200": 30}  # never above the cap, so never throttled
        assert c.rate_limiter.rate == RATE / 2


async def test_governor_settles_below_the_limit_after_a_few_throttles() -> None:
    # 1,000 requests from 24 workers against 100 req/s (burst 10: the first drain says little about the
    # rate): the governor must find the limit from what the server accepted, hold at it, and not keep
    # re-hitting it.  Checks are counts and the learned rate, no timing.
    rate, n = 100.0, 1000
    async with (
        Sandbox(rate=rate, burst=10) as sb,
        FaktooraClient(
            sb.api_key, base_url=sb.base_url, retry=RetryConfig(max_retries=20, deadline=None)
        ) as c,
    ):
        remaining = n

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await c.invoices.next_number()

        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            for _ in range(24):
                tg.start_soon(worker)
        # what this client achieved (a loaded machine may not send 100/s): the learned rate is judged
        # against it, not against the server's figure alone
        achieved = (n - 10) / (time.monotonic() - started)

        counts = sb.stats()["requests"]["GET /api/v1/invoices/next-number"]
        total = sum(counts.values())
        throttled = counts.get("429", 0)
        stats = c.rate_limiter.stats()
        learned = c.rate_limiter.rate
        print(
            f"governor at {rate:g}/s: {throttled}/{total} throttled, {stats.decreases} decreases, "
            f"learned {learned:.1f}/s"
        )
        assert counts.get("200") == n
        assert throttled >= 1, "the limit was never reached: the test proves nothing"
        assert throttled / total <= 0.02, counts
        # new 429s are sync points: the first drain, then one every few seconds by design (the governor
        # runs a hair above the measured rate so the server's bucket is used to the last token)
        assert stats.decreases <= 8
        assert learned is not None and 0.8 * min(rate, achieved) <= learned <= 1.05 * rate
