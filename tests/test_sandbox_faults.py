"""Rate limiting, seeded fault injection and the streamed "inflated" PDF, driven with raw HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pypdf
import pytest
from aiohttp import web

from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.sandbox import FaultConfig, Sandbox

pytestmark = pytest.mark.anyio


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def key(sb: Sandbox, **extra: str) -> dict[str, str]:
    return {"X-API-KEY": sb.api_key, **extra}


async def create(session: aiohttp.ClientSession, sb: Sandbox, *invoices: dict[str, Any]) -> list[str]:
    async with session.post(
        sb.base_url + "/invoices", json={"invoices": list(invoices)}, headers=key(sb)
    ) as r:
        assert r.status == 202, await r.text()
        return [item["faktooraId"] for item in await r.json()]


async def wait_status(
    session: aiohttp.ClientSession, sb: Sandbox, fid: str, job: str | None
) -> dict[str, Any]:
    for _ in range(1000):
        async with session.get(f"{sb.base_url_v2}/invoices/{fid}/status", headers=key(sb)) as r:
            assert r.status == 200
            body: dict[str, Any] = await r.json()
        if body["jobStatus"] == job and (job is not None or body["invoiceStatus"] is not None):
            return body
        await asyncio.sleep(0.01)
    raise AssertionError(f"never reached jobStatus={job}: {body}")


# --- rate limit ---------------------------------------------------------------------------------
async def test_token_bucket_429_count_and_retry_after(session: aiohttp.ClientSession) -> None:
    async with Sandbox(rate=0.1, burst=3) as sb:
        sb.add_account("unlimited")
        results = []
        for _ in range(10):
            async with session.get(sb.base_url + "/invoices", headers=key(sb)) as r:
                results.append((r.status, r.headers.get("Retry-After")))
                if r.status == 429:
                    body = await r.json()
                    assert body == {
                        "code": "TOO_MANY_REQUESTS",
                        "statusCode": 429,
                        "message": body["message"],
                    }
        assert [s for s, _ in results] == [200] * 3 + [429] * 7
        # one token per 10 s and less than one second has passed: the wait rounds up to 10 seconds
        assert {ra for s, ra in results if s == 429} == {"10"}
        assert sb.stats()["requests"]["GET /api/v1/invoices"] == {"200": 3, "429": 7}
        async with session.get(sb.base_url + "/invoices", headers={"X-API-KEY": "unlimited"}) as r:
            assert r.status == 200  # buckets are per key
        async with session.get(sb.root_url + "/_sandbox/stats") as r:
            assert r.status == 200  # admin routes are never limited


async def test_retry_after_for_faster_rate(session: aiohttp.ClientSession) -> None:
    async with Sandbox(rate=2, burst=1) as sb:
        statuses = []
        for _ in range(3):
            async with session.get(sb.base_url + "/invoices", headers=key(sb)) as r:
                statuses.append(r.status)
                if r.status == 429:
                    assert r.headers["Retry-After"] == "1"  # ceil(<= 0.5 s)
        assert statuses[0] == 200 and 429 in statuses


# --- determinism --------------------------------------------------------------------------------
async def _run_sequence(seed: int) -> tuple[list[str], dict[str, int]]:
    faults = {
        "error_rate": 0.25,
        "reset_rate": 0.2,
        "jitter_ms": 2,
        "ambiguous_rate": 0.3,
        "generation_failure_rate": 0.5,
    }
    outcomes: list[str] = []
    async with Sandbox(seed=seed, faults=faults) as sb, aiohttp.ClientSession() as s:
        for i in range(40):
            try:
                if i % 4 == 3:
                    body = {"invoices": [generate_invoice(i, seed=seed)]}
                    async with s.post(sb.base_url + "/invoices", json=body, headers=key(sb)) as r:
                        await r.read()
                        outcomes.append(f"POST {r.status}")
                else:
                    async with s.get(sb.base_url + "/invoices", headers=key(sb)) as r:
                        await r.read()
                        outcomes.append(f"GET {r.status}")
            except aiohttp.ClientError as exc:
                outcomes.append(type(exc).__name__)
        for _ in range(500):
            jobs = [(row["invoiceNumber"], row["jobStatus"]) for row in sb.invoices()]
            if all(job in (None, "failed") for _, job in jobs):
                break
            await asyncio.sleep(0.01)
        outcomes += [f"{number} {job}" for number, job in jobs]
        return outcomes, dict(sb.stats()["faultsInjected"])


async def test_same_seed_same_faults() -> None:
    first, counts1 = await _run_sequence(seed=11)
    second, counts2 = await _run_sequence(seed=11)
    assert first == second
    assert counts1 == counts2
    kinds = set(first)
    assert "GET 200" in kinds and ({"GET 500", "GET 502", "GET 503"} & kinds)
    assert {"ClientOSError", "ServerDisconnectedError"} & kinds  # resets / dropped POSTs
    assert any(o.endswith(" failed") for o in first) and any(o.endswith(" None") for o in first)
    other, _ = await _run_sequence(seed=12)
    assert other != first


async def test_injected_5xx_bodies_and_admin_is_exempt(session: aiohttp.ClientSession) -> None:
    async with Sandbox(faults=FaultConfig(error_rate=1.0, error_statuses=(503,))) as sb:
        async with session.get(sb.base_url + "/invoices", headers=key(sb)) as r:
            assert r.status == 503
            assert await r.json() == {
                "code": "SERVICE_UNAVAILABLE",
                "statusCode": 503,
                "message": "injected fault",
            }
        async with session.get(sb.root_url + "/_sandbox/faults") as r:
            assert r.status == 200
            cfg = await r.json()
            assert cfg["errorRate"] == 1.0 and cfg["errorStatuses"] == [503]
        async with session.put(sb.root_url + "/_sandbox/faults", json={"errorRate": 0}) as r:
            assert r.status == 200 and (await r.json())["errorRate"] == 0
        for bad in ({"errorRate": 2}, {"nope": 1}, {"errorStatuses": [404]}, {"latencyMs": "x"}, [1]):
            async with session.put(sb.root_url + "/_sandbox/faults", json=bad) as r:
                assert r.status == 400, bad
        async with session.get(sb.base_url + "/invoices", headers=key(sb)) as r:
            assert r.status == 200
        assert sb.stats()["faultsInjected"] == {"http_503": 1}


async def test_reset_before_response_stores_nothing(session: aiohttp.ClientSession) -> None:
    async with Sandbox(faults={"reset_rate": 1.0}) as sb:
        with pytest.raises(aiohttp.ClientOSError):
            body = {"invoices": [generate_invoice(0, seed=3)]}
            async with session.post(sb.base_url + "/invoices", json=body, headers=key(sb)) as r:
                await r.read()
        assert sb.invoices() == []
        assert sb.stats()["faultsInjected"] == {"reset": 1}


# --- ambiguous POST, truncation, slow bodies ------------------------------------------------------
async def test_ambiguous_post_stores_then_drops(session: aiohttp.ClientSession) -> None:
    async with Sandbox() as sb:
        sb.set_faults(ambiguous_rate=1.0)
        inv = generate_invoice(0, seed=3)
        with pytest.raises(aiohttp.ServerDisconnectedError):
            async with session.post(
                sb.base_url + "/invoices", json={"invoices": [inv]}, headers=key(sb)
            ) as r:
                await r.read()
        (stored,) = sb.invoices()
        assert stored["invoiceNumber"] == inv["invoiceNumber"]
        sb.set_faults(ambiguous_rate=0.0)
        async with session.post(sb.base_url + "/invoices", json={"invoices": [inv]}, headers=key(sb)) as r:
            assert r.status == 409
            assert (await r.json())["code"] == "DUPLICATE_INVOICE_NUMBER"
        stats = sb.stats()
        assert stats["faultsInjected"]["ambiguous_post"] == 1
        assert stats["requests"]["POST /api/v1/invoices"] == {"dropped": 1, "409": 1}


async def test_truncated_and_slow_downloads(session: aiohttp.ClientSession) -> None:
    async with Sandbox() as sb:
        (fid,) = await create(session, sb, generate_invoice(1, seed=3))
        await wait_status(session, sb, fid, None)
        url = f"{sb.base_url}/invoices/{fid}"
        async with session.get(url, headers=key(sb, Accept="application/pdf")) as r:
            full = await r.read()
        sb.set_faults(truncate_rate=1.0)
        async with session.get(url, headers=key(sb, Accept="application/pdf")) as r:
            assert r.status == 200 and int(r.headers["Content-Length"]) == len(full)
            with pytest.raises(aiohttp.ClientPayloadError):
                await r.read()
        sb.set_faults(
            truncate_rate=0.0, slow_download_rate=1.0, slow_chunk_bytes=997, slow_chunk_delay_ms=0.5
        )
        async with session.get(url, headers=key(sb, Accept="application/pdf")) as r:
            assert await r.read() == full
        counts = sb.stats()["faultsInjected"]
        assert counts["truncated_download"] == 1 and counts["slow_download"] == 1


async def test_generation_failure_marks_job_failed(session: aiohttp.ClientSession) -> None:
    async with Sandbox(faults={"generationFailureRate": 1.0}) as sb:
        (fid,) = await create(session, sb, generate_invoice(2, seed=3))
        st = await wait_status(session, sb, fid, "failed")
        assert st["invoiceStatus"] is None and isinstance(st["error"], str) and st["error"]
        async with session.get(
            f"{sb.base_url}/invoices/{fid}", headers=key(sb, Accept="application/xml")
        ) as r:
            assert r.status == 409 and (await r.json())["code"] == "NOT_READY"
        assert sb.stats()["faultsInjected"]["generation_failure"] == 1


async def test_failing_webhook_target_is_retried(session: aiohttp.ClientSession) -> None:
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/h", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with Sandbox(webhook_retry_delays=(0.01,), faults={"webhookFailureRate": 1.0}) as sb:
            target = f"http://127.0.0.1:{runner.addresses[0][1]}/h"
            async with session.post(
                sb.base_url + "/webhooks", json={"action": "invoiceCreate", "target": target}, headers=key(sb)
            ) as r:
                assert r.status == 201
            (fid,) = await create(session, sb, generate_invoice(3, seed=3))
            for _ in range(500):
                if len(sb.webhook_log) >= 3:
                    break
                await asyncio.sleep(0.01)
            log = sb.webhook_log
            assert [(e["attempt"], e["ok"], e["injected"]) for e in log] == [
                (1, False, True),
                (2, False, True),
                (3, False, True),
            ]
            assert len(received) == 3 and {b["faktooraId"] for b in received} == {fid}
            assert sb.stats()["webhooks"] == {"attempts": 3, "failures": 3, "delivered": 0}
    finally:
        await runner.cleanup()


async def test_unreachable_webhook_target_is_logged(session: aiohttp.ClientSession) -> None:
    async with Sandbox(webhook_retry_delays=(0.01,)) as sb:
        # a port nobody listens on: bind, learn the port, close
        probe = web.AppRunner(web.Application())
        await probe.setup()
        site = web.TCPSite(probe, "127.0.0.1", 0)
        await site.start()
        port = probe.addresses[0][1]
        await probe.cleanup()
        async with session.post(
            sb.base_url + "/webhooks",
            json={"action": "invoiceCreate", "target": f"http://127.0.0.1:{port}/x"},
            headers=key(sb),
        ) as r:
            assert r.status == 201
        await create(session, sb, generate_invoice(4, seed=3))
        for _ in range(500):
            if len(sb.webhook_log) >= 3:
                break
            await asyncio.sleep(0.01)
        assert [e["ok"] for e in sb.webhook_log] == [False] * 3
        assert all(e["error"] and not e["injected"] for e in sb.webhook_log)


# --- inflate --------------------------------------------------------------------------------------
async def test_inflated_pdf_is_streamed_valid_and_hashed(session: aiohttp.ClientSession) -> None:
    async with Sandbox() as sb:
        (fid,) = await create(session, sb, generate_invoice(5, seed=3))
        await wait_status(session, sb, fid, None)
        size = 3 * 1024 * 1024 + 17
        async with session.post(f"{sb.root_url}/_sandbox/inflate/{fid}", params={"bytes": str(size)}) as r:
            assert r.status == 200
            answer = await r.json()
        async with session.get(
            f"{sb.base_url}/invoices/{fid}", headers=key(sb, Accept="application/pdf")
        ) as r:
            assert r.status == 200 and int(r.headers["Content-Length"]) == size
            digest = hashlib.sha256()
            total = 0
            head = b""
            async for chunk in r.content.iter_chunked(65536):
                if len(head) < 4 * 1024 * 1024:
                    head += chunk
                digest.update(chunk)
                total += len(chunk)
        assert total == size
        assert digest.hexdigest() == answer["pdfSha256"]
        (row,) = sb.invoices()
        assert row["pdfSha256"] == answer["pdfSha256"] and row["pdfSize"] == size
        reader = pypdf.PdfReader(io.BytesIO(head))
        assert len(reader.pages) >= 1
        for bad in ("10", "x", "-5", ""):
            async with session.post(f"{sb.root_url}/_sandbox/inflate/{fid}", params={"bytes": bad}) as r:
                assert r.status == 400, bad
        async with session.post(f"{sb.root_url}/_sandbox/inflate/FNOPE0000", params={"bytes": "99999"}) as r:
            assert r.status == 404
