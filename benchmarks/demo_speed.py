"""The demo's speed against its own rate bound (issue 14): ``faktoora-async demo`` with its defaults.

Each run is ``python -m faktoora_async demo --out TMP`` in a fresh process (500 invoices, 200 req/s, burst
40, 1 % 5xx faults, PDF + XML).  Figures: the bulk run's wall time as the demo reports it, the rate bound
(the fewest requests such a run needs, minus the burst, over the rate: ``cli.demo.rate_bound``), their
ratio, the whole command's wall time (start-up and sandbox included) and the CPU seconds of the command
and every process below it (``psutil``, sampled every 0.2 s), in all and split into the client (the
command's own process), the sandbox process and the rest (its PDF workers and their forkserver).
``--reference DIR`` (repeatable) runs another checkout (``git archive <commit> faktoora_async | tar -x -C
DIR``) in alternation, for a before/after; an older demo that does not print the bound is measured the
same way.

    python -m benchmarks.demo_speed [--runs 3] [--reference DIR ...] [--invoices 500]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import _harness as h

_PARTS = ("client", "sandbox", "workers")
_RUN_WALL = re.compile(r"wall time: ([\d.]+) s")
_TOTAL_WALL = re.compile(r"demo wall time: ([\d.]+) s")


def _tree_cpu(proc: subprocess.Popen[str]) -> dict[str, float]:
    """CPU seconds of ``proc`` and every descendant, sampled every 0.2 s until it exits (a process that
    is not waited for by its parent, such as a forkserver's worker, is not in any ``RUSAGE_CHILDREN``):
    ``client`` (``proc`` itself), ``sandbox`` (the sandbox process), ``workers`` (everything else)."""
    import psutil

    last: dict[int, float] = {}
    kind: dict[int, str] = {proc.pid: "client"}
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            for p in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    t = p.cpu_times()
                    last[p.pid] = t.user + t.system
                    if p.pid not in kind:
                        sandbox = "faktoora_async.sandbox" in p.cmdline()
                        kind[p.pid] = "sandbox" if sandbox else "workers"
        except psutil.Error:
            pass
        time.sleep(0.2)
    split = {"client": 0.0, "sandbox": 0.0, "workers": 0.0}
    for pid, seconds in last.items():
        split[kind.get(pid, "workers")] += seconds
    return split


def run_demo(source: Path, invoices: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="demo-speed-") as tmp:
        env = {**os.environ, "PYTHONPATH": str(source), "COLUMNS": "200"}
        cmd = [h.PYTHON, "-m", "faktoora_async", "demo", "--out", str(Path(tmp) / "out")]
        cmd += ["--invoices", str(invoices)]
        t0 = time.perf_counter()
        with tempfile.TemporaryFile("w+") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp)
            cpu = _tree_cpu(proc)
            wall = time.perf_counter() - t0
            log.seek(0)
            text = log.read()
    runs = [float(m) for m in _RUN_WALL.findall(text.replace("demo wall time", "demo total"))]
    total = _TOTAL_WALL.search(text)
    if proc.returncode != 0 or not runs:
        raise RuntimeError(f"demo failed (exit {proc.returncode}): {text[-800:]}")
    return {
        "run_s": runs[-1],
        "total_s": float(total.group(1)) if total else wall,
        "cpu_s": sum(cpu.values()),
        **{f"cpu_{k}": v for k, v in cpu.items()},
        "load": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.demo_speed", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--invoices", type=int, default=500)
    p.add_argument(
        "--reference",
        type=Path,
        action="append",
        default=[],
        help="another checkout's folder holding faktoora_async/ (repeatable)",
    )
    args = p.parse_args(argv)
    from faktoora_async.cli.demo import rate_bound

    bound = rate_bound(args.invoices, 2, rate=200.0, burst=40)
    here = Path(__file__).resolve().parent.parent
    contestants = {"this checkout": here}
    for folder in args.reference:
        contestants[f"reference {folder}" if len(args.reference) > 1 else "reference"] = folder.resolve()
    started, load = h.utc_now(), h.machine_line()
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in contestants}
    for r in range(args.runs):
        names = list(contestants)
        for name in names[r % len(names) :] + names[: r % len(names)]:
            results[name].append(run_demo(contestants[name], args.invoices))
    rows = []
    for name, got in results.items():
        run_s = [g["run_s"] for g in got]
        rows.append(
            [
                name,
                len(got),
                statistics.median(run_s),
                f"{min(run_s):.1f}-{max(run_s):.1f}",
                bound,
                f"{statistics.median(run_s) / bound:.2f}x",
                statistics.median(g["total_s"] for g in got),
                statistics.median(g["cpu_s"] for g in got),
                " / ".join(f"{statistics.median(g[f'cpu_{k}'] for g in got):.1f}" for k in _PARTS),
                f"{min(g['load'] for g in got):.1f}-{max(g['load'] for g in got):.1f}",
            ]
        )
    print(f"### Demo ({args.invoices} invoices, defaults): median of {args.runs} run(s)\n")
    print(f"Started {started}; {load}. Bound: {bound:.2f} s (`cli.demo.rate_bound`).\n")
    headers = [
        "checkout",
        "runs",
        "run wall s",
        "min-max",
        "rate bound s",
        "wall / bound",
        "command wall s",
        "CPU s (all processes)",
        "CPU s client / sandbox / PDF workers",
        "load after each run",
    ]
    print(h.markdown_table(headers, rows))
    ours = statistics.median(g["run_s"] for g in results["this checkout"]) / bound
    print(f"\nTarget demo wall <= 1.5x its rate bound: {ours:.2f}x, {'met' if ours <= 1.5 else 'NOT met'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
