"""Bulk runs end their waits by reading the invoice list (``faktoora_async.bulk.sweep``).

One ``GET /invoices?sort=createdAt&order=desc&perPage=1000`` page says which of up to a thousand invoices
have their files (``invoiceStatus`` is null until then), so a run of hundreds of invoices needs a few
list requests instead of a status poll per invoice.  What a sweep cannot tell (a failed generation, a
list that fails) still goes through status polls, and the run stays exactly once.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from faktoora_async.bulk import BulkRunner
from faktoora_async.bulk.sweep import SWEEP_MIN_INVOICES
from faktoora_async.client import FaktooraClient
from faktoora_async.einvoice.generate import generate_invoices
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

DELAY = (0.2, 0.6)


def route_count(stats: dict[str, Any], method: str, suffix: str) -> int:
    return sum(
        sum(by_status.values())
        for route, by_status in stats["requests"].items()
        if route.startswith(method + " ") and route.endswith(suffix)
    )


def runner(client: FaktooraClient, tmp_path: Path, **kw: Any) -> BulkRunner:
    kw.setdefault("concurrency", 16)
    kw.setdefault("batch_size", 100)
    kw.setdefault("formats", ("xml",))
    kw.setdefault("wait_timeout", 60.0)
    return BulkRunner(client, journal=tmp_path / "journal.sqlite", out_dir=tmp_path / "out", **kw)


def assert_all_files(tmp_path: Path, count: int) -> None:
    assert len(list((tmp_path / "out").rglob("*.xml"))) == count


async def test_a_bulk_run_waits_with_list_sweeps_not_one_poll_per_invoice(tmp_path: Path) -> None:
    count = 300
    async with Sandbox(processing_delay=DELAY, seed=61) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            report = await runner(client, tmp_path).run(generate_invoices(count, seed=61))
        stats = sb.stats()
    assert report.ok, report.failed[:3]
    assert report.counts == {"done": count}
    lists = route_count(stats, "GET", "/invoices")
    polls = route_count(stats, "GET", "/status")
    assert lists == report.requests["list"] > 0
    assert polls == report.requests.get("status", 0)
    # only the run's first invoices poll for themselves (and a stray one the sweeps were slow to see)
    assert polls <= 2 * SWEEP_MIN_INVOICES + 10, (polls, lists)
    assert lists < count / 5, lists
    assert_all_files(tmp_path, count)
    print(f"\nsweep: {lists} list GETs, {polls} status GETs for {count} invoices")


async def test_sweep_false_polls_every_invoice(tmp_path: Path) -> None:
    count = 120
    async with Sandbox(processing_delay=DELAY, seed=62) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            report = await runner(client, tmp_path, sweep=False).run(generate_invoices(count, seed=62))
        stats = sb.stats()
    assert report.ok and report.counts == {"done": count}
    assert route_count(stats, "GET", "/invoices") == 0 and "list" not in report.requests
    assert route_count(stats, "GET", "/status") >= count


async def test_failed_generations_are_found_by_the_polls_the_sweep_falls_back_to(tmp_path: Path) -> None:
    """A failed generation never gets an ``invoiceStatus``: its wait gives up on the sweeps and polls."""
    count = 80
    faults = {"generation_failure_rate": 0.1}
    async with Sandbox(processing_delay=(0.05, 0.2), seed=63, faults=faults) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            report = await runner(client, tmp_path, sweep=True).run(generate_invoices(count, seed=63))
        server_failed = {i["invoiceNumber"] for i in sb.invoices() if i["jobStatus"] == "failed"}
        stats = sb.stats()
    assert server_failed, "the fault rate should have failed some invoices"
    assert {r.number for r in report.failed} == server_failed
    assert all(r.reason and r.reason.startswith("generation failed") for r in report.failed)
    assert report.counts["done"] == count - len(server_failed)
    assert route_count(stats, "GET", "/invoices") > 0
    assert_all_files(tmp_path, count - len(server_failed))


@contextlib.asynccontextmanager
async def list_failing_proxy(sb: Sandbox, *, strip: bool = False) -> AsyncIterator[str]:
    """A loopback proxy in front of ``sb`` that answers every ``GET .../invoices`` 503 (``strip``: passes it
    on with ``invoiceStatus`` removed from the items, a list that does not tell); its base URL."""
    target = URL(sb.base_url)
    async with aiohttp.ClientSession() as upstream:

        async def forward(request: web.Request) -> web.StreamResponse:
            is_list = request.method == "GET" and request.path.rstrip("/").endswith("/invoices")
            if is_list and not strip:
                return web.json_response({"statusCode": 503, "message": "list down"}, status=503)
            url = target.with_path(request.path).with_query(request.query)
            drop = ("host", "content-length")
            headers = {k: v for k, v in request.headers.items() if k.lower() not in drop}
            async with upstream.request(request.method, url, headers=headers, data=await request.read()) as r:
                body = await r.read()
                if is_list and r.status == 200:
                    doc = json.loads(body)
                    for item in doc["data"]:
                        item.pop("invoiceStatus", None)
                    body = json.dumps(doc).encode()
                keep = {k: v for k, v in r.headers.items() if k.lower() in ("content-type", "retry-after")}
                return web.Response(body=body, status=r.status, headers=keep)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", forward)
        server = web.AppRunner(app)
        await server.setup()
        site = web.TCPSite(server, "127.0.0.1", 0)
        await site.start()
        port = server.addresses[0][1]
        try:
            yield str(target.with_host("127.0.0.1").with_port(port))
        finally:
            await server.cleanup()


async def test_failing_list_requests_fall_back_to_polls(tmp_path: Path) -> None:
    """Every list GET answered 503: after a few failed sweeps the waits poll, and the run completes."""
    count = 60
    async with Sandbox(processing_delay=DELAY, seed=64) as sb, list_failing_proxy(sb) as base_url:
        async with FaktooraClient(sb.api_key, base_url=base_url, max_retries=0) as client:
            report = await runner(client, tmp_path, sweep=True).run(generate_invoices(count, seed=64))
        stats = sb.stats()
    assert report.ok and report.counts == {"done": count}, report.failed[:3]
    assert report.requests.get("list", 0) >= 1
    assert route_count(stats, "GET", "/invoices") == 0  # the proxy answered them all
    assert route_count(stats, "GET", "/status") >= count
    assert_all_files(tmp_path, count)


async def test_a_list_without_invoice_status_ends_the_sweeps(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Items without ``invoiceStatus``: no sweep ever sees a file made, so once the first wait gives up on
    them the sweeps stop and every invoice polls (instead of each one waiting out the give-up time)."""
    count = 40
    caplog.set_level(logging.WARNING, logger="faktoora_async.bulk")
    async with Sandbox(processing_delay=DELAY, seed=65) as sb, list_failing_proxy(sb, strip=True) as url:
        async with FaktooraClient(sb.api_key, base_url=url) as client:
            report = await runner(client, tmp_path, sweep=True).run(generate_invoices(count, seed=65))
        stats = sb.stats()
    assert report.ok and report.counts == {"done": count}, report.failed[:3]
    assert route_count(stats, "GET", "/invoices") == report.requests["list"] > 0
    assert route_count(stats, "GET", "/status") >= count
    assert any("shows no finished invoice" in r.getMessage() for r in caplog.records)
    assert_all_files(tmp_path, count)
