"""Shared runs: several workers on one PostgreSQL journal (BulkRunner.run on a URL, BulkRunner.work)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from _scale import read_journal, verify_exactly_once

from faktoora_async import errors
from faktoora_async.bulk import BulkRunner, ProgressEvent
from faktoora_async.bulk.journal import Journal
from faktoora_async.client import FaktooraClient
from faktoora_async.einvoice.generate import generate_invoices
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio


def runner(client: FaktooraClient, journal: str, out: Path, **kw: object) -> BulkRunner:
    options: dict[str, object] = {
        "concurrency": 8,
        "batch_size": 20,
        "wait_timeout": 60.0,
        "formats": ("xml",),
    }
    options.update(kw)
    return BulkRunner(client, journal=journal, out_dir=out, **options)  # type: ignore[arg-type]


async def test_two_workers_share_one_run_exactly_once(postgres_url: str, tmp_path: Path) -> None:
    invoices = list(generate_invoices(160, seed=5))
    numbers = [i["invoiceNumber"] for i in invoices]
    out = tmp_path / "out"
    seen: dict[str, list[ProgressEvent]] = {"a": [], "b": []}
    async with Sandbox(processing_delay=(0.005, 0.03), seed=9) as sb:
        async with (
            FaktooraClient(sb.api_key, base_url=sb.base_url) as ca,
            FaktooraClient(sb.api_key, base_url=sb.base_url) as cb,
        ):
            first = runner(ca, postgres_url, out, progress=seen["a"].append)
            second = runner(cb, postgres_url, out, progress=seen["b"].append)
            reports = {}

            async def plan_and_work() -> None:
                reports["a"] = await first.run(invoices, name="march.jsonl")

            async def join() -> None:
                async with Journal(postgres_url) as j:
                    for _ in range(1200):  # until the first runner has begun its run (at most 60 s)
                        if await j.find_run("march.jsonl") is not None:
                            break
                        await anyio.sleep(0.05)
                reports["b"] = await second.work()

            async with anyio.create_task_group() as tg:
                tg.start_soon(plan_and_work)
                tg.start_soon(join)
        rows = await read_journal(postgres_url)
        verify_exactly_once(
            invoices=sb.invoices(),
            stats=sb.stats(),
            rows=rows,
            out_dir=out,
            numbers=numbers,
            formats=("xml",),
        )
    assert reports["a"].ok and reports["b"].ok
    assert reports["a"].run_id == reports["b"].run_id
    assert reports["a"].counts == reports["b"].counts == {"done": 160}
    downloaded = {k: sum(e.count for e in v if e.kind == "downloaded") for k, v in seen.items()}
    assert downloaded["a"] + downloaded["b"] == 160  # every invoice downloaded by exactly one worker
    async with Journal(postgres_url) as j:
        info = await j.run_info(reports["a"].run_id)
    assert info is not None and info.outcome == "finished" and info.done == 160 and len(info.workers) == 2


async def test_running_the_same_input_again_plans_nothing_twice(postgres_url: str, tmp_path: Path) -> None:
    invoices = list(generate_invoices(30, seed=6))
    async with Sandbox(processing_delay=(0.005, 0.02), seed=2) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            first = await runner(client, postgres_url, tmp_path / "out").run(invoices)
            again = await runner(client, postgres_url, tmp_path / "out").run(invoices)
        stats = sb.stats()
    assert first.counts == {"done": 30} and again.counts == {"done": 30}
    assert again.run_id != first.run_id
    assert stats["invoicesStored"] == 30 and stats["duplicatesRejected"] == 0


async def test_work_without_a_run_is_a_clear_error(postgres_url: str, tmp_path: Path) -> None:
    async with FaktooraClient("sk_test_unused_key", base_url="http://127.0.0.1:9/api/v1") as client:
        with pytest.raises(errors.ConfigurationError, match="no run with work left in the journal"):
            await runner(client, postgres_url, tmp_path / "out").work()
        with pytest.raises(errors.ConfigurationError, match="no run 42 in the journal"):
            await runner(client, postgres_url, tmp_path / "out").work(42)
