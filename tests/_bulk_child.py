"""Helpers for the bulk tests: a runner child process (killable at chosen points) and result checks.

As a script::

    FAKTOORA_API_KEY=... python tests/_bulk_child.py --base-url URL --journal J --out DIR --n 1000 \
        [--seed S] [--kill-at KIND:COUNT]

runs :class:`BulkRunner` over ``generate_invoices(n, seed=S)``.  ``--kill-at submitted:400`` makes the
process SIGKILL itself the moment the runner reports 400 invoices ``submitted`` (see
``faktoora_async.bulk.progress``): a real, uncatchable kill at a precise point of the pipeline.
Exit code 0 when every invoice ended done, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def fetch_admin(root_url: str, what: str) -> Any:
    """``GET {root_url}/_sandbox/{what}`` as JSON (stats, invoices)."""
    with urllib.request.urlopen(f"{root_url}/_sandbox/{what}", timeout=30) as resp:
        return json.loads(resp.read())


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_exactly_once(
    *,
    sandbox_invoices: list[dict[str, Any]],
    stats: dict[str, Any],
    journal: Path,
    out_dir: Path,
    numbers: Iterable[str],
    formats: Iterable[str] = ("pdf", "xml"),
) -> None:
    """Every number created exactly once on the server, journalled downloaded, files equal the server's."""
    from faktoora_async.bulk import read_rows

    expected = set(numbers)
    per_number = Counter(inv["invoiceNumber"] for inv in sandbox_invoices)
    twice = {n: c for n, c in per_number.items() if c > 1}
    assert not twice, f"created more than once: {sorted(twice)[:10]}"
    assert set(per_number) == expected, (
        f"missing on server: {sorted(expected - set(per_number))[:10]}, "
        f"unexpected: {sorted(set(per_number) - expected)[:10]}"
    )
    assert stats["invoicesStored"] == len(expected)
    # The runner never re-sends before looking a number up, so the server never rejects a duplicate.
    assert stats["duplicatesRejected"] == 0, stats["duplicatesRejected"]
    by_number = {inv["invoiceNumber"]: inv for inv in sandbox_invoices}
    rows = {r.number: r for r in read_rows(journal)}
    assert set(rows) == expected
    for number in sorted(expected):
        row = rows[number]
        server = by_number[number]
        assert row.state == "downloaded", (number, row.state, row.reason)
        assert row.faktoora_id == server["faktooraId"], number
        for fmt in formats:
            info = row.files[fmt]
            path = out_dir / info["path"]
            assert path.resolve().parent == out_dir.resolve()
            digest = sha256_file(path)
            assert digest == info["sha256"] == server[f"{fmt}Sha256"], (number, fmt)
    leftovers = [p.name for p in out_dir.iterdir() if p.name.startswith(".")]
    assert not leftovers, f"temp files left behind: {leftovers[:10]}"


async def _main(args: argparse.Namespace) -> int:
    from faktoora_async.bulk import BulkRunner, ProgressEvent
    from faktoora_async.client import FaktooraClient
    from faktoora_async.einvoice.generate import generate_invoices

    kill_kind, kill_count = None, 0
    if args.kill_at:
        kill_kind, _, count = args.kill_at.partition(":")
        kill_count = int(count)

    def progress(event: ProgressEvent) -> None:
        if event.kind == kill_kind and event.totals.get(event.kind, 0) >= kill_count:
            os.kill(os.getpid(), signal.SIGKILL)

    key = os.environ["FAKTOORA_API_KEY"]
    async with FaktooraClient(key, base_url=args.base_url) as client:
        runner = BulkRunner(
            client,
            journal=args.journal,
            out_dir=args.out,
            concurrency=args.concurrency,
            batch_size=args.batch_size,
            formats=tuple(args.formats.split(",")),
            wait_timeout=60.0,
            progress=progress,
        )
        report = await runner.run(generate_invoices(args.n, seed=args.seed))
    print(json.dumps(report.summary()), flush=True)
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    import anyio

    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--formats", default="pdf,xml")
    parser.add_argument("--kill-at", default=None)
    args = parser.parse_args(argv)
    return anyio.run(_main, args)


if __name__ == "__main__":
    sys.exit(main())
