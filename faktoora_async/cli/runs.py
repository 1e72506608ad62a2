"""``faktoora-async runs [--journal SPEC]``: each run of a journal and its progress across workers.

The journal is a SQLite file or a ``postgresql://`` URL (``--journal``, else ``FAKTOORA_JOURNAL``).  A table
per run: invoices per state, rows held by live workers, the workers with their host, pid and lease.
``--json`` prints the same as one JSON document (for scripts and monitoring).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import TYPE_CHECKING, Any

from ._base import Commands, UsageError, console, plain, positive

if TYPE_CHECKING:
    from ..bulk.journal import RunInfo


def register(commands: Commands) -> None:
    runs = commands.add("runs", cmd_runs, help="show each run of a journal and its progress across workers")
    runs.add_argument(
        "--journal", default=None, help="a SQLite file or postgresql://… URL (default: $FAKTOORA_JOURNAL)"
    )
    runs.add_argument("--limit", type=positive, default=10, help="newest runs to show (default 10)")
    runs.add_argument("--json", action="store_true", help="print JSON instead of tables")


def journal_spec(args: argparse.Namespace) -> str:
    """``--journal`` or ``$FAKTOORA_JOURNAL``; a missing SQLite file is a usage error (not created)."""
    spec = args.journal or os.environ.get("FAKTOORA_JOURNAL", "")
    if not spec:
        raise UsageError("no journal: pass --journal FILE|postgresql://… or set FAKTOORA_JOURNAL")
    if "://" not in spec and not os.path.exists(spec):
        raise UsageError(f"no such journal file: {spec}")
    return str(spec)


async def cmd_runs(args: argparse.Namespace) -> int:
    from ..bulk.journal import open_journal

    spec = journal_spec(args)
    async with open_journal(spec) as journal:
        infos = await journal.runs(limit=args.limit)
        where = journal.display
    if args.json:
        print(json.dumps({"journal": where, "runs": [_run_dict(i) for i in infos]}, indent=1))
        return 0
    out = console()
    if not infos:
        out.print(f"no runs in {plain(where)}")
        return 0
    for info in infos:
        out.print(_run_table(info))
    return 0


def _state(info: RunInfo) -> str:
    if info.alive_workers:
        return "running"
    if info.pending:
        return "stopped with work left" if info.finished_at else "not finished"
    return info.outcome or "finished"


def _run_dict(info: RunInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "state": _state(info),
        "started_at": info.started_at,
        "finished_at": info.finished_at,
        "outcome": info.outcome,
        "total": info.total,
        "counts": info.counts,
        "done": info.done,
        "pending": info.pending,
        "not_journalled": info.extras,
        "claimed": info.claimed,
        "workers": [
            {
                "name": w.name,
                "host": w.host,
                "pid": w.pid,
                "alive": w.alive,
                "claimed": w.claimed,
                "heartbeat_at": w.heartbeat_at,
                "lease_until": w.lease_until,
                "stopped_at": w.stopped_at,
            }
            for w in info.workers
        ],
    }


def _ago(t: float | None) -> str:
    if t is None:
        return "-"
    seconds = max(0.0, time.time() - t)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def _run_table(info: RunInfo) -> Any:
    from rich.table import Table

    failed = info.counts.get("failed", 0)
    title = f"run {info.id}" + (f" ({info.name})" if info.name else "")
    title += f": {_state(info)}, started {_ago(info.started_at)}"
    table = Table(title=plain(title), title_justify="left")
    for column in ("invoices", "done", "failed", "pending", "held by live workers", "not journalled"):
        table.add_column(column, justify="right")
    table.add_row(*(str(n) for n in (info.total, info.done, failed, info.pending, info.claimed, info.extras)))
    if not info.workers:
        return table
    workers = Table(show_header=True, box=None, padding=(0, 2))
    for column in ("worker", "host", "pid", "state", "holds", "last heartbeat"):
        workers.add_column(column)
    for w in info.workers:
        state = "alive" if w.alive else ("stopped" if w.stopped_at else "lease expired")
        workers.add_row(plain(w.name), plain(w.host), str(w.pid), state, str(w.claimed), _ago(w.heartbeat_at))
    from rich.console import Group

    return Group(table, workers, "")
