"""Issue 15's scale-out runs: 4 worker processes of the real CLI on one PostgreSQL journal and one API key.

The sandbox (its own process) allows 100 requests/s with a burst of 20; the workers share that budget
through the Redis rate store (``--rate-store``).  One ``faktoora-async run`` plans the 4,000 invoices and
works, three ``faktoora-async work`` join it.  Checked: every invoice created exactly once, every file
whole and the server's, the 429 share; in the second test two of the four workers are SIGKILLed mid-run
and the other two finish their claimed invoices after the leases expire.  The achieved rate is printed
(``-s``) rather than asserted: a figure, not a test (see README "Scaling out").  XML only: rendering 4,000
PDFs would make the sandbox's CPU, not the rate, the bound on a 2-core machine.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from _scale import (
    cli_env,
    fetch_admin,
    read_journal,
    request_counts,
    start_worker,
    verify_exactly_once,
    write_invoices,
)

from faktoora_async.bulk.journal import Journal
from faktoora_async.sandbox import SandboxProcess

pytestmark = pytest.mark.slow

N = 4000
RATE, BURST = 100.0, 20.0


class Meter(threading.Thread):
    """Samples the sandbox's request counters to find the window in which requests were served."""

    def __init__(self, root_url: str) -> None:
        super().__init__(daemon=True)
        self.root_url = root_url
        self.samples: list[tuple[float, int, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.25):
            try:
                total, throttled = api_counts(fetch_admin(self.root_url, "stats"))
            except OSError:
                continue
            self.samples.append((time.monotonic(), total, throttled))

    def window(self) -> tuple[float, int, int]:
        """(seconds from the first to the last served request, requests, 429s) as sampled."""
        busy = [s for s in self.samples if s[1] > 0]
        first = next(s for s in busy)
        last = next(s for s in busy if s[1] == busy[-1][1])
        return last[0] - first[0] + 0.25, last[1], last[2]


def api_counts(stats: dict[str, Any]) -> tuple[int, int]:
    return request_counts({"requests": {k: v for k, v in stats["requests"].items() if "/_sandbox" not in k}})


def _run_workers(
    tmp_path: Path, postgres_url: str, redis_url: str, *, kill: int
) -> tuple[dict[str, Any], list[int]]:
    invoices = tmp_path / "invoices.jsonl"
    numbers = write_invoices(invoices, N, seed=15)
    out = tmp_path / "out"
    logs = tmp_path / "logs"
    logs.mkdir()
    journal = postgres_url
    common = ["--journal", journal, "--out", str(out), "--formats", "xml", "--rate-store", redis_url]
    common += ["--lease", "5"]
    with SandboxProcess(processing_delay=(0.05, 0.3), seed=4, rate=RATE, burst=BURST) as sb:
        env = cli_env(sb.api_key, sb.base_url)
        meter = Meter(sb.root_url)
        meter.start()
        workers = [start_worker("run", ["run", str(invoices), *common], env=env, logs=logs)]
        _wait_for_run(journal, workers[0])
        workers += [start_worker(f"work{k}", ["work", *common], env=env, logs=logs) for k in (1, 2, 3)]
        killed: list[int] = []
        if kill:
            _wait_for_downloads(journal, N // 4)
            for w in workers[-kill:]:
                os.kill(w.proc.pid, signal.SIGKILL)
                killed.append(w.proc.pid)
        codes = []
        for w in workers:
            try:
                codes.append(w.proc.wait(900))
            finally:
                w.stop()
        meter.stop.set()
        meter.join(10)
        stats = fetch_admin(sb.root_url, "stats")
        server_invoices = fetch_admin(sb.root_url, "invoices")
    logs_text = {w.name: w.log.read_text(errors="replace")[-3000:] for w in workers}
    survivors = [c for w, c in zip(workers, codes, strict=True) if w.proc.pid not in killed]
    assert survivors == [0] * (4 - kill), (codes, logs_text)
    if kill:
        assert [c for w, c in zip(workers, codes, strict=True) if w.proc.pid in killed] == [
            -signal.SIGKILL
        ] * kill
    rows = anyio.run(read_journal, journal)
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    # A killed worker's unfinished download stays a hidden temp file, never a file under a final name.
    assert all(name.endswith(".part") for name in leftovers), leftovers
    for name in leftovers:
        (out / name).unlink()
    verify_exactly_once(
        invoices=server_invoices, stats=stats, rows=rows, out_dir=out, numbers=numbers, formats=("xml",)
    )
    seconds, served, throttled = meter.window()
    total, total_429 = api_counts(stats)
    info = anyio.run(_run_info, journal)
    figures = {
        "invoices": N,
        "workers": 4,
        "killed": kill,
        "requests": total,
        "429": total_429,
        "share_429": round(total_429 / total, 4),
        "served_window_s": round(seconds, 1),
        "accepted_per_s": round((served - throttled) / seconds, 1),
        "of_rate": round((served - throttled) / seconds / RATE, 3),
        "temp_files_of_killed_workers": len(leftovers),
        "reclaimed_rows": info["reclaimed"],
        "workers_seen": info["workers"],
    }
    print("\nscale-out figures:", json.dumps(figures))
    (tmp_path / "figures.json").write_text(json.dumps(figures))
    return figures, killed


def _wait_for_run(journal: str, planner: Any) -> None:
    async def wait() -> None:
        async with Journal(journal) as j:
            for _ in range(1200):
                if planner.proc.poll() is not None:
                    raise AssertionError(planner.log.read_text(errors="replace")[-2000:])
                runs = await j.runs(limit=1)
                if runs and runs[0].total:
                    return
                await anyio.sleep(0.1)
        raise AssertionError("the run never appeared in the journal")

    anyio.run(wait)


def _wait_for_downloads(journal: str, n: int) -> None:
    async def wait() -> None:
        async with Journal(journal) as j:
            for _ in range(6000):
                runs = await j.runs(limit=1)
                if runs and runs[0].done >= n:
                    return
                await anyio.sleep(0.1)
        raise AssertionError(f"fewer than {n} invoices downloaded in 10 minutes")

    anyio.run(wait)


async def _run_info(journal: str) -> dict[str, Any]:
    import psycopg

    async with Journal(journal) as j:
        runs = await j.runs(limit=1)
    with psycopg.connect(journal) as conn:
        reclaimed = conn.execute("SELECT count(*) FROM faktoora.invoices WHERE claims > 1").fetchone()
    return {"reclaimed": int(reclaimed[0]) if reclaimed else 0, "workers": len(runs[0].workers)}


def test_four_workers_one_key_exactly_once(tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    figures, _ = _run_workers(tmp_path, postgres_url, redis_url, kill=0)
    # Issue 15 aims at <= 1 % (measured 0.55 % and 1.34 %, the latter at load avg 8); the assert keeps a
    # margin that holds on a busy 2-core box and still fails four governors that each learn alone
    # (they see a large share refused: the ratelimit tests and benchmark B7 measure that).
    assert figures["share_429"] <= 0.03, figures


def test_two_of_four_workers_killed_the_rest_finish_exactly_once(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    figures, killed = _run_workers(tmp_path, postgres_url, redis_url, kill=2)
    assert len(killed) == 2
    assert figures["reclaimed_rows"] > 0, figures  # the killed workers' claims were taken over
