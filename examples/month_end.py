"""Month-end run: create, wait for and download a month of invoices, resumably.

``BulkRunner`` submits the invoices in batches, waits for each one, streams its PDF and XML into
``OUT_DIR`` and journals every step in a SQLite file: kill the script and run it again, and it resumes
without creating a single invoice twice::

    python examples/month_end.py                       # embedded sandbox, 40 generated invoices
    COUNT=2000 OUT_DIR=out/2026-03 JOURNAL=march.sqlite \\
        FAKTOORA_API_KEY=... FAKTOORA_BASE_URL=... python examples/month_end.py

The report (``OUT_DIR/report.json`` and ``report.csv``) lists every invoice with its files and checksums.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from faktoora_async import FaktooraClient
from faktoora_async.bulk import BulkRunner
from faktoora_async.einvoice.generate import generate_invoice


@contextlib.asynccontextmanager
async def connect() -> AsyncIterator[FaktooraClient]:
    """A client for FAKTOORA_BASE_URL/FAKTOORA_API_KEY, or for an embedded sandbox when they are unset."""
    base_url, api_key = os.environ.get("FAKTOORA_BASE_URL"), os.environ.get("FAKTOORA_API_KEY")
    async with contextlib.AsyncExitStack() as stack:
        if not base_url or not api_key:
            from faktoora_async.sandbox import Sandbox

            sandbox = await stack.enter_async_context(Sandbox(processing_delay=(0.05, 0.3)))
            base_url, api_key = sandbox.base_url, sandbox.api_key
        yield await stack.enter_async_context(FaktooraClient(api_key, base_url=base_url))


def month_of_invoices(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """Your ERP export goes here; the demo generates realistic invoices (consumed lazily by the runner)."""
    for index in range(count):
        yield generate_invoice(index, seed=seed)


async def main() -> int:
    count = int(os.environ.get("COUNT", "40"))
    out_dir = Path(os.environ.get("OUT_DIR", "month-end-out"))
    journal = Path(os.environ.get("JOURNAL", str(out_dir / "journal.sqlite")))
    seed = int(os.environ.get("SEED", "2026"))
    async with connect() as client:
        runner = BulkRunner(client, journal=journal, out_dir=out_dir, concurrency=8, batch_size=20)
        report = await runner.run(month_of_invoices(count, seed))
    summary = report.summary()
    print(f"{summary['total']} invoices: {summary['counts']} in {summary['wall_time_s']} s")
    print(f"requests: {summary['requests']}; status polls per invoice: {summary['polls_per_invoice']}")
    for row in report.failed[:20]:
        print(f"  {row.number}: {row.outcome} ({row.reason})")
    print(f"report: {out_dir / 'report.json'}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
