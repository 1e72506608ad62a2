"""``faktoora-async demo``: a month-end batch of generated invoices against an embedded sandbox."""

from __future__ import annotations

import argparse
import json
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from ._base import (
    EXIT_INTERRUPTED,
    Commands,
    console,
    formats,
    positive,
    positive_float,
    share,
    with_interrupt,
)
from ._bulk_output import exit_code, finish, run_bulk

if TYPE_CHECKING:
    from rich.console import Console

    from ..bulk import RunReport


def register(commands: Commands) -> None:
    demo = commands.add("demo", cmd_demo, help="run a month-end batch against an embedded sandbox")
    demo.add_argument("--invoices", type=positive, default=500)
    demo.add_argument("--out", type=Path, default=Path("faktoora-demo"))
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--concurrency", type=positive, default=32)
    demo.add_argument("--rate", type=positive_float, default=200.0, help="sandbox rate limit, requests/s")
    demo.add_argument("--formats", type=formats, default=("pdf", "xml"))
    demo.add_argument(
        "--fault-rate",
        type=share,
        default=0.01,
        help="share of requests the sandbox fails with 5xx (default 0.01)",
    )


def _reset_journal(journal: Path) -> None:
    # A demo always starts fresh: its sandbox is new, so an old journal would not match it.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{journal}{suffix}").unlink(missing_ok=True)


def rate_bound(
    invoices: int, formats: int, *, rate: float, burst: int, batch_size: int = 100, polls: bool = True
) -> float:
    """Seconds the sandbox's rate limit alone needs for the fewest requests of a polling run (one create
    per batch, one status poll and one download per format for each invoice), minus the burst.

    ``polls=False``: the floor when list pages (1,000 invoices each) replace the status polls, as the
    bulk runner's list sweeps do (``faktoora_async.bulk.sweep``)."""
    waits = invoices if polls else -(-invoices // 1000)
    requests = -(-invoices // batch_size) + waits + invoices * formats
    return max(0, requests - burst) / rate


def _sandbox_stats(root_url: str) -> dict[str, Any]:
    """``GET /_sandbox/stats`` of the demo's sandbox process (admin route: no API key)."""
    with urllib.request.urlopen(f"{root_url}/_sandbox/stats", timeout=10) as resp:
        data = json.loads(resp.read())
    return data if isinstance(data, dict) else {}


def _print_sandbox_stats(con: Console, stats: dict[str, Any], report: RunReport, rate: float) -> None:
    by_status: dict[str, int] = {}
    for route, counts in stats.get("requests", {}).items():
        if "/_sandbox" not in route:
            for status, n in counts.items():
                by_status[status] = by_status.get(status, 0) + int(n)
    total = sum(by_status.values()) or 1
    throttled = by_status.get("429", 0)
    per_second = total / max(report.wall_time, 1e-9)
    con.print(
        f"sandbox saw {total} requests: {throttled} x 429 ({throttled / total:.1%}); "
        f"{per_second:.0f} req/s = {per_second / rate:.0%} of the {rate:g} req/s limit; "
        f"{stats.get('invoicesStored', '?')} invoices stored",
        soft_wrap=True,
    )


def _print_bound(con: Console, args: argparse.Namespace, burst: int, report: RunReport) -> None:
    bound = rate_bound(args.invoices, len(args.formats), rate=args.rate, burst=burst)
    if bound <= 0:
        return
    floor = rate_bound(args.invoices, len(args.formats), rate=args.rate, burst=burst, polls=False)
    con.print(
        f"rate bound: {bound:.1f} s (the fewest requests for {args.invoices} invoices at {args.rate:g} "
        f"req/s, burst {burst}, one status poll each); this run: {report.wall_time:.1f} s = "
        f"{report.wall_time / bound:.2f}x the bound (list pages instead of polls: floor {floor:.1f} s)",
        soft_wrap=True,
    )


async def cmd_demo(args: argparse.Namespace) -> int:
    from ..client import FaktooraClient
    from ..einvoice.generate import generate_invoices
    from ..sandbox import SandboxProcess

    con = console()
    out: Path = args.out
    journal = out / "journal.sqlite"
    _reset_journal(journal)
    report: RunReport | None = None
    runners: list[Any] = []
    started = time.monotonic()
    burst = max(10, int(args.rate // 5))

    async def work() -> int:
        nonlocal report
        # The sandbox runs in a process of its own and renders PDFs in one worker process per CPU, so the
        # demo shows the SDK's speed, not the speed of a sandbox sharing the client's event loop.
        faults = ["--error-rate", str(args.fault_rate), "--reset-rate", str(args.fault_rate / 2)]
        async with SandboxProcess(
            processing_delay=(0.2, 1.0), rate=args.rate, burst=burst, seed=args.seed, extra_args=faults
        ) as sb:
            con.print(
                f"sandbox on {sb.base_url}: processing 0.2-1.0 s per invoice, rate limit {args.rate:g} req/s,"
                f" {args.fault_rate:.1%} of requests fail with 5xx, {args.fault_rate / 2:.1%} are reset"
            )
            con.print(f"running {args.invoices} generated invoices (seed {args.seed})")
            async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
                report = await run_bulk(
                    client,
                    generate_invoices(args.invoices, seed=args.seed),
                    args.invoices,
                    out=out,
                    journal=journal,
                    concurrency=args.concurrency,
                    batch_size=100,
                    formats=args.formats,
                    wait_timeout=120.0,
                    console=con,
                    runners=runners,
                )
            stats = await anyio.to_thread.run_sync(_sandbox_stats, sb.root_url)
        _print_sandbox_stats(con, stats, report, args.rate)
        _print_bound(con, args, burst, report)
        return exit_code(report)

    code = await with_interrupt(work)
    if report is None and runners:
        report = runners[0].last_report
    # A demo starts over every time (its sandbox is new), so there is nothing to resume.
    finish(con, report, out, journal, interrupted=code == EXIT_INTERRUPTED, resumable=False)
    con.print(f"demo wall time: {time.monotonic() - started:.1f} s")
    return code
