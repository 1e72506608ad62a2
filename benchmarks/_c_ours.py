"""Our SDK as a contestant: ``BulkRunner`` for month-end runs, ``FaktooraClient`` calls for B2."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from faktoora_async import FaktooraClient
from faktoora_async.bulk import BulkRunner

from ._harness import CpuMark
from ._workload import WorkConfig


def _client(cfg: WorkConfig, max_rate: float | None = None) -> FaktooraClient:
    return FaktooraClient(
        cfg.api_key, base_url=cfg.base_v1, max_connections=max(cfg.concurrency, 8), max_rate=max_rate
    )


async def _month_end(cfg: WorkConfig, items: list[dict[str, Any]]) -> dict[str, Any]:
    async with _client(cfg) as client:
        runner = BulkRunner(
            client,
            journal=cfg.journal,
            out_dir=cfg.out_dir,
            concurrency=cfg.concurrency,
            formats=("pdf", "xml"),
            wait_timeout=600.0,
        )
        report = await runner.run(items)
        stats = client.stats
    done = int(report.counts.get("done", 0))
    return {
        "done": done,
        "failed": len(items) - done,
        "client_requests": int(stats.get("attempts", 0)),
        "client_retries": int(stats.get("retries", 0)),
        "report_requests": dict(report.requests),
        "report_polls_per_invoice": float(report.polls_per_invoice),
    }


def run(cfg: WorkConfig, items: list[dict[str, Any]]) -> dict[str, Any]:
    return asyncio.run(_month_end(cfg, items))


# --------------------------------------------------------------------------------------------- B2
WARMUP = 20


async def _overhead(
    cfg: WorkConfig, items: list[dict[str, Any]], preflight: bool, max_rate: float | None
) -> dict[str, Any]:
    async with _client(cfg, max_rate) as client:

        async def one(i: int) -> None:
            if cfg.kind == "status":
                await client.invoices.status(cfg.status_id)
            else:
                await client.invoices.create([items[i]], preflight=preflight)

        for i in range(WARMUP):
            await one(i)
        cpu = CpuMark()
        t0 = time.perf_counter()
        for i in range(WARMUP, WARMUP + cfg.repeats):
            await one(i)
        return {
            "cpu_s": cpu.seconds(),
            "wall_s": time.perf_counter() - t0,
            "count": cfg.repeats,
            "client_requests": int(client.stats.get("attempts", 0)),
        }


def overhead(
    cfg: WorkConfig, items: list[dict[str, Any]], preflight: bool = True, max_rate: float | None = None
) -> dict[str, Any]:
    """Defaults are the SDK's defaults; ``preflight=False``/``max_rate`` are for the diagnostic row."""
    return asyncio.run(_overhead(cfg, items, preflight, max_rate))
