"""Live progress bars and the summary of a bulk run (``run``, ``demo``; later ``work``)."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._base import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from ..bulk import RunReport
    from ..bulk.progress import ProgressEvent


class LiveProgress:
    """Three rich progress bars (submitted / ready / downloaded) fed by the runner's progress events."""

    def __init__(self, console: Console, total: int | None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description:<11}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]:>7} /s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.tasks = {
            kind: self.progress.add_task(kind, total=total, rate="-")
            for kind in ("submitted", "ready", "downloaded")
        }
        self.started = time.monotonic()

    def __enter__(self) -> LiveProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: ProgressEvent) -> None:
        # Invoices finished by an earlier run ("skipped") count as done on every bar.
        kinds = list(self.tasks) if event.kind == "skipped" else [event.kind]
        elapsed = max(time.monotonic() - self.started, 1e-6)
        for kind in kinds:
            task = self.tasks.get(kind)
            if task is None:
                continue
            done = event.totals.get(kind, 0) + event.totals.get("skipped", 0)
            self.progress.update(task, completed=done, rate=f"{done / elapsed:.1f}")

    def set_total(self, total: int) -> None:
        for task in self.tasks.values():
            self.progress.update(task, total=total)


def print_summary(console: Console, report: RunReport) -> None:
    """Counts per outcome, requests, polls, journal time, and the first 10 invoices not done."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Bulk run {report.run_id}" + (" (interrupted)" if report.interrupted else ""))
    table.add_column("outcome")
    table.add_column("invoices", justify="right")
    for outcome in sorted(report.counts):
        table.add_row(outcome, str(report.counts[outcome]))
    table.add_row("total", str(report.total), style="bold")
    if report.already_done:
        table.add_row("(done earlier)", str(report.already_done))
    console.print(table)
    req = ", ".join(f"{k} {v}" for k, v in sorted(report.requests.items()))
    console.print(f"requests: {req or 'none'}")
    console.print(f"polls per invoice: {report.polls_per_invoice:.2f}   wall time: {report.wall_time:.1f} s")
    js = report.journal_stats
    if js:
        where = (
            "in SQLite (worker thread)" if "://" not in str(report.journal) else "waiting for the database"
        )
        console.print(
            f"journal: {int(js.get('transactions', 0))} transactions, {js.get('seconds', 0):.2f} s {where}"
        )
    not_done = report.total - report.counts.get("done", 0)
    if not_done:
        # Only the first 10 are read (streamed from the journal): a big run's rows are never all loaded.
        failures = list(itertools.islice(report.iter_failed(), 10))
        ft = Table(title=f"Not done ({not_done}; first 10)")
        ft.add_column("invoice")
        ft.add_column("outcome")
        ft.add_column("reason", overflow="fold")
        for row in failures:
            ft.add_row(escape(row.number), row.outcome, escape(row.reason or ""))
        console.print(ft)


def exit_code(report: RunReport) -> int:
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.ok else EXIT_FAILED


def finish(
    console: Console,
    report: RunReport | None,
    out: Path,
    journal: str | Path,
    *,
    interrupted: bool,
    resumable: bool = True,
) -> None:
    """The summary (if the run got as far as a report), where the files are, how to resume."""
    if report is not None:
        print_summary(console, report)
    from rich.markup import escape

    console.print(f"files and report.json / report.csv: {escape(str(out))}")
    from ..bulk.journal import redact_spec

    console.print(f"journal: {escape(redact_spec(journal))}")
    if interrupted:
        hint = ": run the same command again to resume" if resumable else ""
        console.print(f"[yellow]interrupted[/]{hint}")


async def run_bulk(
    client: Any,
    invoices: Any,
    total: int | None,
    *,
    out: Path,
    journal: str | Path,
    concurrency: int,
    batch_size: int,
    formats: Sequence[str],
    wait_timeout: float,
    console: Console,
    runners: list[Any],
    name: str | None = None,
    run_id: int | None = None,
    join: bool = False,
    lease: float = 30.0,
) -> RunReport:
    """A ``BulkRunner`` run with live progress bars; the runner goes into ``runners`` as soon as it exists,
    so the caller can show the report of an interrupted run (``runners[0].last_report``).

    ``join``: work on an existing run of a shared journal (``run_id``, or the newest with work left)
    instead of planning ``invoices``; ``name`` labels a new run.
    """
    from ..bulk import BulkRunner

    with LiveProgress(console, total) as live:
        runner = BulkRunner(
            client,
            journal=journal,
            out_dir=out,
            concurrency=concurrency,
            batch_size=batch_size,
            formats=formats,
            wait_timeout=wait_timeout,
            progress=live,
            lease=lease,
        )
        runners.append(runner)
        if join:
            return await runner.work(run_id)
        return await runner.run(invoices, name=name)


@contextlib.asynccontextmanager
async def bulk_client(key: str, base_url: str | None, rate_store: str | None) -> AsyncIterator[Any]:
    """The client of a bulk command; ``rate_store`` (a ``redis://`` URL) shares one rate budget with every
    other client naming the same store and API key (other workers, other hosts)."""
    from ..client import FaktooraClient

    if not rate_store:
        async with FaktooraClient(key, base_url=base_url) as client:
            yield client
        return
    if not rate_store.lower().startswith(("redis://", "rediss://", "unix://")):
        raise UsageError(f"--rate-store must be a redis:// URL, not {rate_store.split(':', 1)[0]!r}")
    async with FaktooraClient(key, base_url=base_url, rate_store=rate_store) as client:
        yield client
