"""``faktoora-async run INVOICES --out DIR``: submit a file of invoices, wait, download every file.

Resumable: the journal defaults to ``DIR/journal.sqlite``, so the same command run again carries on.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._base import (
    EXIT_INTERRUPTED,
    Commands,
    UsageError,
    add_connection,
    api_key,
    console,
    formats,
    positive,
    positive_float,
    with_interrupt,
)
from ._bulk_output import bulk_client, exit_code, finish, run_bulk

if TYPE_CHECKING:
    from ..bulk import RunReport


def register(commands: Commands) -> None:
    run = commands.add(
        "run", cmd_run, help="submit a file of invoices, wait, download every file (resumable)"
    )
    run.add_argument("invoices", type=Path, help="a .jsonl file (one invoice per line) or a .json file")
    run.add_argument("--out", type=Path, required=True, help="folder for the files and the report")
    run.add_argument(
        "--journal",
        default=None,
        help="a SQLite file (default: OUT/journal.sqlite) or a postgresql://… URL shared by workers"
        " (`faktoora-async work` joins the run)",
    )
    run.add_argument(
        "--lease",
        type=positive_float,
        default=30.0,
        help="shared journal: seconds the claims of a worker that died last before others take them",
    )
    run.add_argument(
        "--rate-store", default=None, help="redis://… : one rate budget shared by every worker of the key"
    )
    run.add_argument("--concurrency", type=positive, default=16)
    run.add_argument("--batch-size", type=positive, default=100)
    run.add_argument("--formats", type=formats, default=("pdf", "xml"))
    run.add_argument("--wait-timeout", type=float, default=300.0)
    run.add_argument(
        "--allow-empty",
        action="store_true",
        help="accept an input without invoices (an empty run, exit 0) instead of failing with exit 2",
    )
    add_connection(run)


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
    try:
        if suffix in (".jsonl", ".ndjson"):
            return _iter_jsonl(path), _count_jsonl(path)
        if suffix == ".json":
            return _load_json(path)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    raise UsageError(f"{path}: use a .jsonl or .json file")


def _count_jsonl(path: Path) -> int:
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
    return count


def _load_json(path: Path) -> tuple[Any, int]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UsageError(f"{path}: not JSON ({exc})") from None
    if isinstance(doc, dict) and isinstance(doc.get("invoices"), list):
        doc = doc["invoices"]
    if not isinstance(doc, list) or not all(isinstance(i, dict) for i in doc):
        raise UsageError(f'{path}: expected a JSON list of invoices or {{"invoices": [...]}}')
    return doc, len(doc)


# -- the command -----------------------------------------------------------------------------------------
async def cmd_run(args: argparse.Namespace) -> int:
    invoices, total = load_invoices(args.invoices)
    if total == 0 and not args.allow_empty:
        raise UsageError(f"{args.invoices}: no invoices in it (pass --allow-empty to accept an empty input)")
    key = api_key(args)
    out = console()
    journal: str | Path = args.journal or args.out / "journal.sqlite"
    report: RunReport | None = None
    runners: list[Any] = []

    async def work() -> int:
        nonlocal report
        async with bulk_client(key, args.base_url, args.rate_store) as client:
            report = await run_bulk(
                client,
                invoices,
                total,
                out=args.out,
                journal=journal,
                concurrency=args.concurrency,
                batch_size=args.batch_size,
                formats=args.formats,
                wait_timeout=args.wait_timeout,
                console=out,
                runners=runners,
                name=args.invoices.name,
                lease=args.lease,
            )
        return exit_code(report)

    code = await with_interrupt(work, resumable=True)
    if report is None and runners:
        report = runners[0].last_report
    finish(out, report, args.out, journal, interrupted=code == EXIT_INTERRUPTED)
    return code
