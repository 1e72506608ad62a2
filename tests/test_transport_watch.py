"""The API calls' one timer (``transport._Watch`` under the transport's ``_Watchdog``) against a real server.

An API call's ``total`` and ``read`` timeouts are kept by one watchdog timer per transport instead of
aiohttp's per-request timers.  A small aiohttp.web server on loopback (not a mock) stalls, trickles or
answers at once; every call must end as the timeouts say: a stalled answer in
:class:`~faktoora_async.errors.RequestTimeoutError`, a body that keeps coming read to its end, a governor
wait not counted against the attempt, a cancellation from outside still a cancellation.
``anyio.fail_after`` is a hang guard far above the timeouts; no test asserts on durations.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import anyio
import pytest
from aiohttp import web

from faktoora_async import FaktooraClient, Timeout
from faktoora_async import errors as E

pytestmark = pytest.mark.anyio

KEY = "sk_test_watch_" + "0123456789abcdef"
FID = "FWATCH001"
HANG_GUARD = 15.0
STATUS = b'{"invoiceStatus":"sent","jobStatus":null,"authority":[],"delivery":[]}'


async def _quick(request: web.Request) -> web.StreamResponse:
    return web.Response(body=STATUS, content_type="application/json")


async def _silent(request: web.Request) -> web.StreamResponse:
    """No headers for an hour."""
    await asyncio.sleep(3600)
    raise AssertionError("unreachable")


async def _stall_in_body(request: web.Request) -> web.StreamResponse:
    """Headers and half a body, then nothing."""
    resp = web.StreamResponse(
        status=200, headers={"Content-Type": "application/json", "Content-Length": str(len(STATUS))}
    )
    await resp.prepare(request)
    await resp.write(STATUS[:20])
    await asyncio.sleep(3600)
    raise AssertionError("unreachable")


async def _trickle(request: web.Request) -> web.StreamResponse:
    """The whole body, a few bytes every 50 ms (about 2.5 s in all): never silent for long."""
    resp = web.StreamResponse(
        status=200, headers={"Content-Type": "application/json", "Content-Length": str(len(STATUS))}
    )
    await resp.prepare(request)
    step = max(1, len(STATUS) // 50)
    for i in range(0, len(STATUS), step):
        await resp.write(STATUS[i : i + step])
        await asyncio.sleep(0.05)
    await resp.write_eof()
    return resp


ROUTES = {"quick": _quick, "silent": _silent, "stall": _stall_in_body, "trickle": _trickle}


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async def dispatch(request: web.Request) -> web.StreamResponse:
        if request.headers.get("X-API-KEY") != KEY:
            raise web.HTTPUnauthorized()
        return await ROUTES[request.match_info["route"]](request)

    app = web.Application()
    app.router.add_get("/{route}/api/v2/invoices/{fid}/status", dispatch)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def _client(root: str, route: str, timeout: Timeout, **options: object) -> FaktooraClient:
    return FaktooraClient(KEY, base_url=f"{root}/{route}/api/v1", timeout=timeout, max_retries=0, **options)


@pytest.mark.parametrize("route", ["silent", "stall"])
async def test_read_timeout_alone_ends_a_silent_answer(server: str, route: str) -> None:
    """No total: ``read`` alone ends a server that never answers and one that stops mid-body."""
    timeout = Timeout(total=None, connect=1.0, read=0.3)
    async with _client(server, route, timeout) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(E.RequestTimeoutError) as info:
            await client.invoices.status(FID)
    assert isinstance(info.value, TimeoutError)


async def test_a_body_that_keeps_coming_is_read_to_its_end(server: str) -> None:
    """Each chunk restarts the read clock: a 2.5 s body in 50 ms steps passes a 1 s read timeout."""
    timeout = Timeout(total=None, connect=1.0, read=1.0)
    async with _client(server, "trickle", timeout) as client:
        with anyio.fail_after(HANG_GUARD):
            status = await client.invoices.status(FID)
    assert status.invoice_status == "sent"


async def test_total_ends_a_body_that_keeps_coming(server: str) -> None:
    timeout = Timeout(total=0.5, connect=0.5, read=1.0)
    async with _client(server, "trickle", timeout) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(E.RequestTimeoutError):
            await client.invoices.status(FID)


async def test_a_governor_wait_is_not_part_of_the_attempt(server: str) -> None:
    """At 0.8 requests/s each call waits ~1.25 s for its slot, longer than the 1 s timeouts: all answer."""
    timeout = Timeout(total=1.0, connect=1.0, read=1.0)
    async with _client(server, "quick", timeout, max_rate=0.8) as client:
        with anyio.fail_after(HANG_GUARD):
            for _ in range(3):
                assert (await client.invoices.status(FID)).invoice_status == "sent"
        assert client.stats["attempts"] == 3


async def test_an_outside_cancellation_stays_one_and_the_client_goes_on(server: str) -> None:
    timeout = Timeout(total=5.0, connect=1.0, read=5.0)
    async with (
        _client(server, "silent", timeout) as silent,
        _client(server, "quick", timeout) as quick,
    ):
        with anyio.fail_after(HANG_GUARD):
            with anyio.move_on_after(0.2) as scope:
                await silent.invoices.status(FID)
            assert scope.cancelled_caught
            assert (await quick.invoices.status(FID)).invoice_status == "sent"
        if sys.version_info >= (3, 11):
            # the cancelled call's task is not left marked as cancelling (its later timeouts still work)
            task = asyncio.current_task()
            assert task is not None and task.cancelling() == 0


async def test_concurrent_calls_each_end_by_their_own_timeout(server: str) -> None:
    """Stalled and quick calls in flight together under one watchdog: only the stalled ones time out."""
    timeout = Timeout(total=2.0, connect=1.0, read=0.3)
    async with _client(server, "stall", timeout) as stalled, _client(server, "quick", timeout) as quick:
        outcomes: list[str] = []

        async def one(client: FaktooraClient) -> None:
            try:
                await client.invoices.status(FID)
                outcomes.append("ok")
            except E.RequestTimeoutError:
                outcomes.append("timeout")

        with anyio.fail_after(HANG_GUARD):
            async with anyio.create_task_group() as tg:
                for i in range(20):
                    tg.start_soon(one, stalled if i % 2 else quick)
    assert sorted(outcomes) == ["ok"] * 10 + ["timeout"] * 10
