"""``faktoora-async work --journal postgresql://… --out DIR``: join a shared run as one more worker.

Start the run once with ``faktoora-async run INVOICES --journal postgresql://…`` (it plans the input into
the journal, then works on it); start ``work`` on as many processes and hosts as you like: each claims
batches of invoices under a lease and sends them on; a worker that dies leaves its invoices to the others
once its lease expires.  ``--out`` must be the same folder for every worker (a shared file system): the
files of one run land in one place.  ``--rate-store redis://…`` shares one rate budget between them.
"""

from __future__ import annotations

import argparse
import os
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
    work = commands.add("work", cmd_work, help="join a run of a shared journal as one more worker")
    add = work.add_argument
    add("--journal", required=True, help="the run's journal: postgresql://… (or a SQLite file)")
    add("--out", type=Path, required=True, help="the run's output folder (the same for every worker)")
    add("--run", type=positive, default=None, help="the run to join (default: the newest with work left)")
    add("--rate-store", default=None, help="redis://… : one rate budget for every worker of the key")
    add("--concurrency", type=positive, default=16)
    add("--batch-size", type=positive, default=100, help="invoices claimed (and POSTed) at a time")
    add("--formats", type=formats, default=("pdf", "xml"))
    add("--wait-timeout", type=float, default=300.0)
    add("--lease", type=positive_float, default=30.0, help="seconds the claims of a dead worker last")
    add_connection(work)


def _check_journal(spec: str) -> None:
    from ..bulk.journal import is_url

    if "://" in spec and not is_url(spec):
        raise UsageError(f"--journal {spec.split('://', 1)[0]}://… is not a shared journal URL")
    if "://" not in spec and not os.path.exists(spec):
        raise UsageError(f"no such journal file: {spec}")


async def cmd_work(args: argparse.Namespace) -> int:
    _check_journal(args.journal)
    key = api_key(args)
    out = console()
    report: RunReport | None = None
    runners: list[Any] = []

    async def work() -> int:
        nonlocal report
        async with bulk_client(key, args.base_url, args.rate_store) as client:
            report = await run_bulk(
                client,
                None,
                None,
                out=args.out,
                journal=args.journal,
                concurrency=args.concurrency,
                batch_size=args.batch_size,
                formats=args.formats,
                wait_timeout=args.wait_timeout,
                console=out,
                runners=runners,
                run_id=args.run,
                join=True,
                lease=args.lease,
            )
        return exit_code(report)

    code = await with_interrupt(work, resumable=True)
    if report is None and runners:
        report = runners[0].last_report
    finish(out, report, args.out, args.journal, interrupted=code == EXIT_INTERRUPTED)
    return code
