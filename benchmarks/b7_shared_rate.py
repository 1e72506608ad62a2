"""B7 shared rate budget: 1, 2 and 4 worker processes on one API key, alone or sharing a Redis rate store.

Sandbox (own process, fresh per run): R requests/s, burst B, 20 ms latency.  Each worker is its own
process with its own ``FaktooraClient`` and 16 concurrent callers of ``GET /invoices/next-number``
(cheap on the server, so the rate limit is the bound); together they send ``total`` successful requests,
split evenly, all starting at the same moment.  Modes:

* ``in-process``: every worker's governor learns the limit alone (the default of the SDK);
* ``redis``: every worker's governor takes its slots from one ``RedisStore`` bucket for the key (a
  private ``redis-server`` on a loopback port, started for the benchmark and stopped after it).

Reported (server-side counts): 429 share of all requests, rate use = (accepted - burst) / (R x wall)
and wall / bound with bound = (total - burst) / R.  Medians of the repeats, with the spread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import _harness as h

WORKERS = (1, 2, 4)
MODES = ("in-process", "redis")
CALLERS = 16


@dataclass(frozen=True)
class WorkerConfig:
    base_url: str
    api_key: str
    requests: int
    start_at: float  # wall clock (time.time()) at which every worker starts
    store: str | None


def _make_client(cfg: WorkerConfig) -> Any:
    import inspect

    from faktoora_async import FaktooraClient, RetryConfig
    from faktoora_async.ratelimit import AdaptiveRateLimiter, open_store, store_key

    retry = RetryConfig(max_retries=50, deadline=None)
    if "rate_store" in inspect.signature(FaktooraClient).parameters:
        return FaktooraClient(cfg.api_key, base_url=cfg.base_url, retry=retry, rate_store=cfg.store)
    client = FaktooraClient(cfg.api_key, base_url=cfg.base_url, retry=retry)
    if cfg.store is not None:
        # until FaktooraClient takes rate_store=: hand the client a governor on the shared store
        lim = AdaptiveRateLimiter(store=open_store(cfg.store), store_key=store_key(cfg.api_key))
        client.rate_limiter = lim
        client._transport.limiter = lim
    return client


async def _work(cfg: WorkerConfig) -> dict[str, Any]:
    import anyio

    client = _make_client(cfg)
    async with client:
        remaining = cfg.requests
        delay = cfg.start_at - time.time()
        if delay > 0:
            await anyio.sleep(delay)
        t0 = time.time()

        async def caller() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await client.invoices.next_number()

        async with anyio.create_task_group() as tg:
            for _ in range(CALLERS):
                tg.start_soon(caller)
        t1 = time.time()
        stats = client.rate_limiter.stats()
        store = getattr(client.rate_limiter, "store", None)
        if store is not None and store is not getattr(client, "_rate_store", None):
            await store.aclose()  # a store the benchmark opened itself (not through rate_store=)
    return {"start": t0, "end": t1, "throttles": stats.throttles, "rate": stats.rate}


def worker(cfg: WorkerConfig) -> dict[str, Any]:
    return asyncio.run(_work(cfg))


class _Redis:
    """A private redis-server on a free loopback port (no persistence), or None without the binary."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("redis-server")
        self.port = h.free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> _Redis | None:
        if self.binary is None:
            return None
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir)]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_timeout=1).ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def flush(self) -> None:
        import redis

        redis.Redis(port=self.port, socket_timeout=5).flushall()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def one_run(
    workers: int, mode: str, total: int, sb_cfg: h.SandboxConfig, redis: _Redis | None
) -> dict[str, Any]:
    with h.Sandbox(sb_cfg) as sb:
        if redis is not None:
            redis.flush()
        start_at = time.time() + 3.0  # after every worker process has imported and connected
        procs = []
        for i in range(workers):
            share = total // workers + (1 if i < total % workers else 0)
            cfg = WorkerConfig(
                base_url=f"{sb.origin}/api/v1",
                api_key=sb.api_key,
                requests=share,
                start_at=start_at,
                store=redis.url if (mode == "redis" and redis is not None) else None,
            )
            procs.append(
                subprocess.Popen(
                    [h.PYTHON, "-m", "benchmarks.b7_shared_rate", "worker", json.dumps(asdict(cfg))],
                    cwd=h.PROJECT_ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        results = []
        for p in procs:
            out, err = p.communicate(timeout=600)
            if p.returncode != 0:
                raise RuntimeError(f"B7 worker failed: {err.strip()[-800:]}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        stats = sb.stats()
    requests = h.count_requests(stats, route_contains="/api/")
    r429 = h.count_status(stats, 429)
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    return {"wall": wall, "requests": requests, "429": r429, "accepted": requests - r429}


def run(
    *, smoke: bool = False, repeats: int | None = None, total: int | None = None, rate: float = 100.0,
    burst: int = 20,
) -> tuple[str, bool]:  # fmt: skip
    repeats = repeats or (1 if smoke else 3)
    total = total or (200 if smoke else 2000)
    sb_cfg = h.SandboxConfig(
        rate=rate, burst=burst, latency_ms=20.0, processing_delay=(0.05, 0.2), light=True
    )
    bound = (total - burst) / rate
    started, load_before = h.utc_now(), h.machine_line()
    results: dict[tuple[int, str], list[dict[str, Any]]] = {}
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-b7-") as tmp, _Redis(Path(tmp)) as redis:
        for r in range(repeats):
            for w in WORKERS:
                for mode in MODES:
                    if mode == "redis" and redis is None:
                        continue
                    try:
                        res = one_run(w, mode, total, sb_cfg, redis)
                    except Exception as exc:  # a crashed run must show, not hide
                        ok = False
                        print(f"  B7 {w} x {mode}: {exc}", file=sys.stderr, flush=True)
                        continue
                    results.setdefault((w, mode), []).append(res)
                    print(
                        f"  B7 run {r + 1}/{repeats} {w} worker(s) {mode}: wall={res['wall']:.1f}s "
                        f"429={res['429']}/{res['requests']}",
                        file=sys.stderr,
                        flush=True,
                    )
    rows = []
    for w in WORKERS:
        for mode in MODES:
            runs = results.get((w, mode))
            if not runs:
                rows.append(
                    [w, mode, "unknown (no redis-server)" if mode == "redis" else "failed"] + [""] * 6
                )
                continue
            walls = [x["wall"] for x in runs]
            shares = [x["429"] / x["requests"] for x in runs]
            uses = [(x["accepted"] - burst) / (rate * x["wall"]) for x in runs]
            rows.append(
                [
                    w,
                    mode,
                    len(runs),
                    h.median(walls),
                    f"{min(walls):.2f}-{max(walls):.2f}",
                    h.median(walls) / bound,
                    f"{100 * h.median(shares):.2f} % ({100 * min(shares):.2f}-{100 * max(shares):.2f})",
                    f"{100 * h.median(uses):.1f} % ({100 * min(uses):.1f}-{100 * max(uses):.1f})",
                    int(h.median([x["429"] for x in runs])),
                ]
            )
    lines = [
        f"### B7 shared rate budget: {total:,} requests from 1, 2, 4 worker processes, "
        f"median of {repeats} run(s)",
        "",
        f"Sandbox: rate {rate:g} req/s, burst {burst}, latency 20 ms, one API key; {CALLERS} callers "
        "per worker "
        f"(`GET /invoices/next-number`). Bound = (requests - burst) / rate = {bound:.1f} s. Rate use = "
        f"(accepted - burst) / (rate x wall). Started {started}; {load_before}.",
        "",
        h.markdown_table(
            [
                "workers",
                "governors",
                "runs",
                "wall s",
                "wall min-max",
                "wall / bound",
                "429 share (min-max)",
                "rate use (min-max)",
                "429s",
            ],
            rows,
        ),
        "",
    ]
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.b7_shared_rate")
    sub = p.add_subparsers(dest="cmd")
    w = sub.add_parser("worker")
    w.add_argument("config")
    r = sub.add_parser("run")
    r.add_argument("--smoke", action="store_true")
    r.add_argument("--repeats", type=int)
    r.add_argument("--total", type=int)
    args = p.parse_args(argv)
    if args.cmd == "worker":
        print(json.dumps(worker(WorkerConfig(**json.loads(args.config)))), flush=True)
        return 0
    text, ok = run(
        smoke=getattr(args, "smoke", False),
        repeats=getattr(args, "repeats", None),
        total=getattr(args, "total", None),
    )
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
