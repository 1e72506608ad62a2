"""Helpers for the scale-out tests: worker processes of the real CLI sharing one journal, and the checks.

Every worker is ``python -m faktoora_async run|work …`` in a process of its own; the sandbox runs in another
(``SandboxProcess``); the journal is real PostgreSQL.  The checks read the sandbox's admin routes and the
journal (any backend, through ``Journal.row_source``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from faktoora_async.bulk.journal import Journal, JournalRow


def fetch_admin(root_url: str, what: str) -> Any:
    with urllib.request.urlopen(f"{root_url}/_sandbox/{what}", timeout=30) as resp:
        return json.loads(resp.read())


def write_invoices(path: Path, n: int, *, seed: int) -> list[str]:
    """``n`` generated invoices as a .jsonl file; returns their numbers."""
    from faktoora_async.einvoice.generate import generate_invoices

    numbers = []
    with path.open("w", encoding="utf-8") as fh:
        for invoice in generate_invoices(n, seed=seed):
            numbers.append(invoice["invoiceNumber"])
            fh.write(json.dumps(invoice, default=str) + "\n")
    return numbers


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    started: float

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait(60)


def start_worker(name: str, args: Sequence[str], *, env: dict[str, str], logs: Path) -> Worker:
    log = logs / f"{name}.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "faktoora_async", *args], stdout=fh, stderr=subprocess.STDOUT, env=env
        )
    return Worker(name, proc, log, time.monotonic())


def cli_env(api_key: str, base_url: str) -> dict[str, str]:
    env = {**os.environ, "FAKTOORA_API_KEY": api_key, "FAKTOORA_BASE_URL": base_url, "COLUMNS": "120"}
    env.pop("FAKTOORA_JOURNAL", None)
    return env


async def read_journal(spec: str) -> dict[str, JournalRow]:
    """Every row of the journal (any backend), newest run first."""
    async with Journal(spec) as j:
        out: dict[str, JournalRow] = {}
        for info in await j.runs(limit=1000):
            source = j.row_source(info.id)
            for row in await anyio.to_thread.run_sync(lambda s=source: list(s.iter_rows())):
                out.setdefault(row.number, row)
        return out


def request_counts(stats: dict[str, Any]) -> tuple[int, int]:
    """(all requests, 429 answers) the sandbox served, over every route."""
    total = throttled = 0
    for per_status in stats["requests"].values():
        for status, n in per_status.items():
            total += int(n)
            if str(status) == "429":
                throttled += int(n)
    return total, throttled


def verify_exactly_once(
    *,
    invoices: list[dict[str, Any]],
    stats: dict[str, Any],
    rows: dict[str, JournalRow],
    out_dir: Path,
    numbers: Iterable[str],
    formats: Iterable[str],
) -> None:
    """Every number created once on the server, journalled downloaded, every file whole and the server's.

    ``invoices`` / ``stats``: the sandbox's ``/_sandbox/invoices`` and ``/_sandbox/stats``; ``rows``:
    :func:`read_journal`.
    """
    expected = set(numbers)
    per_number = Counter(inv["invoiceNumber"] for inv in invoices)
    twice = sorted(n for n, c in per_number.items() if c > 1)
    assert not twice, f"created more than once: {twice[:10]}"
    missing, extra = sorted(expected - set(per_number)), sorted(set(per_number) - expected)
    assert not missing and not extra, (missing[:10], extra[:10])
    assert stats["invoicesStored"] == len(expected)
    assert stats["duplicatesRejected"] == 0, stats["duplicatesRejected"]
    assert set(rows) == expected
    by_number = {inv["invoiceNumber"]: inv for inv in invoices}
    for number in sorted(expected):
        row, server = rows[number], by_number[number]
        assert row.state == "downloaded", (number, row.state, row.reason)
        assert row.faktoora_id == server["faktooraId"], number
        for fmt in formats:
            path = out_dir / row.files[fmt]["path"]
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            assert digest == row.files[fmt]["sha256"] == server[f"{fmt}Sha256"], (number, fmt)
    leftovers = [p.name for p in out_dir.iterdir() if p.name.startswith(".")]
    assert not leftovers, f"temp files left behind: {leftovers[:10]}"
