"""B6 FastAPI backend: an app whose endpoint creates one invoice through an upstream client, under load.

Three processes per measurement: the sandbox (``python -m faktoora_async.sandbox``, no rate limit, no
latency; a processing delay of an hour so no document is rendered while we measure), the app
(``benchmarks._b6_apps``: FastAPI on uvicorn, one worker) and the load generator (this module's ``load``
worker: ``C`` concurrent callers on one aiohttp session, each sending the next ``POST /invoices`` as soon
as its previous one is answered, until ``N`` requests were answered, after ``W`` warm-up requests).  Every
request carries a different 20-line invoice (``generate_invoices``, the issue-13 terms off so the pydantic
models know every field), made before the clock starts.

Figures per contestant (medians over repeats, contestants in rotating order, a fresh sandbox and app each
time): requests/s (answered / wall time of the measured part), p50 and p99 latency seen by the callers,
the app process's CPU per request (``psutil``: user + system over the measured part; that is where the
SDK runs) and the sandbox's CPU per request (the same for everyone, for context).  The bound: the
``fastapi-only`` row, the same app answering a fixed id without calling faktoora.

    python -m benchmarks.b6_fastapi run [--requests 3000] [--concurrency 64] [--repeats 3]
    python -m benchmarks.b6_fastapi instructions [--only ours,aiohttp-bare]

``instructions`` runs each app under ``valgrind --tool=cachegrind`` and counts its user-space instructions
per request (``(I(400) - I(100)) / 300`` at the same concurrency, start-up cancelled out): a figure load
does not move, where requests/s on a small shared machine swing by +-15 % between rounds.  It counts
work, not time: C code (``json.dumps``) retires more instructions per cycle than the interpreter does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

from . import _harness as h

CONTESTANTS = ("ours", "ours-nopre", "httpx-pydantic", "aiohttp-bare", "fastapi-only")
LABELS = {
    "ours": "ours: FaktooraClient (lifespan; defaults: EN 16931 pre-flight on)",
    "ours-nopre": "ours, diagnostic: create(preflight=False)",
    "httpx-pydantic": "httpx.AsyncClient + pydantic v2 (body validated by FastAPI)",
    "aiohttp-bare": "bare aiohttp (json.loads/json.dumps)",
    "fastapi-only": "bound: FastAPI endpoint without an upstream call",
}


@dataclass
class LoadConfig:
    url: str
    n: int
    warmup: int
    concurrency: int
    prefix: str
    seed: int
    app_pid: int
    sandbox_pid: int

    def to_json(self) -> str:
        return json.dumps(asdict(self))


# --------------------------------------------------------------------------------------------- load worker
def _bodies(cfg: LoadConfig) -> list[bytes]:
    from faktoora_async.einvoice.generate import generate_invoices

    templates = list(generate_invoices(64, seed=cfg.seed, lines=20, terms=False))
    return [
        json.dumps({**templates[i % len(templates)], "invoiceNumber": f"{cfg.prefix}-{i:06d}"}).encode()
        for i in range(cfg.warmup + cfg.n)
    ]


def _cpu(pid: int) -> float:
    import psutil

    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


async def _load(cfg: LoadConfig, bodies: list[bytes]) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=cfg.concurrency)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector) as session:

        async def caller(queue: list[int], record: bool) -> None:
            while queue:
                i = queue.pop()
                t0 = time.perf_counter()
                async with session.post(cfg.url, data=bodies[i], headers=headers) as resp:
                    await resp.read()
                    status = resp.status
                if record:
                    latencies.append(time.perf_counter() - t0)
                    statuses[str(status)] = statuses.get(str(status), 0) + 1

        async def phase(indices: range, record: bool) -> float:
            queue = list(reversed(indices))
            t0 = time.perf_counter()
            await asyncio.gather(*(caller(queue, record) for _ in range(cfg.concurrency)))
            return time.perf_counter() - t0

        await phase(range(cfg.warmup), record=False)
        app0, sb0, me0 = _cpu(cfg.app_pid), _cpu(cfg.sandbox_pid), h.CpuMark()
        wall = await phase(range(cfg.warmup, cfg.warmup + cfg.n), record=True)
        app_cpu, sb_cpu = _cpu(cfg.app_pid) - app0, _cpu(cfg.sandbox_pid) - sb0
        load_cpu = me0.seconds()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "n": len(latencies),
        "wall_s": wall,
        "rps": len(latencies) / wall,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "app_cpu_us": app_cpu / len(latencies) * 1e6,
        "sandbox_cpu_us": sb_cpu / len(latencies) * 1e6,
        "loadgen_cpu_us": load_cpu / len(latencies) * 1e6,
        "statuses": statuses,
        "ok": statuses.get("202", 0),
    }


# --------------------------------------------------------------------------------------------- the app
class App:
    """One contestant's app under uvicorn in its own process (own session: stopped with its children)."""

    def __init__(self, contestant: str, sandbox: h.Sandbox, prefix: tuple[str, ...] = ()) -> None:
        self.port = h.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [*prefix, h.PYTHON, "-m", "benchmarks._b6_apps", contestant, "--port", str(self.port)]
        cmd += ["--base-url", sandbox.base_url, "--api-key", sandbox.api_key]
        self.proc = subprocess.Popen(
            cmd, cwd=h.PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"app exited with {self.proc.returncode}: {err[-800:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        raise RuntimeError(f"app did not come up within {timeout:.0f} s")

    def stop_for_output(self) -> str:
        """Stop with SIGINT (uvicorn shuts down and the process exits normally); its stderr."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            self.stop()
            raise
        return err.decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def _measure(contestant: str, n: int, warmup: int, concurrency: int, tag: str) -> h.WorkerOutcome:
    no_pdfs = h.SandboxConfig(processing_delay=(3600.0, 3600.0), extra=("--render-processes", "0"))
    with h.Sandbox(no_pdfs) as sb:
        app = App(contestant, sb)
        try:
            app.wait_ready()
            assert sb.pid is not None
            cfg = LoadConfig(
                url=app.url + "/invoices",
                n=n,
                warmup=warmup,
                concurrency=concurrency,
                prefix=f"B6{tag}",
                seed=6,
                app_pid=app.proc.pid,
                sandbox_pid=sb.pid,
            )
            return h.run_worker("b6_fastapi", ["load", cfg.to_json()], timeout=600)
        finally:
            app.stop()


_VALGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")
_COUNTS = (100, 400)  # requests measured per app run: the per-request figure is the difference


def _app_instructions(contestant: str, n: int, concurrency: int, tag: str) -> int:
    """User-space instructions of one app process (under valgrind) serving 50 warm-up + ``n`` requests."""
    no_pdfs = h.SandboxConfig(processing_delay=(3600.0, 3600.0), extra=("--render-processes", "0"))
    with h.Sandbox(no_pdfs) as sb:
        app = App(contestant, sb, prefix=_VALGRIND)
        try:
            app.wait_ready(timeout=300)
            assert sb.pid is not None
            cfg = LoadConfig(
                url=app.url + "/invoices",
                n=n,
                warmup=50,
                concurrency=concurrency,
                prefix=f"B6I{tag}",
                seed=6,
                app_pid=app.proc.pid,
                sandbox_pid=sb.pid,
            )
            out = h.run_worker("b6_fastapi", ["load", cfg.to_json()], timeout=1800)
            if not out.ok or out.result["ok"] != n:
                raise RuntimeError(f"{contestant}: {out.error or out.result['statuses']}")
            err = app.stop_for_output()
        finally:
            app.stop()
    match = re.search(r"I\s+refs:\s+([\d,]+)", err)
    if match is None:
        raise RuntimeError(f"no instruction count from valgrind: {err[-800:]}")
    return int(match.group(1).replace(",", ""))


def instructions(only: tuple[str, ...], concurrency: int = 64) -> str:
    """B6 in instructions: the app's user-space instructions per request, per contestant."""
    if shutil.which("valgrind") is None:
        return "### B6 in instructions\n\nvalgrind is not installed: not run.\n"
    started, load = h.utc_now(), h.machine_line()
    per: dict[str, float] = {}
    for c in only:
        low, high = (_app_instructions(c, n, concurrency, f"{c[:4]}{n}") for n in _COUNTS)
        per[c] = (high - low) / (_COUNTS[1] - _COUNTS[0])
    floor = per.get("aiohttp-bare")
    rows = [[LABELS[c], v / 1000, h.ratio(v, floor)] for c, v in per.items()]
    lines = [
        f"### B6 in instructions: app instructions per request (valgrind), {concurrency} concurrent callers",
        "",
        f"Started {started}; {load}. One valgrind run of the app per count "
        f"({_COUNTS[0]} and {_COUNTS[1]} requests after 50 warm-up ones; the difference per request).",
        "",
        h.markdown_table(["contestant", "k instructions / request", "vs bare aiohttp"], rows),
        "",
    ]
    return "\n".join(lines)


def _spread(values: list[float]) -> str:
    return f"{min(values):.0f}-{max(values):.0f}" if values else "unknown"


def run(
    *,
    smoke: bool = False,
    repeats: int | None = None,
    requests: int | None = None,
    concurrency: int = 64,
    only: tuple[str, ...] = CONTESTANTS,
) -> tuple[str, bool]:
    repeats = repeats or (1 if smoke else 3)
    n = requests or (100 if smoke else 3000)
    warmup = 20 if smoke else 300
    started, load_before = h.utc_now(), h.machine_line()
    per: dict[str, list[dict[str, Any]]] = {c: [] for c in only}
    errors: list[str] = []
    for r in range(repeats):
        k = r % len(only)
        for c in only[k:] + only[:k]:
            out = _measure(c, n, warmup, concurrency, f"{c.replace('-', '')[:6]}{r}")
            if not out.ok:
                errors.append(f"{c}: {out.error}")
            elif out.result["ok"] != n:
                errors.append(f"{c}: {out.result['ok']} of {n} answered 202 ({out.result['statuses']})")
            else:
                per[c].append({**out.result, "round": r})
    text = _table(per, n=n, warmup=warmup, concurrency=concurrency, repeats=repeats)
    lines = [
        f"### B6 FastAPI backend: {n:,} POST /invoices (one 20-line invoice each) from {concurrency} "
        f"concurrent callers, median of {repeats} run(s)",
        "",
        f"Started {started}; {load_before}. App: FastAPI on uvicorn (one worker, {_server_kind()}); "
        f"sandbox without rate limit or latency; load generator: one aiohttp session, {warmup} warm-up "
        "requests first. Three processes share the machine's CPUs.",
        "",
        text,
    ]
    if errors:
        lines += ["", "Errors: " + "; ".join(errors)]
    return "\n".join(lines) + "\n", not errors


def _server_kind() -> str:
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio loop"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"{loop}, {http}"


def _table(
    per: dict[str, list[dict[str, Any]]], *, n: int, warmup: int, concurrency: int, repeats: int
) -> str:
    def med(c: str, key: str) -> float | None:
        values = [r[key] for r in per.get(c, [])]
        return h.median(values) if values else None

    floor_rps, floor_cpu = med("aiohttp-bare", "rps"), med("aiohttp-bare", "app_cpu_us")
    ours_rps, ours_cpu = med("ours", "rps"), med("ours", "app_cpu_us")
    rows = []
    for c, results in per.items():
        rps, cpu = med(c, "rps"), med(c, "app_cpu_us")
        rows.append(
            [
                LABELS[c],
                f"{len(results)}/{repeats}",
                rps,
                _spread([r["rps"] for r in results]),
                h.ratio(rps, floor_rps),
                h.ratio(rps, ours_rps),
                med(c, "p50_ms"),
                med(c, "p99_ms"),
                _spread([r["p99_ms"] for r in results]),
                cpu,
                h.ratio(cpu, floor_cpu),
                h.ratio(cpu, ours_cpu),
                med(c, "sandbox_cpu_us"),
            ]
        )
    headers = [
        "contestant",
        "complete runs",
        "requests/s",
        "req/s min-max",
        "req/s vs bare aiohttp",
        "req/s vs ours",
        "p50 ms",
        "p99 ms",
        "p99 min-max",
        "app CPU µs/request",
        "CPU vs bare aiohttp",
        "CPU vs ours",
        "sandbox CPU µs/request",
    ]
    lines = [h.markdown_table(headers, rows), ""]
    httpx_rps = med("httpx-pydantic", "rps")
    if ours_rps and floor_rps:
        share = ours_rps / floor_rps
        verdict = "met" if share >= 0.9 else "NOT met"
        lines.append(f"Target ours >= 0.9x bare aiohttp's requests/s: ours {share:.2f}x, {verdict}.")
    if ours_rps and httpx_rps:
        verdict = "met" if ours_rps > httpx_rps else "NOT met"
        lines.append(
            f"Target ours ahead of httpx + pydantic: {ours_rps / httpx_rps:.2f}x its requests/s, {verdict}."
        )
    paired = _paired_ratios(per, "ours", "aiohttp-bare")
    if paired:
        lines.append(
            "Ours / bare aiohttp requests/s within each round (run one after the other: a slow change in "
            f"the machine's speed moves both alike): median {h.median(paired):.2f}x, "
            f"{min(paired):.2f}-{max(paired):.2f}x over {len(paired)} round(s)."
        )
    p99 = med("ours", "p99_ms")
    if p99 is not None:
        lines.append(f"Ours p99 latency: {p99:.1f} ms at {concurrency} concurrent callers.")
    return "\n".join(lines)


def _paired_ratios(per: dict[str, list[dict[str, Any]]], a: str, b: str) -> list[float]:
    """``a``'s requests/s over ``b``'s, one per round in which both completed."""
    by_round = {r["round"]: r["rps"] for r in per.get(b, [])}
    return [r["rps"] / by_round[r["round"]] for r in per.get(a, []) if by_round.get(r["round"])]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.b6_fastapi", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("load")
    w.add_argument("config")
    r = sub.add_parser("run")
    r.add_argument("--smoke", action="store_true")
    r.add_argument("--repeats", type=int)
    r.add_argument("--requests", type=int)
    r.add_argument("--concurrency", type=int, default=64)
    r.add_argument("--only", default="", help=f"comma-separated subset of {','.join(CONTESTANTS)}")
    i = sub.add_parser("instructions")
    i.add_argument("--concurrency", type=int, default=64)
    i.add_argument("--only", default="ours,ours-nopre,aiohttp-bare,fastapi-only")
    args = p.parse_args(argv)
    if args.cmd == "load":
        cfg = LoadConfig(**json.loads(args.config))
        bodies = _bodies(cfg)
        h.emit_result(asyncio.run(_load(cfg, bodies)))
        return 0
    only = tuple(c.strip() for c in args.only.split(",") if c.strip()) or CONTESTANTS
    unknown = [c for c in only if c not in CONTESTANTS]
    if unknown:
        p.error(f"unknown contestants {unknown}; choose from {CONTESTANTS}")
    if args.cmd == "instructions":
        print(instructions(only, concurrency=args.concurrency))
        return 0
    text, ok = run(
        smoke=args.smoke,
        repeats=args.repeats,
        requests=args.requests,
        concurrency=args.concurrency,
        only=only,
    )
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
