"""Sandbox throughput: GET /api/v2/invoices/{id}/status against a sandbox in a separate process.

Run: ``python -m benchmarks.bench_sandbox [--requests N] [--seconds S] [--concurrency C] [--smoke]``.

``--pdf`` measures first PDF downloads instead (``GET /api/v1/invoices/{id}`` with ``Accept:
application/pdf`` once per invoice: each one renders its PDF, the costly lazy step that bounds bulk runs
with PDFs); ``--invoices`` and ``--lines`` size the work.

The sandbox runs as ``python -m faktoora_async.sandbox`` (one process, one event loop, so at most one
core); this process is the load client on loopback.  Faults are off and there is no rate limit.  The run
stops after ``--requests`` requests or ``--seconds`` seconds, whichever comes first.  Reported: requests
per wall-clock second, and requests per second of the server's own CPU time (psutil), which is the
"per core" figure even when the client and the sandbox compete for the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

from faktoora_async.einvoice.generate import generate_invoices
from faktoora_async.sandbox import SandboxProcess

TARGET_RPS = 2000


async def _load(
    base: str, key: str, ids: list[str], total: int, seconds: float, concurrency: int
) -> tuple[int, int, float]:
    headers = {"X-API-KEY": key}
    urls = [f"{base}/invoices/{fid}/status" for fid in ids]
    done = 0
    errors = 0
    issued = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal done, errors, issued
            while issued < total and time.perf_counter() < deadline:
                url = urls[issued % len(urls)]
                issued += 1
                async with session.get(url) as resp:
                    await resp.read()
                    if resp.status == 200:
                        done += 1
                    else:
                        errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return done, errors, elapsed


async def _download_pdfs(base: str, key: str, ids: list[str], concurrency: int) -> tuple[int, int, float]:
    headers = {"X-API-KEY": key, "Accept": "application/pdf"}
    done = 0
    errors = 0
    queue = list(reversed(ids))
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, headers=headers, timeout=timeout) as session:

        async def worker() -> None:
            nonlocal done, errors
            while queue:
                fid = queue.pop()
                async with session.get(f"{base}/invoices/{fid}") as resp:
                    body = await resp.read()
                    if resp.status == 200 and body.startswith(b"%PDF"):
                        done += 1
                    else:
                        errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return done, errors, elapsed


async def _prepare(root: str, key: str, count: int, lines: int | None = None) -> list[str]:
    ids: list[str] = []
    async with aiohttp.ClientSession(headers={"X-API-KEY": key}) as session:
        invoices = list(generate_invoices(count, seed=1, **({"lines": lines} if lines else {})))
        for start in range(0, count, 100):
            body = {"invoices": invoices[start : start + 100]}
            async with session.post(f"{root}/api/v1/invoices", json=body) as resp:
                resp.raise_for_status()
                ids += [item["faktooraId"] for item in await resp.json()]
    return ids


def run(total: int, seconds: float, concurrency: int, invoices: int) -> dict[str, Any]:
    import psutil

    with SandboxProcess(processing_delay=(0.0, 0.0), extra_args=["--log-level", "ERROR"]) as proc:
        assert proc.pid is not None
        server = psutil.Process(proc.pid)
        ids = asyncio.run(_prepare(proc.root_url, proc.api_key, invoices))
        time.sleep(0.5)  # let the background generation of the prepared invoices settle
        asyncio.run(
            _load(proc.root_url + "/api/v2", proc.api_key, ids, min(total, 500), 5, concurrency)
        )  # warm-up
        cpu_before = sum(server.cpu_times()[:2])
        done, errors, elapsed = asyncio.run(
            _load(proc.root_url + "/api/v2", proc.api_key, ids, total, seconds, concurrency)
        )
        cpu_used = sum(server.cpu_times()[:2]) - cpu_before
    wall_rps = done / elapsed if elapsed else 0.0
    cpu_rps = done / cpu_used if cpu_used else float("inf")
    return {
        "route": "GET /api/v2/invoices/{faktooraId}/status",
        "requests_ok": done,
        "errors": errors,
        "elapsed_s": round(elapsed, 3),
        "wall_rps": round(wall_rps, 1),
        "server_cpu_s": round(cpu_used, 3),
        "rps_per_server_cpu_second": round(cpu_rps, 1),
        "concurrency": concurrency,
        "target_rps_one_core": TARGET_RPS,
        "meets_target": cpu_rps >= TARGET_RPS,
    }


def run_pdf(invoices: int, concurrency: int, lines: int) -> dict[str, Any]:
    import psutil

    with SandboxProcess(processing_delay=(0.0, 0.0), extra_args=["--log-level", "ERROR"]) as proc:
        assert proc.pid is not None
        server = psutil.Process(proc.pid)
        ids = asyncio.run(_prepare(proc.root_url, proc.api_key, invoices, lines))
        time.sleep(0.5 + invoices / 500)  # let the background generation of the XML settle
        cpu_before = sum(server.cpu_times()[:2])
        done, errors, elapsed = asyncio.run(_download_pdfs(proc.base_url, proc.api_key, ids, concurrency))
        cpu_used = sum(server.cpu_times()[:2]) - cpu_before
    return {
        "route": "GET /api/v1/invoices/{faktooraId} (Accept: application/pdf), first download: renders",
        "lines_per_invoice": lines,
        "pdfs_ok": done,
        "errors": errors,
        "elapsed_s": round(elapsed, 3),
        "pdfs_per_wall_second": round(done / elapsed, 1) if elapsed else 0.0,
        "server_cpu_s": round(cpu_used, 3),
        "server_cpu_ms_per_pdf": round(1000 * cpu_used / done, 1) if done else None,
        "concurrency": concurrency,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_sandbox", description=__doc__)
    parser.add_argument("--requests", type=int, default=30_000, help="request budget (default 30000)")
    parser.add_argument("--seconds", type=float, default=15.0, help="time budget (default 15)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent client requests (default 32)")
    parser.add_argument("--invoices", type=int, default=200, help="invoices to poll (default 200)")
    parser.add_argument("--pdf", action="store_true", help="measure first PDF downloads (renders) instead")
    parser.add_argument("--lines", type=int, default=20, help="lines per invoice with --pdf (default 20)")
    parser.add_argument(
        "--smoke", action="store_true", help="a tiny run that only checks the benchmark works"
    )
    args = parser.parse_args(argv)
    if args.pdf:
        if args.smoke:
            args.invoices = 10
        result = run_pdf(args.invoices, min(args.concurrency, 16), args.lines)
        print(json.dumps(result, indent=2))
        return 0 if result["pdfs_ok"] > 0 and result["errors"] == 0 else 1
    if args.smoke:
        args.requests, args.seconds, args.invoices = 300, 5.0, 10
    result = run(args.requests, args.seconds, args.concurrency, args.invoices)
    print(json.dumps(result, indent=2))
    if args.smoke:
        return 0 if result["requests_ok"] > 0 and result["errors"] == 0 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
