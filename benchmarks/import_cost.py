"""Import cost: ``import faktoora_async`` against ``import aiohttp``, in fresh interpreters (issue 14).

Each round starts one fresh interpreter per statement (statements alternate, so load drifts hit all of
them) under ``python -X importtime``; the child measures the CPU time (``time.process_time``) and the wall
time of the statement itself, interpreter start-up excluded, and ``-X importtime`` gives the cumulative
microseconds of each top-level module.  Bytecode caches are written by an untimed first run, as after any
install.  Figures are medians over the rounds with the spread; the ratio is against ``import aiohttp``,
which the SDK cannot import faster than (its transport is aiohttp).  ``--top N`` lists the N modules with
the largest self time in ``from faktoora_async import FaktooraClient`` that ``import aiohttp`` does
not import itself (the SDK's own share).

    python -m benchmarks.import_cost [--rounds 10] [--top 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict

from . import _harness as h

STATEMENTS = {
    "import aiohttp": "import aiohttp",
    "import faktoora_async": "import faktoora_async",
    "from faktoora_async import FaktooraClient": "from faktoora_async import FaktooraClient",
    "... + the pre-flight rules (first create)": (
        "from faktoora_async import FaktooraClient; import faktoora_async.einvoice.rules"
    ),
}
BASE = "import aiohttp"
TARGET = "import faktoora_async"
OWN = "from faktoora_async import FaktooraClient"  # what a program that uses the client imports

_CHILD = """
import time, json, sys
cpu, wall = time.process_time(), time.perf_counter()
{stmt}
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
print(json.dumps({{"cpu": cpu, "wall": wall, "modules": sorted(sys.modules)}}))
"""


def _run(stmt: str) -> tuple[dict[str, float], dict[str, tuple[int, int]]]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run(
        [h.PYTHON, "-X", "importtime", "-c", _CHILD.format(stmt=stmt)],
        capture_output=True,
        text=True,
        check=True,
        cwd=h.PROJECT_ROOT,
        env=env,
    )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    times: dict[str, tuple[int, int]] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, self_us, cumulative, name = line.split("|", 0)[0], *line.removeprefix("import time:").split("|")
        times[name.strip()] = (int(self_us), int(cumulative))
    return {"cpu": out["cpu"], "wall": out["wall"], "n": len(out["modules"])}, times


def _available(stmt: str) -> bool:
    try:
        _run(stmt)
    except subprocess.CalledProcessError:
        return False
    return True


def measure(rounds: int) -> tuple[dict[str, list[dict[str, float]]], dict[str, list[int]], set[str]]:
    statements = {k: v for k, v in STATEMENTS.items() if _available(v)}  # also writes the .pyc files
    results: dict[str, list[dict[str, float]]] = {k: [] for k in statements}
    own_self: dict[str, list[int]] = defaultdict(list)
    base_modules: set[str] = set()
    for r in range(rounds):
        names = list(statements)
        names = names[r % len(names) :] + names[: r % len(names)]
        for name in names:
            figures, times = _run(statements[name])
            results[name].append(figures)
            if name == BASE:
                base_modules |= set(times)
            if name == OWN:
                for module, (self_us, _) in times.items():
                    own_self[module].append(self_us)
    return results, own_self, base_modules


def report(rounds: int, top: int) -> str:
    started, load = h.utc_now(), h.machine_line()
    results, own_self, base_modules = measure(rounds)
    base_cpu = statistics.median(r["cpu"] for r in results[BASE])
    base_wall = statistics.median(r["wall"] for r in results[BASE])
    rows = []
    for name, figures in results.items():
        cpu = [f["cpu"] * 1000 for f in figures]
        wall = [f["wall"] * 1000 for f in figures]
        rows.append(
            [
                f"`{name}`",
                statistics.median(cpu),
                f"{min(cpu):.0f}-{max(cpu):.0f}",
                f"{statistics.median(cpu) / (base_cpu * 1000):.2f}x",
                statistics.median(wall),
                f"{min(wall):.0f}-{max(wall):.0f}",
                f"{statistics.median(wall) / (base_wall * 1000):.2f}x",
                int(statistics.median(f["n"] for f in figures)),
            ]
        )
    lines = [
        f"### Import cost: median of {rounds} fresh interpreters per statement",
        "",
        f"Started {started}; {load}. Bound: `import aiohttp` (the SDK's transport needs it).",
        "",
        h.markdown_table(
            [
                "statement",
                "CPU ms",
                "CPU min-max",
                "CPU vs aiohttp",
                "wall ms",
                "wall min-max",
                "wall vs aiohttp",
                "modules in sys.modules",
            ],
            rows,
        ),
        "",
    ]
    if TARGET in results:
        cpu = statistics.median(r["cpu"] for r in results[TARGET]) / base_cpu
        wall = statistics.median(r["wall"] for r in results[TARGET]) / base_wall
        verdict = "met" if max(cpu, wall) <= 1.2 else "NOT met"
        target = "Target `import faktoora_async` <= 1.2x `import aiohttp`"
        lines.append(f"{target}: CPU {cpu:.2f}x, wall {wall:.2f}x, {verdict}.")
    if OWN in results:
        cpu = statistics.median(r["cpu"] for r in results[OWN]) / base_cpu
        wall = statistics.median(r["wall"] for r in results[OWN]) / base_wall
        verdict = "met" if max(cpu, wall) <= 1.2 else "NOT met"
        lines.append(f"The same bound for `{OWN}`: CPU {cpu:.2f}x, wall {wall:.2f}x, {verdict}.")
    if top:
        own = {m: statistics.median(v) for m, v in own_self.items() if m not in base_modules}
        total = sum(own.values())
        lines += [
            "",
            f"Modules `{OWN}` adds to `import aiohttp` ({len(own)}, {total / 1000:.1f} ms self time in "
            f"all, `-X importtime`), the {top} largest:",
            "",
            h.markdown_table(
                ["module", "self µs"],
                [[m, int(v)] for m, v in sorted(own.items(), key=lambda kv: -kv[1])[:top]],
            ),
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.import_cost", description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--top", type=int, default=15)
    args = p.parse_args(argv)
    print(report(args.rounds, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
