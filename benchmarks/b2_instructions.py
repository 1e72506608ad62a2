"""B2 in instructions: user-space CPU instructions per request under valgrind, which load does not move.

B2's CPU seconds swing by ±30 % on a machine shared with other work (caches, frequency, hyperthreads), so
this variant counts instructions instead: each contestant runs ``K1`` and then ``K2`` sequential requests
in a fresh interpreter under ``valgrind --tool=cachegrind`` (client process only; the sandbox runs
outside valgrind), and ``(I(K2) - I(K1)) / (K2 - K1)`` is its cost per request, start-up and imports
cancelled out.  Kernel time (the socket calls, the same for everyone) is not counted, so the ratios are
somewhat larger than CPU-time ratios.  Needs the ``valgrind`` binary (Debian: ``apt-get install valgrind``).

    python -m benchmarks.b2_instructions [--kind status|create|both] [--k2 350] [--reference TREE]
                                         [--repeats N]

``--reference TREE`` adds a row for the SDK of another checkout (``git worktree add /tmp/old REV``): its
``faktoora_async`` is put first on ``PYTHONPATH`` of that row's client, against the same sandbox, so a
change is measured before and after in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import _harness as h
from .b2_overhead import _ready_invoice

CONTESTANTS = ("ours", "ours-lean", "aiohttp-bare")
LABELS = {
    "ours": "ours: FaktooraClient (defaults: EN 16931 pre-flight on)",
    "ours-lean": "ours, diagnostic: create(preflight=False)",
    "aiohttp-bare": "bare aiohttp (floor)",
    "reference": "ours at the reference checkout (defaults)",
}
K1 = 50

_CHILD = r"""
import asyncio, json, sys
origin, key, sid, contestant, kind, count, items_file = sys.argv[1:8]
count = int(count)
items = json.load(open(items_file)) if kind == "create" else []

async def main():
    if contestant != "aiohttp-bare":
        from faktoora_async import FaktooraClient
        async with FaktooraClient(key, base_url=origin + "/api/v1", max_connections=8) as c:
            for i in range(count):
                if kind == "status":
                    await c.invoices.status(sid)
                else:
                    await c.invoices.create([items[i]], preflight=contestant != "ours-lean")
    else:
        import aiohttp
        headers = {"X-API-KEY": key}
        async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=8)) as s:
            url = f"{origin}/api/v2/invoices/{sid}/status"
            for i in range(count):
                if kind == "status":
                    async with s.get(url) as r:
                        json.loads(await r.read()).get("invoiceStatus")
                else:
                    body = json.dumps({"invoices": [items[i]]}).encode()
                    ct = {"Content-Type": "application/json"}
                    async with s.post(origin + "/api/v1/invoices", data=body, headers=ct) as r:
                        json.loads(await r.read())

asyncio.run(main())
"""


def _instructions(args: list[str], reference: str | None = None) -> int:
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    env = dict(os.environ)
    if reference is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [reference, env.get("PYTHONPATH")]))
    # ``python -c`` puts its working directory first on sys.path: run it outside any checkout, so the
    # reference tree on PYTHONPATH is the one imported (run from a checkout, that checkout shadowed it)
    out = subprocess.run(
        [*cmd, h.PYTHON, "-c", _CHILD, *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    match = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count from valgrind: {out.stderr[-800:]}")
    return int(match.group(1).replace(",", ""))


def measure(kind: str, k2: int, reference: str | None = None, repeats: int = 1) -> dict[str, list[float]]:
    """Instructions per request of each contestant, one value per repeat (contestants alternate)."""
    delay = (0.0, 0.0) if kind == "status" else (3600.0, 3600.0)
    per: dict[str, list[float]] = {}
    config = h.SandboxConfig(processing_delay=delay, extra=("--render-processes", "0"))
    with h.Sandbox(config) as sb, tempfile.TemporaryDirectory() as tmp:
        sid = _ready_invoice(sb) if kind == "status" else "-"
        items_file = Path(tmp) / "items.json"
        if kind == "create":
            from faktoora_async.einvoice.generate import generate_invoices

            needed = 2 * k2 * (len(CONTESTANTS) + 1) * repeats + 10
            pool = iter(generate_invoices(needed, seed=2, lines=20, number_prefix="B2I"))
        for _ in range(repeats):
            for contestant in _contestants(reference):
                counts: dict[int, int] = {}
                for count in (K1, k2):
                    if kind == "create":  # every request a new invoice number
                        items = [next(pool) for _ in range(count)]
                        items_file.write_text(json.dumps(items), encoding="utf-8")
                    else:
                        items_file.write_text("[]", encoding="utf-8")
                    args = [sb.origin, sb.api_key, sid, contestant, kind, str(count), str(items_file)]
                    counts[count] = _instructions(args, reference if contestant == "reference" else None)
                per.setdefault(contestant, []).append((counts[k2] - counts[K1]) / (k2 - K1))
    return per


def _contestants(reference: str | None) -> tuple[str, ...]:
    return (*CONTESTANTS, "reference") if reference else CONTESTANTS


def run(kinds: tuple[str, ...], k2: int, reference: str | None = None, repeats: int = 1) -> str:
    if shutil.which("valgrind") is None:
        return "### B2 in instructions\n\nvalgrind is not installed: not run.\n"
    started, load = h.utc_now(), h.machine_line()
    results = {kind: measure(kind, k2, reference, repeats) for kind in kinds}
    rows: list[list[Any]] = []
    for c in _contestants(reference):
        row: list[Any] = [LABELS[c]]
        for kind in kinds:
            values = results[kind][c]
            value, floor = statistics.median(values), statistics.median(results[kind]["aiohttp-bare"])
            row += [value / 1000, f"{value / floor:.2f}x"]
            if repeats > 1:
                row.append(f"{min(values) / 1000:,.0f}-{max(values) / 1000:,.0f}")
        rows.append(row)
    headers = ["contestant"]
    for kind in kinds:
        headers += [f"k instructions / {kind}", "vs bare aiohttp"]
        if repeats > 1:
            headers.append("min-max k")
    how = (
        f"Median of {repeats} valgrind runs per count, contestants alternating"
        if repeats > 1
        else "One valgrind run per count"
    )
    lines = [
        f"### B2 in instructions: user-space instructions per request (valgrind), {k2 - K1} requests",
        "",
        f"Started {started}; {load}. {how} (instruction counts are deterministic to about ±1 %)."
        + (f" Reference checkout: `{reference}`." if reference else ""),
        "",
        h.markdown_table(headers, rows),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.b2_instructions", description=__doc__.splitlines()[0]
    )
    p.add_argument("--kind", choices=("status", "create", "both"), default="both")
    p.add_argument("--k2", type=int, default=350)
    p.add_argument("--reference", default=None, help="another checkout's tree, measured as one more row")
    p.add_argument("--repeats", type=int, default=1, help="runs per contestant (median and min-max)")
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    kinds = ("status", "create") if args.kind == "both" else (args.kind,)
    reference = str(Path(args.reference).resolve()) if args.reference else None
    print(run(kinds, args.k2, reference, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
