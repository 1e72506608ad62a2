"""``python -m benchmarks``: run every benchmark and print markdown tables.

``--smoke``: tiny sizes, one repeat, the same code paths; exits non-zero when any contestant crashes (CI).
``--only b1,b3``: a subset.  ``--output FILE``: also write the markdown there.
The sandbox throughput benchmark (``benchmarks/bench_sandbox.py``, owned by S) runs too when present.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import _harness as h

BENCHES = ("b1", "b1s", "b2", "b3", "b4", "b5", "b6", "b7", "sandbox")


def _bench_sandbox(smoke: bool) -> tuple[str, bool]:
    path = Path(__file__).with_name("bench_sandbox.py")
    if not path.exists():
        return "### Sandbox throughput\n\nbenchmarks/bench_sandbox.py is absent: not run.\n", True
    cmd = [h.PYTHON, "-m", "benchmarks.bench_sandbox", *(["--smoke"] if smoke else [])]
    try:
        proc = subprocess.run(cmd, cwd=h.PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return "### Sandbox throughput\n\nTimed out after 300 s.\n", False
    text = "### Sandbox throughput (benchmarks/bench_sandbox.py)\n\n" + proc.stdout.strip() + "\n"
    if proc.returncode != 0:
        text += f"\nExit {proc.returncode}: {proc.stderr.strip()[-800:]}\n"
    return text, proc.returncode == 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--smoke", action="store_true", help="tiny sizes; non-zero exit if a contestant crashes")
    p.add_argument("--only", default="", help=f"comma-separated subset of {','.join(BENCHES)}")
    p.add_argument("--output", type=Path, help="also write the markdown to this file")
    args = p.parse_args(argv)
    chosen = [b.strip().lower() for b in args.only.split(",") if b.strip()] or list(BENCHES)
    unknown = [b for b in chosen if b not in BENCHES]
    if unknown:
        p.error(f"unknown benchmarks {unknown}; choose from {BENCHES}")

    from . import b1_month_end, b2_overhead, b3_serde, b4_memory, b5_polling, b6_fastapi, b7_shared_rate

    runners: dict[str, Callable[[], tuple[str, bool]]] = {
        "b1": lambda: b1_month_end.run(smoke=args.smoke),
        "b1s": lambda: b1_month_end.run_short(smoke=args.smoke),
        "b2": lambda: b2_overhead.run(smoke=args.smoke),
        "b3": lambda: b3_serde.run(smoke=args.smoke),
        "b4": lambda: b4_memory.run(smoke=args.smoke),
        "b5": lambda: b5_polling.run(smoke=args.smoke),
        "b6": lambda: b6_fastapi.run(smoke=args.smoke),
        "b7": lambda: b7_shared_rate.run(smoke=args.smoke),
        "sandbox": lambda: _bench_sandbox(args.smoke),
    }
    mode = "smoke" if args.smoke else "full"
    command = "python -m benchmarks" + (" --smoke" if args.smoke else "")
    if args.only:
        command += f" --only {args.only}"
    header = [
        f"## faktoora-async benchmarks ({mode} run)",
        "",
        f"Command: `{command}`. Started {h.utc_now()}. {h.machine_line()}.",
        "",
    ]
    print("\n".join(header), flush=True)
    sections = list(header)
    failed: list[str] = []
    for name in chosen:
        t0 = time.perf_counter()
        print(f"[{name}] running ...", file=sys.stderr, flush=True)
        try:
            text, ok = runners[name]()
        except Exception as exc:  # a benchmark that crashes must fail the run, not hide
            text, ok = f"### {name}\n\nCRASHED: {type(exc).__name__}: {exc}\n", False
        took = time.perf_counter() - t0
        text = f"{text.rstrip()}\n\n_{name}: {took:.0f} s; after it: {h.machine_line()}_\n"
        print(text, flush=True)
        sections.append(text)
        if not ok:
            failed.append(name)
    footer = f"Finished {h.utc_now()}." + (f" FAILED: {', '.join(failed)}." if failed else " All ran.")
    print(footer, flush=True)
    sections.append(footer + "\n")
    if args.output:
        args.output.write_text("\n".join(sections), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
