"""Hardening: hostile servers and mass cancellation.

* a tiny hostile aiohttp.web server (a real server on loopback, not a mock) answers with broken responses:
  non-JSON, wrong types, truncated bodies, wrong content types, endless bodies, silence.  Every call must end
  in a typed :class:`~faktoora_async.errors.FaktooraError` and never hang past the client's timeout
  (``anyio.fail_after`` below is a hang guard, far above the timeout; no test asserts on durations);
* cancelling 1,000 in-flight requests at random moments leaves no open connection and no pending task.
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest
from aiohttp import web

from faktoora_async import FaktooraClient, Timeout
from faktoora_async import errors as E

pytestmark = pytest.mark.anyio

KEY = "sk_test_hardening_" + "0123456789abcdef"
FID = "FHOSTILE1"
HANG_GUARD = 10.0  # seconds; the client's timeouts below are 1-2 s
TIMEOUT = Timeout(total=1.5, connect=1.0, read=0.75)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --------------------------------------------------------------------------------- the hostile server
def _json(body: bytes, status: int = 200, content_type: str = "application/json") -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, status=status, headers={"Content-Type": content_type})

    return handler


async def _truncated(request: web.Request) -> web.StreamResponse:
    """Promise 500 bytes, send 20, close the connection."""
    resp = web.StreamResponse(
        status=200, headers={"Content-Type": "application/json", "Content-Length": "500"}
    )
    await resp.prepare(request)
    await resp.write(b'{"invoiceStatus": "cr')
    assert request.transport is not None
    request.transport.close()
    return resp


async def _endless(request: web.Request) -> web.StreamResponse:
    """A chunked body that never ends: a little data every 10 ms (so no read timeout ever fires)."""
    content_type = "application/pdf" if "pdf" in request.headers.get("Accept", "") else "application/json"
    resp = web.StreamResponse(status=200, headers={"Content-Type": content_type})
    await resp.prepare(request)
    await resp.write(b"%PDF-1.7\n" if content_type == "application/pdf" else b"[")
    while True:
        await resp.write(b" " * 1024)
        await asyncio.sleep(0.01)


async def _silent(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(3600)
    raise AssertionError("unreachable")


async def _slow_headers(request: web.Request) -> web.StreamResponse:
    """Headers arrive, then the body stalls for longer than the read timeout."""
    resp = web.StreamResponse(
        status=200, headers={"Content-Type": "application/json", "Content-Length": "100"}
    )
    await resp.prepare(request)
    await resp.write(b'{"invoiceStatus"')
    await asyncio.sleep(3600)
    return resp


async def _huge_header(request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"{}", headers={"Content-Type": "application/json", "X-Junk": "x" * 200_000})


async def _truncated_download(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(
        status=200,
        headers={
            "Content-Type": request.headers.get("Accept", "application/pdf").split(",")[0],
            "Content-Length": "100000",
            "Content-Disposition": 'attachment; filename="../../escape.pdf"',
        },
    )
    await resp.prepare(request)
    await resp.write(b"%PDF-1.7\n" + b"0" * 5000)
    assert request.transport is not None
    request.transport.close()
    return resp


PDF_BYTES = b"%PDF-1.7\n" + b"0123456789" * 5000 + b"\n%%EOF\n"


async def _gzip_when_asked(request: web.Request) -> web.StreamResponse:
    """A well-behaved server that compresses when the client accepts gzip (Content-Length is then the
    compressed size)."""
    import gzip

    if "gzip" in request.headers.get("Accept-Encoding", ""):
        body = gzip.compress(PDF_BYTES)
        return web.Response(
            body=body, headers={"Content-Type": "application/pdf", "Content-Encoding": "gzip"}
        )
    return web.Response(body=PDF_BYTES, headers={"Content-Type": "application/pdf"})


SCENARIOS: dict[str, Handler] = {
    "gzip": _gzip_when_asked,
    "html": _json(b"<html><body>Bad gateway, try later</body></html>", content_type="text/html"),
    "not-json": _json(b"this is not json {"),
    "empty": _json(b""),
    "wrong-types": _json(b'{"invoiceStatus": 5, "jobStatus": ["x"], "delivery": "nope"}'),
    "wrong-shape": _json(b"[1, 2, 3]"),
    "invalid-utf8": _json(b'{"invoiceStatus": "\xff\xfe"}'),
    "deep-nesting": _json(b"[" * 100_000 + b"]" * 100_000),
    "wrong-content-type": _json(b'{"invoiceStatus": "created"}', content_type="application/xml"),
    "truncated": _truncated,
    "endless": _endless,
    "silent": _silent,
    "stall-after-headers": _slow_headers,
    "huge-header": _huge_header,
    "error-html": _json(b"<h1>502 Bad Gateway</h1>", status=502, content_type="text/html"),
    "error-garbage": _json(b'{"statusCode": "x", "errors": "nope", "message": {"a": 1}}', status=400),
    "error-truncated": _json(b'{"code": "BAD_REQUEST", "message": "inval', status=400),
    "rate-garbage": _json(b"slow down", status=429, content_type="text/plain"),
    "redirect": _json(b"", status=302, content_type="text/plain"),
    "truncated-download": _truncated_download,
}

# scenario -> the error class a status call must raise
EXPECTED_STATUS_ERRORS: dict[str, type[E.FaktooraError]] = {
    "html": E.ResponseDecodeError,
    "not-json": E.ResponseDecodeError,
    "empty": E.ResponseDecodeError,
    "wrong-shape": E.ResponseDecodeError,
    "invalid-utf8": E.ResponseDecodeError,
    "deep-nesting": E.ResponseDecodeError,
    "wrong-content-type": E.ResponseDecodeError,
    "truncated": E.TransportError,
    "endless": E.RequestTimeoutError,
    "silent": E.RequestTimeoutError,
    "stall-after-headers": E.RequestTimeoutError,
    "huge-header": E.TransportError,
    "error-html": E.ServerError,
    "error-garbage": E.BadRequestError,
    "error-truncated": E.BadRequestError,
    "rate-garbage": E.RateLimitError,
    "redirect": E.FaktooraError,
}


@asynccontextmanager
async def hostile_server() -> AsyncIterator[str]:
    """Serve every scenario under ``/<scenario>/api/<version>/...``; yield the root URL."""

    async def dispatch(request: web.Request) -> web.StreamResponse:
        handler = SCENARIOS.get(request.match_info["scenario"])
        if handler is None:
            raise web.HTTPNotFound()
        if request.headers.get("X-API-KEY") != KEY:
            raise web.HTTPUnauthorized()
        if request.can_read_body:
            await request.read()
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{scenario}/api/{version}/{tail:.*}", dispatch)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def _client(root: str, scenario: str) -> FaktooraClient:
    return FaktooraClient(KEY, base_url=f"{root}/{scenario}/api/v1", timeout=TIMEOUT, max_retries=0)


@pytest.fixture
async def hostile() -> AsyncIterator[str]:
    async with hostile_server() as root:
        yield root


# -------------------------------------------------------------------------------- malformed responses
@pytest.mark.parametrize("scenario", sorted(EXPECTED_STATUS_ERRORS))
async def test_malformed_status_responses_give_typed_errors(hostile: str, scenario: str) -> None:
    expected = EXPECTED_STATUS_ERRORS[scenario]
    async with _client(hostile, scenario) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(E.FaktooraError) as info:
            await client.invoices.status(FID)
    assert isinstance(info.value, expected), (scenario, type(info.value), str(info.value))
    text = str(info.value)
    assert text and KEY not in text and KEY not in repr(info.value)


async def test_wrong_types_in_a_2xx_status_are_dropped_not_fatal(hostile: str) -> None:
    """API.md v2 tolerance: fields of an unexpected type are dropped (kept in .raw); the call succeeds."""
    async with _client(hostile, "wrong-types") as client:
        with anyio.fail_after(HANG_GUARD):
            status = await client.invoices.status(FID)
    assert status.invoice_status is None and status.job_status is None and status.delivery == []
    assert status.raw == {"invoiceStatus": 5, "jobStatus": ["x"], "delivery": "nope"}


async def test_retries_also_end_in_typed_errors(hostile: str) -> None:
    """With retries on, a persistently broken server still ends in a typed error (not a hang)."""
    async with FaktooraClient(
        KEY,
        base_url=f"{hostile}/silent/api/v1",
        timeout=Timeout(total=0.5, connect=0.5, read=0.5),
        max_retries=2,
    ) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(E.RequestTimeoutError):
            await client.invoices.status(FID)
        assert client.stats["attempts"] == 3


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("not-json", E.ResponseDecodeError),
        ("wrong-shape", E.ResponseDecodeError),  # three items back for one invoice sent
        ("silent", E.AmbiguousRequestError),  # a POST that timed out may have reached the server
        ("truncated", E.AmbiguousRequestError),
    ],
)
async def test_malformed_create_responses(
    hostile: str, scenario: str, expected: type[E.FaktooraError]
) -> None:
    from faktoora_async.einvoice.generate import generate_invoice

    async with _client(hostile, scenario) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(expected):
            await client.invoices.create([generate_invoice(0, seed=3)])


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("truncated-download", (E.DownloadError, E.TransportError)),
        ("endless", (E.RequestTimeoutError,)),
        ("silent", (E.RequestTimeoutError,)),
        ("html", (E.FaktooraError,)),
    ],
)
async def test_broken_downloads_leave_no_file(
    hostile: str, tmp_path: Path, scenario: str, expected: tuple[type[E.FaktooraError], ...]
) -> None:
    folder = tmp_path / "dl"
    folder.mkdir()
    async with _client(hostile, scenario) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(E.FaktooraError) as info:
            await client.invoices.download(FID, format="pdf", to=folder)
    assert isinstance(info.value, expected), (type(info.value), str(info.value))
    assert _listing(tmp_path) == ["dl"]  # no partial file, nothing outside the folder


async def test_download_through_a_compressing_server_is_complete(hostile: str, tmp_path: Path) -> None:
    async with _client(hostile, "gzip") as client:
        with anyio.fail_after(HANG_GUARD):
            path = await client.invoices.download(FID, format="pdf", to=tmp_path / "x.pdf")
            data = await client.invoices.download(FID, format="pdf")
    assert data == PDF_BYTES
    assert path.path.read_bytes() == PDF_BYTES


def _listing(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


# ---------------------------------------------------------------------------------- mass cancellation
def _connections_to(port: int) -> list[Any]:
    """TCP sockets of this process whose remote end is ``port`` (the client side of client->server links)."""
    return [
        c for c in psutil.Process(os.getpid()).net_connections(kind="tcp") if c.raddr and c.raddr.port == port
    ]


async def test_cancelling_1000_in_flight_requests_leaks_nothing() -> None:
    from faktoora_async.einvoice.generate import generate_invoice
    from faktoora_async.sandbox import Sandbox

    rng = random.Random(1000)
    tasks_before = set(asyncio.all_tasks())
    outcomes = {"cancelled": 0, "completed": 0, "error": 0}
    faults = {"latency_ms": 2, "jitter_ms": 10, "slow_download_rate": 0.5, "slow_chunk_delay_ms": 2}
    async with Sandbox(faults=faults) as sb:
        port = int(sb.base_url.split(":")[2].split("/")[0])
        async with FaktooraClient(sb.api_key, base_url=sb.base_url, max_connections=50) as client:
            created = await client.invoices.create([generate_invoice(i, seed=8) for i in range(5)])
            ids = [c.faktoora_id for c in created]
            for fid in ids:
                await client.invoices.wait(fid, timeout=60)

            async def one(i: int) -> None:
                fid = ids[i % len(ids)]
                kind = i % 4
                # half are cancelled at a random moment (most mid-request, however loaded the machine is),
                # half run to the end: both kinds happen whatever the load
                deadline = rng.uniform(0.0, 0.02) if (i // 4) % 2 == 0 else math.inf
                with anyio.move_on_after(deadline) as scope:
                    try:
                        if kind == 0:
                            await client.invoices.download(fid, format="pdf")
                        elif kind == 1:
                            await client.invoices.list(per_page=5)
                        else:
                            await client.invoices.status(fid)
                    except E.FaktooraError:
                        outcomes["error"] += 1
                        return
                outcomes["cancelled" if scope.cancelled_caught else "completed"] += 1

            async with anyio.create_task_group() as tg:
                for i in range(1000):
                    tg.start_soon(one, i)
            # the pool is intact: idle keep-alive connections at most, within the limit, and still usable
            open_now = _connections_to(port)
            assert 0 < len(open_now) <= 50, len(open_now)  # psutil does see the client's sockets
            assert (await client.invoices.status(ids[0])).invoice_status in ("created", "sent")
        # client closed: not one socket to the sandbox is left open by this process
        assert _connections_to(port) == []
    for _ in range(5):  # let close callbacks run
        await asyncio.sleep(0)
    gc.collect()
    leftover = {
        t for t in asyncio.all_tasks() - tasks_before if t is not asyncio.current_task() and not t.done()
    }
    assert not leftover, leftover
    assert outcomes["cancelled"] >= 100 and outcomes["completed"] >= 100, outcomes
    print(f"1000 requests: {outcomes}")


async def test_an_upload_answered_before_its_body_is_read_leaves_no_file_open(tmp_path: Path) -> None:
    """A server may answer (here: 401) while aiohttp's writer is still reading the file: the file must be
    closed all the same (found under load: a ResourceWarning for the open sample file)."""
    from faktoora_async.sandbox import Sandbox

    big = tmp_path / "big.xml"
    big.write_bytes(os.urandom(8_000_000))
    async with (
        Sandbox() as sb,
        FaktooraClient("sk_test_refused_upload_key", base_url=sb.base_url, max_retries=0) as c,
    ):
        for _ in range(60):
            with pytest.raises(E.AuthenticationError):
                await c.incoming.upload(big)
    proc = psutil.Process()
    assert [f.path for f in proc.open_files() if f.path == str(big)] == []
    gc.collect()  # a leaked handle would raise ResourceWarning here (an error in this suite)
