"""The ``faktoora-async`` command line: bulk runs, a self-contained demo, single-invoice helpers.

Exit codes: 0 everything done, 1 some invoices (or the request) failed, 2 usage error, 130 interrupted.
The API key comes from ``--api-key`` or ``FAKTOORA_API_KEY`` and is never printed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from rich.console import Console

    from .bulk import RunReport
    from .bulk.progress import ProgressEvent

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_BASE_URL = "https://api.faktoora.com/api/v1"


class UsageError(Exception):
    """Bad input from the user: exit code 2."""


# -- argument parsing --------------------------------------------------------------------------------
def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _formats(text: str) -> tuple[str, ...]:
    parts = tuple(p.strip().lower() for p in text.split(",") if p.strip())
    if not parts or any(p not in ("pdf", "xml") for p in parts):
        raise argparse.ArgumentTypeError("formats: a comma-separated subset of pdf,xml")
    return parts


def _add_connection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base-url", default=os.environ.get("FAKTOORA_BASE_URL", DEFAULT_BASE_URL))
    p.add_argument("--api-key", default=None, help="default: $FAKTOORA_API_KEY (never printed)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faktoora-async", description="faktoora e-Invoicing: bulk runs, demo, sandbox."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="submit a file of invoices, wait, download every file (resumable)")
    run.add_argument("invoices", type=Path, help="a .jsonl file (one invoice per line) or a .json file")
    run.add_argument("--out", type=Path, required=True, help="folder for the files and the report")
    run.add_argument("--journal", type=Path, default=None, help="default: OUT/journal.sqlite")
    run.add_argument("--concurrency", type=_positive, default=16)
    run.add_argument("--batch-size", type=_positive, default=100)
    run.add_argument("--formats", type=_formats, default=("pdf", "xml"))
    run.add_argument("--wait-timeout", type=float, default=300.0)
    _add_connection(run)

    demo = sub.add_parser("demo", help="run a month-end batch against an embedded sandbox")
    demo.add_argument("--invoices", type=_positive, default=500)
    demo.add_argument("--out", type=Path, default=Path("faktoora-demo"))
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--concurrency", type=_positive, default=32)
    demo.add_argument("--rate", type=_positive_float, default=200.0, help="sandbox rate limit, requests/s")
    demo.add_argument("--formats", type=_formats, default=("pdf", "xml"))
    demo.add_argument(
        "--fault-rate",
        type=float,
        default=0.01,
        help="share of requests the sandbox fails with 5xx (default 0.01)",
    )

    status = sub.add_parser("status", help="show an invoice's status")
    status.add_argument("id", help="faktooraId")
    _add_connection(status)

    download = sub.add_parser("download", help="download an invoice's PDF or XML")
    download.add_argument("id", help="faktooraId")
    download.add_argument("--format", choices=("pdf", "xml"), default="pdf")
    download.add_argument("--out", type=Path, required=True, help="file or folder")
    _add_connection(download)

    imp = sub.add_parser("import", help="import an outgoing XRechnung/ZUGFeRD file")
    imp.add_argument("file", type=Path)
    _add_connection(imp)

    sandbox = sub.add_parser("sandbox", help="run the local sandbox server", add_help=False)
    sandbox.add_argument("sandbox_args", nargs=argparse.REMAINDER)
    return parser


# -- input files ---------------------------------------------------------------------------------------
def _iter_jsonl(path: Path) -> Iterator[Any]:
    with path.open("r", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def load_invoices(path: Path) -> tuple[Any, int]:
    """An iterable of payloads (lazy for .jsonl) and their count; UsageError on unreadable input."""
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".jsonl" or suffix == ".ndjson":
        count = 0
        with path.open("r", encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError as exc:
                    raise UsageError(f"{path}:{lineno}: not JSON ({exc})") from None
                if not isinstance(item, dict):
                    raise UsageError(f"{path}:{lineno}: expected a JSON object per line")
                count += 1
        return _iter_jsonl(path), count
    if suffix == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UsageError(f"{path}: not JSON ({exc})") from None
        if isinstance(doc, dict) and isinstance(doc.get("invoices"), list):
            doc = doc["invoices"]
        if not isinstance(doc, list) or not all(isinstance(i, dict) for i in doc):
            raise UsageError(f'{path}: expected a JSON list of invoices or {{"invoices": [...]}}')
        return doc, len(doc)
    raise UsageError(f"{path}: use a .jsonl or .json file")


def _api_key(args: argparse.Namespace) -> str:
    key = args.api_key or os.environ.get("FAKTOORA_API_KEY")
    if not key:
        raise UsageError("no API key: pass --api-key or set FAKTOORA_API_KEY")
    return str(key)


# -- output ----------------------------------------------------------------------------------------------
def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


class _LiveProgress:
    """Three rich progress bars fed by the runner's progress events."""

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

    def __enter__(self) -> _LiveProgress:
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
        console.print(
            f"journal: {int(js.get('transactions', 0))} transactions, {js.get('seconds', 0):.2f} s in SQLite"
            " (worker thread)"
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


def _exit_code(report: RunReport) -> int:
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.ok else EXIT_FAILED


# -- commands --------------------------------------------------------------------------------------------
async def _with_interrupt(fn: Callable[[], Awaitable[int]]) -> int:
    """Run ``fn``; SIGINT/SIGTERM cancel it cleanly and give exit code 130."""
    result = EXIT_INTERRUPTED
    interrupted = False
    error: Exception | None = None

    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            nonlocal interrupted
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    interrupted = True
                    tg.cancel_scope.cancel()
                    return

        async def work() -> None:
            nonlocal result, error
            try:
                result = await fn()
            except Exception as exc:  # re-raised below, unwrapped from the task group's ExceptionGroup
                error = exc
            tg.cancel_scope.cancel()

        tg.start_soon(watch)
        tg.start_soon(work)
    if interrupted:
        return EXIT_INTERRUPTED
    if error is not None:
        raise error
    return result


async def _run_bulk(
    client: Any,
    invoices: Any,
    total: int | None,
    *,
    out: Path,
    journal: Path,
    concurrency: int,
    batch_size: int,
    formats: Sequence[str],
    wait_timeout: float,
    console: Console,
    runners: list[Any],
) -> RunReport:
    from .bulk import BulkRunner

    with _LiveProgress(console, total) as live:
        runner = BulkRunner(
            client,
            journal=journal,
            out_dir=out,
            concurrency=concurrency,
            batch_size=batch_size,
            formats=formats,
            wait_timeout=wait_timeout,
            progress=live,
        )
        runners.append(runner)  # so the caller can show the report of an interrupted run
        return await runner.run(invoices)


async def cmd_run(args: argparse.Namespace) -> int:
    from .client import FaktooraClient

    invoices, total = load_invoices(args.invoices)
    key = _api_key(args)
    console = _console()
    journal = args.journal or args.out / "journal.sqlite"
    report: RunReport | None = None
    runners: list[Any] = []

    async def work() -> int:
        nonlocal report
        async with FaktooraClient(key, base_url=args.base_url) as client:
            report = await _run_bulk(
                client,
                invoices,
                total,
                out=args.out,
                journal=journal,
                concurrency=args.concurrency,
                batch_size=args.batch_size,
                formats=args.formats,
                wait_timeout=args.wait_timeout,
                console=console,
                runners=runners,
            )
        return _exit_code(report)

    code = await _with_interrupt(work)
    if report is None and runners:
        report = runners[0].last_report
    _finish(console, report, args.out, journal, interrupted=code == EXIT_INTERRUPTED)
    return code


def _finish(
    console: Console, report: RunReport | None, out: Path, journal: Path, *, interrupted: bool
) -> None:
    if report is not None:
        print_summary(console, report)
    from rich.markup import escape

    console.print(f"files and report.json / report.csv: {escape(str(out))}")
    console.print(f"journal: {escape(str(journal))}")
    if interrupted:
        console.print("[yellow]interrupted[/]: run the same command again to resume")


def _reset_journal(journal: Path) -> None:
    # A demo always starts fresh: its sandbox is new, so an old journal would not match it.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{journal}{suffix}").unlink(missing_ok=True)


async def cmd_demo(args: argparse.Namespace) -> int:
    from .client import FaktooraClient
    from .einvoice.generate import generate_invoices
    from .sandbox import Sandbox

    console = _console()
    out: Path = args.out
    journal = out / "journal.sqlite"
    _reset_journal(journal)
    report: RunReport | None = None
    runners: list[Any] = []
    started = time.monotonic()

    async def work() -> int:
        nonlocal report
        async with Sandbox(
            processing_delay=(0.2, 1.0),
            rate=args.rate,
            burst=max(10, int(args.rate // 5)),
            seed=args.seed,
            faults={"error_rate": args.fault_rate, "reset_rate": args.fault_rate / 2},
        ) as sb:
            console.print(
                f"sandbox on {sb.base_url}: processing 0.2-1.0 s per invoice, rate limit {args.rate:g} req/s,"
                f" {args.fault_rate:.1%} of requests fail with 5xx, {args.fault_rate / 2:.1%} are reset"
            )
            console.print(f"running {args.invoices} generated invoices (seed {args.seed})")
            async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
                report = await _run_bulk(
                    client,
                    generate_invoices(args.invoices, seed=args.seed),
                    args.invoices,
                    out=out,
                    journal=journal,
                    concurrency=args.concurrency,
                    batch_size=100,
                    formats=args.formats,
                    wait_timeout=120.0,
                    console=console,
                    runners=runners,
                )
            stats = sb.stats()
        if report is not None:
            by_status: dict[str, int] = {}
            for route, counts in stats.get("requests", {}).items():
                if "/_sandbox" not in route:
                    for status, n in counts.items():
                        by_status[status] = by_status.get(status, 0) + int(n)
            total = sum(by_status.values()) or 1
            throttled = by_status.get("429", 0)
            console.print(
                f"sandbox saw {total} requests: {throttled} x 429 ({throttled / total:.1%}); "
                f"{total / max(report.wall_time, 1e-9):.0f} req/s = "
                f"{total / max(report.wall_time, 1e-9) / args.rate:.0%} of the {args.rate:g} req/s limit; "
                f"{stats.get('invoicesStored', '?')} invoices stored",
                soft_wrap=True,
            )
        return _exit_code(report)

    code = await _with_interrupt(work)
    if report is None and runners:
        report = runners[0].last_report
    _finish(console, report, out, journal, interrupted=code == EXIT_INTERRUPTED)
    console.print(f"demo wall time: {time.monotonic() - started:.1f} s")
    return code


async def cmd_status(args: argparse.Namespace) -> int:
    from .client import FaktooraClient

    key = _api_key(args)
    console = _console()

    async def work() -> int:
        async with FaktooraClient(key, base_url=args.base_url) as client:
            status = await client.invoices.status(args.id)
        import msgspec

        console.print_json(msgspec.json.encode(status).decode())
        return EXIT_OK

    return await _with_interrupt(work)


async def cmd_download(args: argparse.Namespace) -> int:
    from .client import FaktooraClient

    key = _api_key(args)
    console = _console()

    async def work() -> int:
        async with FaktooraClient(key, base_url=args.base_url) as client:
            result = await client.invoices.download(args.id, format=args.format, to=args.out)
        path = getattr(result, "path", args.out)
        digest = getattr(result, "sha256", None)
        console.print(f"saved {path}" + (f" (sha256 {digest})" if digest else ""))
        return EXIT_OK

    return await _with_interrupt(work)


async def cmd_import(args: argparse.Namespace) -> int:
    from .client import FaktooraClient

    key = _api_key(args)
    if not args.file.is_file():
        raise UsageError(f"no such file: {args.file}")
    console = _console()

    async def work() -> int:
        async with FaktooraClient(key, base_url=args.base_url) as client:
            result = await client.imports.upload(args.file)
        console.print(f"imported {args.file.name}: faktooraId {result.faktoora_id}", soft_wrap=True)
        return EXIT_OK

    return await _with_interrupt(work)


def _sandbox(argv: list[str]) -> int:
    from .sandbox import __main__ as sandbox_main

    result = sandbox_main.main(argv)
    return int(result or 0)


def _plain(text: str) -> Any:
    from rich.text import Text

    return Text(text)


_COMMANDS: dict[str, Callable[[argparse.Namespace], Awaitable[int]]] = {
    "run": cmd_run,
    "demo": cmd_demo,
    "status": cmd_status,
    "download": cmd_download,
    "import": cmd_import,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``faktoora-async`` and ``python -m faktoora_async``; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["sandbox"]:
        return _sandbox(args_list[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse: 2 on usage errors, 0 for --help
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if args.verbose:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from .errors import ConfigurationError, FaktooraError

    try:
        return anyio.run(_COMMANDS[args.command], args)
    except (UsageError, ConfigurationError) as exc:
        _console(stderr=True).print("[red]error:[/]", _plain(str(exc)), soft_wrap=True)
        return EXIT_USAGE
    except FaktooraError as exc:
        _console(stderr=True).print("[red]failed:[/]", _plain(str(exc)), soft_wrap=True)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
