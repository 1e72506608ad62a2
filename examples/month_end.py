"""Month-end run: create, wait for and download a month of invoices, resumably.

``BulkRunner`` submits the invoices in batches, waits for each one, streams its PDF and XML into
``OUT_DIR`` and journals every step in a SQLite file: kill the script and run it again, and it resumes
without creating a single invoice twice::

    python examples/month_end.py                       # a local sandbox, 40 generated invoices
    COUNT=2000 OUT_DIR=out/2026-03 JOURNAL=march.sqlite \\
        FAKTOORA_API_KEY=... FAKTOORA_BASE_URL=... python examples/month_end.py

The report (``OUT_DIR/report.json`` and ``report.csv``) lists every invoice with its files and checksums.

Without ``FAKTOORA_BASE_URL``/``FAKTOORA_API_KEY`` the script runs against a sandbox **in a process of its
own that outlives the script** (``examples/_sandbox_host.py``; POSIX): a killed run leaves it running, and
the next run finds it again (``JOURNAL.sandbox.json``) and resumes against the invoices it holds.  The
script stops it after a complete run (``KEEP_SANDBOX=1`` keeps it; it also stops itself after 10 idle
minutes).  If that sandbox is gone, so are its invoices, and the run starts over with a new one and a new
journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faktoora_async import FaktooraClient
from faktoora_async.bulk import BulkRunner
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.errors import ConfigurationError, FaktooraError


@dataclass(frozen=True)
class Settings:
    count: int
    out_dir: Path
    journal: Path
    seed: int
    keep_sandbox: bool


def _int_env(name: str, default: int, minimum: int) -> int:
    text = os.environ.get(name, str(default))
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        print(f"error: {name} must be a whole number >= {minimum}, not {text!r}", file=sys.stderr)
        raise SystemExit(2)
    return value


def settings() -> Settings:
    """From the environment; a bad value ends the script with one line (exit 2)."""
    if len(sys.argv) > 1:
        print("usage: [COUNT=N] [OUT_DIR=DIR] [JOURNAL=FILE] [SEED=S] python examples/month_end.py",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(2)
    out_dir = Path(os.environ.get("OUT_DIR", "month-end-out"))
    return Settings(
        count=_int_env("COUNT", 40, minimum=1),
        out_dir=out_dir,
        journal=Path(os.environ.get("JOURNAL", str(out_dir / "journal.sqlite"))),
        seed=_int_env("SEED", 2026, minimum=0),
        keep_sandbox=os.environ.get("KEEP_SANDBOX", "") not in ("", "0"),
    )


def _remove_journal(journal: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{journal}{suffix}").unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def connect(cfg: Settings, done: list[bool]) -> AsyncIterator[FaktooraClient]:
    """A client for FAKTOORA_BASE_URL/FAKTOORA_API_KEY, or for the local sandbox process when unset.

    The sandbox is stopped on the way out when ``done`` holds True (a complete run).
    """
    base_url, api_key = os.environ.get("FAKTOORA_BASE_URL"), os.environ.get("FAKTOORA_API_KEY")
    if base_url and api_key:
        async with FaktooraClient(api_key, base_url=base_url) as client:
            yield client
        return
    import _sandbox_host as host  # examples/_sandbox_host.py, beside this script

    state = host.state_file_for(cfg.journal)
    info = host.read_state(state)
    if info is not None and await host.is_alive(info):
        print(f"resuming with the sandbox of the earlier run (pid {info.pid}, {info.base_url})")
    else:
        if info is not None or cfg.journal.exists():
            # The journal's invoices lived in a sandbox that is gone: it describes nothing that exists.
            print("the sandbox of the earlier run has stopped, and its invoices with it: starting over")
            await asyncio.to_thread(_remove_journal, cfg.journal)
        info = await host.start(state)
        print(f"started a sandbox (pid {info.pid}, {info.base_url}); it outlives this script until done")
    async with FaktooraClient(info.api_key, base_url=info.base_url) as client:
        yield client
    if done and done[0] and not cfg.keep_sandbox:
        await host.stop(info)
        print("all done: sandbox stopped")
    else:
        print(f"the sandbox keeps running (pid {info.pid}): run the script again to resume or inspect it")


def month_of_invoices(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """Your ERP export goes here; the demo generates realistic invoices (consumed lazily by the runner)."""
    for index in range(count):
        yield generate_invoice(index, seed=seed)


async def main() -> int:
    cfg = settings()
    done: list[bool] = []
    try:
        async with connect(cfg, done) as client:
            runner = BulkRunner(
                client, journal=cfg.journal, out_dir=cfg.out_dir, concurrency=8, batch_size=20
            )
            report = await runner.run(month_of_invoices(cfg.count, cfg.seed))
            done.append(report.ok)
            summary = report.summary()
            print(f"{summary['total']} invoices: {summary['counts']} in {summary['wall_time_s']} s")
            print(f"requests: {summary['requests']}; polls per invoice: {summary['polls_per_invoice']}")
            for row in report.failed[:20]:
                print(f"  {row.number}: {row.outcome} ({row.reason})")
            print(f"report: {cfg.out_dir / 'report.json'}")
    except ConfigurationError as exc:  # e.g. a bad FAKTOORA_BASE_URL, or the journal is in use
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (FaktooraError, OSError, RuntimeError) as exc:  # a revoked key, an unwritable folder, ...
        print(f"month-end run failed: {exc}", file=sys.stderr)
        return 1
    return 0 if report.ok else 1


if __name__ == "__main__":
    try:
        code = asyncio.run(main())
    except KeyboardInterrupt:  # the runner has written its report and journal: nothing is lost
        print("interrupted: run the script again to resume", file=sys.stderr)
        code = 130
    raise SystemExit(code)
