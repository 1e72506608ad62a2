"""BulkRunner against the real sandbox over loopback HTTP: outcomes, resume, faults, rate limits."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from _bulk_child import fetch_admin, verify_exactly_once

from faktoora_async.bulk import BulkRunner, ProgressEvent, read_rows
from faktoora_async.client import FaktooraClient
from faktoora_async.einvoice.generate import generate_invoices
from faktoora_async.sandbox import Sandbox, SandboxProcess

pytestmark = pytest.mark.anyio

FAST = (0.005, 0.03)


def api_requests(stats: dict[str, Any]) -> dict[str, int]:
    """status -> count over every API route (admin routes excluded)."""
    out: dict[str, int] = {}
    for route, by_status in stats["requests"].items():
        if "/_sandbox" in route:
            continue
        for status, n in by_status.items():
            out[status] = out.get(status, 0) + n
    return out


def route_count(stats: dict[str, Any], method: str, suffix: str, status: str | None = None) -> int:
    total = 0
    for route, by_status in stats["requests"].items():
        if route.startswith(method + " ") and route.endswith(suffix):
            total += by_status.get(status, 0) if status else sum(by_status.values())
    return total


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(processing_delay=FAST, seed=3) as sb:
        yield sb


def runner(client: FaktooraClient, tmp_path: Path, **kw: Any) -> BulkRunner:
    kw.setdefault("concurrency", 8)
    kw.setdefault("batch_size", 20)
    kw.setdefault("wait_timeout", 30.0)
    return BulkRunner(client, journal=tmp_path / "journal.sqlite", out_dir=tmp_path / "out", **kw)


async def test_run_then_resume_does_nothing_again(sandbox: Sandbox, tmp_path: Path) -> None:
    invoices = list(generate_invoices(45, seed=11))
    events: list[ProgressEvent] = []
    async with FaktooraClient(sandbox.api_key, base_url=sandbox.base_url) as client:
        report = await runner(client, tmp_path, progress=events.append).run(invoices)
    assert report.ok, report.failed[:3]
    assert report.counts == {"done": 45}
    assert report.requests["create"] == 3  # 45 invoices in batches of 20
    # the first 32 waits poll; the list sweeps (bulk.sweep) may end the later ones without a poll
    assert report.polls_per_invoice >= 32 / 45 and report.requests["status"] >= 32
    assert {e.kind for e in events} >= {"planned", "submitting", "posted", "submitted", "ready", "downloaded"}
    out = tmp_path / "out"
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["counts"] == {"done": 45} and len(doc["invoices"]) == 45
    assert (out / "report.csv").read_text(encoding="utf-8").count("\n") == 46
    numbers = [i["invoiceNumber"] for i in invoices]
    verify_exactly_once(
        sandbox_invoices=sandbox.invoices(),
        stats=sandbox.stats(),
        journal=tmp_path / "journal.sqlite",
        out_dir=out,
        numbers=numbers,
    )
    posts = route_count(sandbox.stats(), "POST", "/invoices")

    # Same journal, same input (here as an async iterable): nothing is sent again.
    async def again() -> AsyncIterator[dict[str, Any]]:
        for inv in invoices:
            yield inv

    async with FaktooraClient(sandbox.api_key, base_url=sandbox.base_url) as client:
        second = await runner(client, tmp_path).run(again())
    assert second.ok and second.already_done == 45
    assert second.requests["total"] == 0 and second.requests.get("http_attempts", 0) == 0
    assert route_count(sandbox.stats(), "POST", "/invoices") == posts


async def test_input_is_read_lazily_with_bounded_lead(sandbox: Sandbox, tmp_path: Path) -> None:
    """The runner never holds more than a fixed number of invoices between reading and finishing them."""
    consumed = 0
    max_lead = 0

    def source() -> Any:
        nonlocal consumed
        for inv in generate_invoices(600, seed=19):
            consumed += 1
            yield inv

    def progress(event: ProgressEvent) -> None:
        nonlocal max_lead
        finished = event.totals.get("downloaded", 0) + event.totals.get("failed", 0)
        max_lead = max(max_lead, consumed - finished)

    async with FaktooraClient(sandbox.api_key, base_url=sandbox.base_url) as client:
        bulk = runner(client, tmp_path, batch_size=20, concurrency=4, formats=("xml",), progress=progress)
        report = await bulk.run(source())
    assert report.ok and report.total == 600
    # producer chunk + 2 queued chunks + 1 chunk in the submitter + wait queue + waiting slots + download
    # queue + downloads in flight (+1 in the dispatcher's hand), plus one batch of slack
    bound = 20 + 2 * 20 + 20 + 20 + bulk.max_waiting + 20 + 4 + 1 + 20
    assert max_lead <= bound < 600, (max_lead, bound)
    assert report.journal_stats["transactions"] > 0


async def test_webhook_events_replace_polling(sandbox: Sandbox, tmp_path: Path) -> None:
    """With a fed webhook hub the runner waits on events; status polls are only a rare safety net."""
    from aiohttp import web

    from faktoora_async.integrations.aiohttp import webhook_handler
    from faktoora_async.webhooks import WebhookReceiver

    invoices = list(generate_invoices(60, seed=20))
    async with FaktooraClient(sandbox.api_key, base_url=sandbox.base_url) as client:
        app = web.Application()
        app.router.add_post("/hook", webhook_handler(WebhookReceiver(client.events)))
        app_runner = web.AppRunner(app, access_log=None)
        await app_runner.setup()
        try:
            site = web.TCPSite(app_runner, "127.0.0.1", 0)
            await site.start()
            port = app_runner.addresses[0][1]
            await client.webhooks.create("invoiceCreate", f"http://127.0.0.1:{port}/hook")
            # One invoice first, so that the hub is fed before the bulk run starts waiting.
            (first,) = await client.invoices.create([next(generate_invoices(1, seed=99))])
            assert await client.events.wait_for_change(first.faktoora_id, None, 10) == "created"
            assert client.events.active
            report = await runner(client, tmp_path).run(invoices)
        finally:
            await app_runner.cleanup()
    assert report.ok
    assert report.wait_stats["webhook_ready"] >= 50
    assert report.requests.get("status", 0) <= 10
    stats = sandbox.stats()
    assert route_count(stats, "GET", "/status") == report.requests.get("status", 0)


async def test_webhook_mode_needs_almost_no_status_gets(tmp_path: Path) -> None:
    """webhooks=True from the start (no warm-up event): ~100 invoices, <= 0.1 status GETs per invoice."""
    import secrets

    from aiohttp import web

    from faktoora_async.integrations.aiohttp import webhook_handler
    from faktoora_async.webhooks import WebhookReceiver

    count = 100
    invoices = list(generate_invoices(count, seed=31))
    secret = secrets.token_urlsafe(16)
    async with Sandbox(processing_delay=(0.05, 0.3), seed=14) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            receiver = WebhookReceiver(client.events, secret=secret)
            app = web.Application()
            app.router.add_post("/hook", webhook_handler(receiver))
            app_runner = web.AppRunner(app, access_log=None)
            await app_runner.setup()
            try:
                await web.TCPSite(app_runner, "127.0.0.1", 0).start()
                port = app_runner.addresses[0][1]
                target = f"http://127.0.0.1:{port}/hook?token={secret}"
                for action in ("invoiceCreate", "invoiceSent"):
                    await client.webhooks.create(action, target)
                assert not client.events.active
                bulk = runner(client, tmp_path, concurrency=16, batch_size=50, webhooks=True)
                report = await bulk.run(invoices)
            finally:
                await app_runner.cleanup()
        stats = sb.stats()
        status_gets = route_count(stats, "GET", "/status")
        assert report.ok, report.failed[:3]
        assert report.counts == {"done": count}
        assert status_gets == report.requests.get("status", 0)
        assert status_gets <= 0.1 * count, (status_gets, report.wait_stats, receiver.stats)
        assert report.wait_stats["webhook_ready"] >= 0.9 * count
        assert receiver.stats.rejected == 0
        print(f"webhook mode: {status_gets} status GETs for {count} invoices; waits {report.wait_stats}")
        # every file downloaded once and equal to the server's
        assert route_count(stats, "GET", "/invoices/{faktooraId}", "200") == 2 * count
        verify_exactly_once(
            sandbox_invoices=sb.invoices(),
            stats=stats,
            journal=tmp_path / "journal.sqlite",
            out_dir=tmp_path / "out",
            numbers=[i["invoiceNumber"] for i in invoices],
        )


async def test_webhook_ready_but_download_not_ready_falls_back_to_polling(tmp_path: Path) -> None:
    """An early "created" event (no file yet): the download meets 409 NOT_READY and falls back to polling."""
    count = 6
    invoices = list(generate_invoices(count, seed=32))
    async with Sandbox(processing_delay=(0.6, 0.8), seed=15) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            hub = client.events
            announced: set[str] = set()

            async def premature_events() -> None:
                # Announce every invoice as "created" as soon as the server stores it, long before its
                # file exists (an event that arrived too early, or was about another state).
                while len(announced) < count:
                    for inv in sb.invoices():
                        fid = inv["faktooraId"]
                        if fid not in announced and inv["xmlSha256"] is None:
                            announced.add(fid)
                            hub.publish(fid, "created")
                    await anyio.sleep(0.005)

            async with anyio.create_task_group() as tg:
                tg.start_soon(premature_events)
                bulk = runner(client, tmp_path, formats=("xml",), webhooks=True)
                report = await bulk.run(invoices)
        stats = sb.stats()
    assert len(announced) == count
    assert report.ok, report.failed[:3]
    assert report.wait_stats["webhook_ready"] == count
    assert report.wait_stats["not_ready_downloads"] == count
    assert route_count(stats, "GET", "/invoices/{faktooraId}", "409") == count
    assert route_count(stats, "GET", "/invoices/{faktooraId}", "200") == count
    assert route_count(stats, "GET", "/status") >= count
    verify_exactly_once(
        sandbox_invoices=sb.invoices(),
        stats=stats,
        journal=tmp_path / "journal.sqlite",
        out_dir=tmp_path / "out",
        numbers=[i["invoiceNumber"] for i in invoices],
        formats=("xml",),
    )


async def test_broken_input_finishes_what_was_read_then_raises(sandbox: Sandbox, tmp_path: Path) -> None:
    def source() -> Any:
        yield from generate_invoices(10, seed=22)
        raise ValueError("line 11 is not an invoice")

    async with FaktooraClient(sandbox.api_key, base_url=sandbox.base_url) as client:
        with pytest.raises(ValueError, match="line 11"):
            await runner(client, tmp_path, batch_size=10, formats=("xml",)).run(source())
    rows = list(read_rows(tmp_path / "journal.sqlite"))
    assert len(rows) == 10 and {r.state for r in rows} == {"downloaded"}
    doc = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert doc["interrupted"] is True and doc["counts"] == {"done": 10}


async def test_number_twice_in_the_input_is_sent_once(sandbox: Sandbox, tmp_path: Path) -> None:
    invoices = list(generate_invoices(6, seed=23))
    invoices.append(copy.deepcopy(invoices[2]))
    async with FaktooraClient(sandbox.api_key, base_url=sandbox.base_url) as client:
        report = await runner(client, tmp_path, formats=("xml",)).run(invoices)
    assert report.counts == {"done": 6, "duplicate": 1}
    assert [r.number for r in report.failed] == [invoices[2]["invoiceNumber"]]
    assert sandbox.stats()["invoicesStored"] == 6


async def test_wait_timeout_fails_then_resume_finishes_without_resending(tmp_path: Path) -> None:
    invoices = list(generate_invoices(10, seed=24))
    async with Sandbox(processing_delay=(1.0, 1.2), seed=9) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            first = await runner(client, tmp_path, formats=("xml",), wait_timeout=0.3).run(invoices)
            assert first.counts == {"failed": 10}
            assert all(r.reason and r.reason.startswith("not ready after") for r in first.rows)
            second = await runner(client, tmp_path, formats=("xml",)).run(invoices)
        assert second.ok and "create" not in second.requests and "lookup" not in second.requests
        verify_exactly_once(
            sandbox_invoices=sb.invoices(),
            stats=sb.stats(),
            journal=tmp_path / "journal.sqlite",
            out_dir=tmp_path / "out",
            numbers=[i["invoiceNumber"] for i in invoices],
            formats=("xml",),
        )


async def test_one_run_per_journal_at_a_time(tmp_path: Path) -> None:
    from faktoora_async.errors import ConfigurationError

    started = anyio.Event()
    results: list[Any] = []
    async with (
        Sandbox(processing_delay=(0.3, 0.5), seed=10) as sb,
        FaktooraClient(sb.api_key, base_url=sb.base_url) as client,
    ):

        async def first() -> None:
            bulk = runner(client, tmp_path, formats=("xml",), progress=lambda e: started.set())
            results.append(await bulk.run(generate_invoices(20, seed=25)))

        async with anyio.create_task_group() as tg:
            tg.start_soon(first)
            await started.wait()
            with pytest.raises(ConfigurationError, match="in use"):
                await runner(client, tmp_path, formats=("xml",)).run(generate_invoices(20, seed=25))
    assert results[0].ok
    assert sb.stats()["invoicesStored"] == 20


async def test_invoice_structs_and_dicts_mixed(sandbox: Sandbox, tmp_path: Path) -> None:
    from faktoora_async.models import Invoice
    from faktoora_async.protocol import decoder_for

    decode = decoder_for(Invoice).decode
    dicts = list(generate_invoices(8, seed=26))
    mixed: list[Any] = [decode(json.dumps(d).encode()) if k % 2 else d for k, d in enumerate(dicts)]
    assert isinstance(mixed[1], Invoice)
    async with FaktooraClient(sandbox.api_key, base_url=sandbox.base_url) as client:
        report = await runner(client, tmp_path, formats=("xml",)).run(mixed)
    assert report.counts == {"done": 8}
    assert {i["invoiceNumber"] for i in sandbox.invoices()} == {d["invoiceNumber"] for d in dicts}


async def test_download_failures_are_reported_then_resumed(tmp_path: Path) -> None:
    invoices = list(generate_invoices(12, seed=27))
    async with Sandbox(processing_delay=FAST, seed=12, faults={"truncate_rate": 1.0}) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url, max_retries=0) as client:
            bulk = runner(client, tmp_path, formats=("xml",))
            first = await bulk.run(invoices)
            assert first.counts == {"failed": 12}
            assert all(r.reason and r.reason.startswith("download of xml failed") for r in first.rows)
            assert not [
                p for p in (tmp_path / "out").iterdir() if p.suffix == ".xml" or p.name.startswith(".")
            ]
            sb.set_faults(truncate_rate=0.0)
            second = await runner(client, tmp_path, formats=("xml",)).run(invoices)
        assert second.ok and "create" not in second.requests
        verify_exactly_once(
            sandbox_invoices=sb.invoices(),
            stats=sb.stats(),
            journal=tmp_path / "journal.sqlite",
            out_dir=tmp_path / "out",
            numbers=[i["invoiceNumber"] for i in invoices],
            formats=("xml",),
        )


async def test_preflight_failures_are_reported_not_sent(sandbox: Sandbox, tmp_path: Path) -> None:
    invoices = list(generate_invoices(12, seed=12))
    bad = {1: invoices[1]["invoiceNumber"], 7: invoices[7]["invoiceNumber"]}
    invoices[1]["invoiceItems"] = []
    invoices[7]["currency"] = "EURO"
    async with FaktooraClient(sandbox.api_key, base_url=sandbox.base_url) as client:
        report = await runner(client, tmp_path).run(invoices)
    assert report.counts == {"done": 10, "failed": 2}
    failed = {r.number: r for r in report.failed}
    assert set(failed) == set(bad.values())
    for row in failed.values():
        assert row.rule_ids, row
        assert row.reason and row.reason.startswith("pre-flight")
    on_server = {inv["invoiceNumber"] for inv in sandbox.invoices()}
    assert not on_server & set(bad.values())
    assert len(on_server) == 10
    assert route_count(sandbox.stats(), "POST", "/invoices", "400") == 0
    csv_text = (tmp_path / "out" / "report.csv").read_text(encoding="utf-8")
    assert all(row.rule_ids[0] in csv_text for row in failed.values())


async def test_partial_400_drops_only_the_rejected_invoices(sandbox: Sandbox, tmp_path: Path) -> None:
    invoices = list(generate_invoices(25, seed=13))
    del invoices[3]["buyer"]  # the server's own validation rejects these two
    invoices[17]["issueDate"] = "2025-13-45"
    rejected = {invoices[3]["invoiceNumber"], invoices[17]["invoiceNumber"]}
    async with FaktooraClient(sandbox.api_key, base_url=sandbox.base_url) as client:
        report = await runner(client, tmp_path, batch_size=25, preflight=False).run(invoices)
    assert report.counts == {"done": 23, "failed": 2}
    for row in report.failed:
        assert row.number in rejected
        assert row.reason and "rejected by the server" in row.reason
    stats = sandbox.stats()
    assert route_count(stats, "POST", "/invoices", "400") == 1
    assert route_count(stats, "POST", "/invoices", "202") == 1
    assert stats["invoicesStored"] == 23


async def test_foreign_duplicate_and_changed_payload(sandbox: Sandbox, tmp_path: Path) -> None:
    invoices = list(generate_invoices(10, seed=14))
    async with FaktooraClient(sandbox.api_key, base_url=sandbox.base_url) as client:
        # Someone else already created number 4 on this account.
        await client.invoices.create([invoices[4]])
        report = await runner(client, tmp_path, batch_size=10).run(invoices)
        assert report.counts == {"done": 9, "failed": 1}
        (dup,) = report.failed
        assert dup.number == invoices[4]["invoiceNumber"]
        assert dup.reason and "duplicate invoice number" in dup.reason

        changed = copy.deepcopy(invoices)
        changed[2]["note"] = "changed after the first run"
        stored = sandbox.stats()["invoicesStored"]
        again = await runner(client, tmp_path, batch_size=10).run(changed)
    conflict = [r for r in again.rows if r.outcome == "conflict"]
    assert [r.number for r in conflict] == [invoices[2]["invoiceNumber"]]
    assert conflict[0].reason and "different payload" in conflict[0].reason
    assert sandbox.stats()["invoicesStored"] == stored


async def test_generation_failures_do_not_stop_the_others(tmp_path: Path) -> None:
    async with Sandbox(processing_delay=FAST, seed=5, faults={"generation_failure_rate": 0.25}) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            report = await runner(client, tmp_path).run(generate_invoices(40, seed=15))
        server_failed = {i["invoiceNumber"] for i in sb.invoices() if i["jobStatus"] == "failed"}
    assert server_failed, "the fault rate should have failed some invoices"
    assert {r.number for r in report.failed} == server_failed
    assert all(r.reason and r.reason.startswith("generation failed") for r in report.failed)
    assert report.counts["done"] == 40 - len(server_failed)


async def test_cancellation_leaves_a_resumable_journal(sandbox: Sandbox, tmp_path: Path) -> None:
    invoices = list(generate_invoices(240, seed=16))
    numbers = [i["invoiceNumber"] for i in invoices]
    with anyio.CancelScope() as scope:

        def stop_early(event: ProgressEvent) -> None:
            if event.totals.get("downloaded", 0) >= 30:
                scope.cancel()

        async with FaktooraClient(sandbox.api_key, base_url=sandbox.base_url) as client:
            await runner(client, tmp_path, progress=stop_early, formats=("xml",)).run(invoices)
    assert scope.cancelled_caught
    doc = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert doc["interrupted"] is True
    assert doc["counts"].get("pending", 0) > 0
    states = {r.state for r in read_rows(tmp_path / "journal.sqlite")}
    assert states <= {"planned", "submitting", "submitted", "ready", "downloaded"}
    assert "downloaded" in states

    async with FaktooraClient(sandbox.api_key, base_url=sandbox.base_url) as client:
        report = await runner(client, tmp_path, formats=("xml",)).run(invoices)
    assert report.ok and report.already_done >= 30
    verify_exactly_once(
        sandbox_invoices=sandbox.invoices(),
        stats=sandbox.stats(),
        journal=tmp_path / "journal.sqlite",
        out_dir=tmp_path / "out",
        numbers=numbers,
        formats=("xml",),
    )


async def test_rate_limited_run_keeps_429s_rare(tmp_path: Path) -> None:
    rate = 60.0
    async with Sandbox(processing_delay=FAST, seed=6, rate=rate, burst=10) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            report = await runner(client, tmp_path, concurrency=16, batch_size=50, formats=("xml",)).run(
                generate_invoices(150, seed=17)
            )
        stats = sb.stats()
    assert report.ok
    by_status = api_requests(stats)
    total = sum(by_status.values())
    throttled = by_status.get("429", 0)
    used = total / (report.wall_time * rate)
    print(f"\n429s: {throttled}/{total} = {throttled / total:.2%}; rate use {used:.0%} of {rate:g}/s")
    # Behaviour, not a figure: the governor paces the run, so 429s stay a small share.  An ungoverned client
    # with 16 workers honouring Retry-After gets ~60 % 429s here (490 of 800, measured); this run gets
    # 0.3-0.7 % on an idle machine and 2.3 % at worst seen on a loaded one, so 5 % fails a broken governor
    # and holds on a busy machine.  The rate figure itself is benchmarks/b1_month_end.py's business.
    assert throttled / total < 0.05


async def test_ambiguous_posts_are_reconciled_not_resent(tmp_path: Path) -> None:
    faults = {"ambiguous_rate": 0.4, "reset_rate": 0.05}
    invoices = list(generate_invoices(150, seed=18))
    async with Sandbox(processing_delay=FAST, seed=8, faults=faults) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            report = await runner(client, tmp_path, batch_size=10, formats=("xml",)).run(invoices)
        stats = sb.stats()
        assert stats["faultsInjected"].get("ambiguous_post", 0) > 0
        assert report.requests.get("lookup", 0) > 0  # each ambiguous POST was looked up, not re-sent
        verify_exactly_once(
            sandbox_invoices=sb.invoices(),
            stats=stats,
            journal=tmp_path / "journal.sqlite",
            out_dir=tmp_path / "out",
            numbers=[i["invoiceNumber"] for i in invoices],
            formats=("xml",),
        )
    assert report.ok


@pytest.mark.slow
async def test_2000_invoices_with_faults_exactly_once(tmp_path: Path) -> None:
    # The sandbox runs in its own process so that its document rendering gets the other CPU core.  XML
    # only: the sandbox renders a PDF lazily on its first download (~30 ms of CPU each), which would make
    # this test several times slower without exercising anything the PDF runs elsewhere do not.
    faults = ["--error-rate", "0.05", "--reset-rate", "0.02", "--ambiguous-rate", "0.02"]
    invoices = generate_invoices(2000, seed=21)
    numbers = [f"RE-21-{i:06d}" for i in range(2000)]
    async with SandboxProcess(
        processing_delay=(0.005, 0.02), seed=7, rate=200, burst=20, extra_args=faults
    ) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            # wait_timeout is a hang guard here (the production default), not a figure: on a loaded machine
            # a single invoice of 2,000 waited more than 30 s twice (load avg 5-9; "not ready after 30 s").
            bulk = runner(
                client, tmp_path, concurrency=24, batch_size=100, formats=("xml",), wait_timeout=300.0
            )
            report = await bulk.run(invoices)
        stats = fetch_admin(sb.root_url, "stats")
        verify_exactly_once(
            sandbox_invoices=fetch_admin(sb.root_url, "invoices"),
            stats=stats,
            journal=tmp_path / "journal.sqlite",
            out_dir=tmp_path / "out",
            numbers=numbers,
            formats=("xml",),
        )
    assert report.ok, report.failed[:5]
    injected = stats["faultsInjected"]
    assert injected.get("reset", 0) > 0 and sum(v for k, v in injected.items() if k.startswith("http_5")) > 0
    by_status = api_requests(stats)
    print(f"\n2000 with faults: {report.summary()} server statuses {by_status} injected {injected}")


async def test_polling_schedule_learns_time_to_ready_without_overpolling(tmp_path: Path) -> None:
    """Polling alone, 200 invoices submitted at once to a server that processes them in parallel.

    A few probes measure the time to ready; the rest first poll at a high quantile of it (not scaled by
    how many were submitted before them), so the total stays under 1.5 status GETs per invoice (polling
    from submission on every 0.1-0.25 s would cost 2-6 per invoice for 0.3-0.9 s of processing).  How
    many first polls hit is a timing figure (180-187 of 200 on an idle machine; 0 after one 0.5 s stall of
    the event loop), printed here and not asserted.
    """
    count = 200
    async with Sandbox(processing_delay=(0.3, 0.9), seed=21) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            kw: dict[str, Any] = {"concurrency": 16, "batch_size": 100, "webhooks": False, "sweep": False}
            bulk = runner(client, tmp_path, formats=("xml",), **kw)
            report = await bulk.run(generate_invoices(count, seed=41))
        stats = sb.stats()
    assert report.ok, report.failed[:3]
    status_gets = route_count(stats, "GET", "/status")
    assert status_gets == report.requests["status"]
    assert count <= status_gets <= 1.5 * count
    assert report.polls_per_invoice <= 1.5
    print(f"\npolling: {status_gets} status GETs for {count} invoices; wait stats {report.wait_stats}")
