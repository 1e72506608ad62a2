"""Retries, the ambiguous-POST rule, throttling and malformed responses, counted from the server's side."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web

from faktoora_async import (
    AmbiguousRequestError,
    BadRequestError,
    ConnectError,
    DownloadError,
    FaktooraClient,
    FaktooraError,
    RequestTimeoutError,
    ResponseDecodeError,
    RetryConfig,
    ServerError,
    Timeout,
    TransportError,
)
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

FAST = dict(backoff_base=0.005, backoff_max=0.02, deadline=30.0)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def requests(sb: Sandbox, key: str) -> dict[str, int]:
    return dict(sb.stats()["requests"].get(key, {}))


def client_for(sb: Sandbox, retries: int = 3, **kwargs: Any) -> FaktooraClient:
    return FaktooraClient(
        sb.api_key, base_url=sb.base_url, retry=RetryConfig(max_retries=retries, **FAST), **kwargs
    )


async def test_get_retried_on_every_5xx_until_exhausted() -> None:
    async with (
        Sandbox(faults={"error_rate": 1.0, "error_statuses": [500, 502, 503]}) as sb,
        client_for(sb, 3) as c,
    ):
        with pytest.raises(ServerError):
            await c.invoices.next_number()
        counts = requests(sb, "GET /api/v1/invoices/next-number")
        assert sum(counts.values()) == 4  # 1 attempt + 3 retries
        assert (c.stats["attempts"], c.stats["retries"]) == (4, 3)


async def test_get_recovers_from_some_5xx_and_resets() -> None:
    faults = {"error_rate": 0.3, "reset_rate": 0.3, "seed": 5}
    async with Sandbox(faults=faults) as sb, client_for(sb, 8) as c:
        for _ in range(20):
            await c.invoices.next_number()
        counts = requests(sb, "GET /api/v1/invoices/next-number")
        injected = sb.stats()["faultsInjected"]
        failures = sum(v for k, v in injected.items() if k.startswith("http_") or k == "reset")
        assert counts.get("200") == 20
        assert failures > 0
        assert c.stats["attempts"] == 20 + failures
        assert c.stats["retries"] == failures


async def test_reset_on_get_retried_then_transport_error() -> None:
    async with Sandbox(faults={"reset_rate": 1.0}) as sb, client_for(sb, 2) as c:
        with pytest.raises(TransportError) as info:
            await c.invoices.next_number()
        assert not isinstance(info.value, AmbiguousRequestError)
        assert sb.stats()["faultsInjected"].get("reset") == 3
        assert c.stats["attempts"] == 3


async def test_post_reset_is_ambiguous_and_never_retried() -> None:
    async with Sandbox(faults={"reset_rate": 1.0}) as sb, client_for(sb, 5) as c:
        with pytest.raises(AmbiguousRequestError) as info:
            await c.invoices.create(generate_invoice(0))
        assert info.value.method == "POST"
        assert sb.stats()["faultsInjected"].get("reset") == 1
        assert c.stats["attempts"] == 1


async def test_post_dropped_after_processing_is_ambiguous_and_not_duplicated() -> None:
    async with Sandbox(faults={"ambiguous_rate": 1.0}) as sb, client_for(sb, 5) as c:
        with pytest.raises(AmbiguousRequestError):
            await c.invoices.create(generate_invoice(1))
        assert sum(requests(sb, "POST /api/v1/invoices").values()) == 1
        assert sb.stats()["invoicesStored"] == 1  # the server did act: exactly once
        assert c.stats["attempts"] == 1


async def test_post_not_retried_on_500_or_503_without_retry_after() -> None:
    async with (
        Sandbox(faults={"error_rate": 1.0, "error_statuses": [500, 503]}) as sb,
        client_for(sb, 5) as c,
    ):
        for _ in range(2):
            with pytest.raises(ServerError):
                await c.invoices.create(generate_invoice(2))
        assert sum(requests(sb, "POST /api/v1/invoices").values()) == 2
        assert sb.stats()["invoicesStored"] == 0


async def test_429_is_retried_for_post_and_get_and_pauses_the_client() -> None:
    async with Sandbox(rate=4, burst=2) as sb, client_for(sb, 6) as c:

        async def one(i: int) -> None:
            if i % 2:
                await c.invoices.next_number()
            else:
                await c.invoices.create(generate_invoice(50 + i))

        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(one, i)
        posts = requests(sb, "POST /api/v1/invoices")
        gets = requests(sb, "GET /api/v1/invoices/next-number")
        assert posts.get("202") == 4 and gets.get("200") == 4
        throttled = posts.get("429", 0) + gets.get("429", 0)
        assert throttled >= 1
        assert sb.stats()["invoicesStored"] == 4  # a throttled POST is retried without duplicates
        limiter = c.rate_limiter.stats()
        assert limiter.throttles == throttled and c.rate_limiter.rate is not None


async def test_max_retries_zero_turns_retries_off() -> None:
    async with Sandbox(faults={"error_rate": 1.0, "error_statuses": [503]}) as sb, client_for(sb, 0) as c:
        with pytest.raises(ServerError):
            await c.invoices.next_number()
        assert requests(sb, "GET /api/v1/invoices/next-number") == {"503": 1}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connection_refused_is_connect_error_retried_even_for_post() -> None:
    base = f"http://127.0.0.1:{_free_port()}/api/v1"
    async with FaktooraClient("sk_test_x", base_url=base, retry=RetryConfig(max_retries=2, **FAST)) as c:
        with pytest.raises(ConnectError):
            await c.invoices.next_number()
        assert c.stats["attempts"] == 3
        with pytest.raises(ConnectError) as info:
            await c.invoices.create(generate_invoice(3))
        assert c.stats["attempts"] == 6  # never reached the server: safe to retry a POST
        assert "sk_test_x" not in str(info.value)


async def test_deadline_bounds_all_attempts() -> None:
    retry = RetryConfig(max_retries=1000, backoff_base=0.05, backoff_max=0.05, deadline=0.5)
    async with Sandbox(faults={"error_rate": 1.0, "error_statuses": [500]}) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url, retry=retry) as c:
            with pytest.raises(FaktooraError):
                await c.invoices.next_number()
        assert 1 < c.stats["attempts"] < 1000


async def test_truncated_download_raises_and_leaves_no_file(tmp_path: Path) -> None:
    async with Sandbox(processing_delay=(0.0, 0.0)) as sb, client_for(sb, 1) as c:
        (created,) = await c.invoices.create(generate_invoice(4))
        await c.invoices.wait(created.faktoora_id, timeout=30)
        sb.set_faults(truncate_rate=1.0)
        with pytest.raises((TransportError, DownloadError)):
            await c.invoices.download(created.faktoora_id, to=tmp_path)
        with pytest.raises((TransportError, DownloadError)):
            await c.invoices.download(created.faktoora_id)
        assert names(tmp_path) == []
        assert sb.stats()["faultsInjected"].get("truncated_download") == 4  # retried once each
        sb.set_faults(truncate_rate=0.0)
        path = await c.invoices.download(created.faktoora_id, to=tmp_path)
        assert names(tmp_path) == [path.path.name]


async def test_cancelled_download_leaves_no_file(tmp_path: Path) -> None:
    async with Sandbox() as sb, client_for(sb, 0) as c:
        (created,) = await c.invoices.create(generate_invoice(5))
        await c.invoices.wait(created.faktoora_id, timeout=30)
        await sb_inflate(sb, created.faktoora_id, 20_000_000)
        sb.set_faults(slow_download_rate=1.0, slow_chunk_bytes=65536, slow_chunk_delay_ms=20)
        with anyio.move_on_after(0.3) as scope:
            await c.invoices.download(created.faktoora_id, to=tmp_path)
        assert scope.cancelled_caught
        assert names(tmp_path) == []


async def sb_inflate(sb: Sandbox, faktoora_id: str, size: int) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sb.root_url}/_sandbox/inflate/{faktoora_id}", params={"bytes": str(size)}) as resp,
    ):
        assert resp.status < 300, await resp.text()


# ------------------------------------------------------------------------ a deliberately broken server


@pytest.fixture
async def broken() -> AsyncIterator[str]:
    """A real HTTP server (aiohttp.web on loopback) that answers 2xx with malformed bodies."""

    async def wrong_types(request: web.Request) -> web.Response:
        return web.json_response({"invoiceNumber": 42, "counter": "many"})

    async def truncated(request: web.Request) -> web.Response:
        return web.Response(body=b'{"invoiceNumber": "A-1", "coun', content_type="application/json")

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def short_body(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "1000"})
        await resp.prepare(request)
        await resp.write(b'{"invoiceNumber": "A')
        assert request.transport is not None
        request.transport.close()
        return resp

    async def html_error(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>Bad Gateway</html>", content_type="text/html")

    hits = {"retry503": 0}

    async def retry503(request: web.Request) -> web.Response:
        hits["retry503"] += 1
        if hits["retry503"] <= 2:
            return web.json_response(
                {"code": "UNAVAILABLE", "message": "later"}, status=503, headers={"Retry-After": "0"}
            )
        return web.json_response([{"faktooraId": "FABCDEF1", "detailsPage": None}], status=202)

    async def count(request: web.Request) -> web.Response:
        return web.json_response(hits)

    async def html_pdf(request: web.Request) -> web.Response:
        return web.Response(text="<html>login</html>", content_type="text/html")

    async def echo_key(request: web.Request) -> web.Response:
        key = request.headers["X-API-KEY"]
        return web.json_response(
            {"code": key, "message": f"bad key {key}", "errors": [{"field": key, "message": key}]},
            status=400,
            headers={"x-request-id": key},
        )

    app = web.Application()
    app.router.add_get("/htmlpdf/api/v1/invoices/F1ABCDEF", html_pdf)
    app.router.add_get("/echo/api/v1/invoices/next-number", echo_key)
    app.router.add_post("/r503/api/v1/invoices", retry503)
    app.router.add_get("/hits", count)
    app.router.add_get("/wrong/api/v1/invoices/next-number", wrong_types)
    app.router.add_get("/trunc/api/v1/invoices/next-number", truncated)
    app.router.add_get("/html/api/v1/invoices/next-number", html)
    app.router.add_get("/hang/api/v1/invoices/next-number", hang)
    app.router.add_get("/short/api/v1/invoices/next-number", short_body)
    app.router.add_get("/gateway/api/v1/invoices/next-number", html_error)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("prefix", ["wrong", "trunc", "html"])
async def test_malformed_success_responses_are_typed_errors(broken: str, prefix: str) -> None:
    async with FaktooraClient("k", base_url=f"{broken}/{prefix}/api/v1", max_retries=0) as c:
        with pytest.raises(ResponseDecodeError) as info:
            await c.invoices.next_number()
    assert info.value.status == 200


async def test_a_hanging_server_times_out(broken: str) -> None:
    timeout = Timeout(total=0.3, connect=0.3, read=0.3)
    async with FaktooraClient("k", base_url=f"{broken}/hang/api/v1", max_retries=1, timeout=timeout) as c:
        with pytest.raises(RequestTimeoutError) as info:
            await c.invoices.next_number()
    assert isinstance(info.value, TimeoutError)
    assert c.stats["attempts"] == 2


async def test_body_shorter_than_content_length(broken: str) -> None:
    async with FaktooraClient("k", base_url=f"{broken}/short/api/v1", max_retries=1) as c:
        with pytest.raises(TransportError):
            await c.invoices.next_number()


async def test_html_error_page_becomes_server_error(broken: str) -> None:
    async with FaktooraClient("k", base_url=f"{broken}/gateway/api/v1", max_retries=0) as c:
        with pytest.raises(ServerError) as info:
            await c.invoices.next_number()
    assert info.value.status == 502 and "Bad Gateway" in info.value.body


async def test_post_retried_on_503_with_retry_after(broken: str) -> None:
    async with FaktooraClient(
        "k", base_url=f"{broken}/r503/api/v1", retry=RetryConfig(max_retries=3, **FAST)
    ) as c:
        created = await c.invoices.create(generate_invoice(9), preflight=False)
        assert [x.faktoora_id for x in created] == ["FABCDEF1"]
        assert (c.stats["attempts"], c.stats["retries"]) == (3, 2)


async def test_request_log_lines_carry_attempt_and_status(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="faktoora_async")
    async with Sandbox(faults={"error_rate": 1.0, "error_statuses": [500]}) as sb, client_for(sb, 1) as c:
        with pytest.raises(ServerError):
            await c.invoices.next_number()
    lines = [r.getMessage() for r in caplog.records if r.name == "faktoora_async"]
    assert any("GET /invoices/next-number -> 500 (attempt 1," in line for line in lines)
    assert any("GET /invoices/next-number -> 500 (attempt 2," in line for line in lines)
    assert all(sb.api_key not in line for line in lines)


async def test_download_with_the_wrong_media_type_is_refused(broken: str, tmp_path: Path) -> None:
    async with FaktooraClient("k", base_url=f"{broken}/htmlpdf/api/v1", max_retries=0) as c:
        with pytest.raises(ResponseDecodeError):
            await c.invoices.download("F1ABCDEF", to=tmp_path)
        with pytest.raises(ResponseDecodeError):
            await c.invoices.download("F1ABCDEF")
    assert names(tmp_path) == []


async def test_a_server_echoing_the_key_never_puts_it_in_errors(broken: str) -> None:
    key = "".join(["echo", "-secret-", "1234567890"])
    async with FaktooraClient(key, base_url=f"{broken}/echo/api/v1", max_retries=0) as c:
        with pytest.raises(FaktooraError) as info:
            await c.invoices.next_number()
    err = info.value
    assert isinstance(err, BadRequestError)
    texts = [str(err), repr(err), err.message, err.body, str(err.code), str(err.request_id)]
    texts += [f"{e.field} {e.message}" for e in err.errors]
    assert all(key not in t for t in texts)


async def test_a_wait_outlasts_status_polls_throttled_beyond_the_retries() -> None:
    """A 429 that outlasts the transport's retries fails no wait (stress run: a bulk invoice once failed with
    "status poll failed: 429"); the wait polls again on its schedule and ends when the status arrives."""
    hits = {"status": 0}

    async def status(request: web.Request) -> web.Response:
        hits["status"] += 1
        if hits["status"] <= 6:  # three polls of 2 attempts each are refused
            return web.json_response(
                {"code": "TOO_MANY_REQUESTS", "statusCode": 429, "message": "rate limit exceeded"},
                status=429,
                headers={"Retry-After": "0"},
            )
        return web.json_response({"invoiceStatus": "created", "jobStatus": None, "delivery": []})

    app = web.Application()
    app.router.add_get("/api/v2/invoices/{fid}/status", status)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1"
    try:
        async with FaktooraClient("k", base_url=base, retry=RetryConfig(max_retries=1, **FAST)) as c:
            with anyio.fail_after(60):  # a hang guard, not a timing assertion
                got = await c.invoices.wait("FTHROTTLE1", until="created", timeout=50)
    finally:
        await runner.cleanup()
    assert got.invoice_status == "created"
    assert hits["status"] >= 7
