"""Shared benchmark plumbing: the sandbox in its own process, worker subprocesses, tables, machine info.

Only the standard library here, so every contestant's worker pays the same (small) import cost for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULT_PREFIX = "BENCH_RESULT "


# --------------------------------------------------------------------------------------------- machine
def machine_info() -> dict[str, Any]:
    load1, load5, load15 = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "load": f"{load1:.2f} / {load5:.2f} / {load15:.2f}",
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def machine_line() -> str:
    m = machine_info()
    return f"CPUs: {m['cpus']}, load avg (1/5/15 min): {m['load']}, Python {m['python']}, {m['platform']}"


def utc_now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


# --------------------------------------------------------------------------------------------- self-measure
@dataclass
class CpuMark:
    """CPU seconds (user + system) of this process since ``start``."""

    start: float = field(default_factory=lambda: _cpu_now())

    def seconds(self) -> float:
        return _cpu_now() - self.start


def _cpu_now() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit_result(result: dict[str, Any]) -> None:
    """Print the worker's result as one tagged JSON line on stdout (the parent parses it)."""
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------------------------- workers
@dataclass
class WorkerOutcome:
    ok: bool
    result: dict[str, Any]
    error: str = ""
    wall_s: float = 0.0


def run_worker(
    module: str, args: Sequence[str], *, timeout: float, env: dict[str, str] | None = None
) -> WorkerOutcome:
    """Run ``python -m benchmarks.<module> <args>`` and return its tagged JSON result."""
    cmd = [PYTHON, "-m", f"benchmarks.{module}", *args]
    full_env = dict(os.environ)
    full_env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    if env:
        full_env.update(env)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return WorkerOutcome(False, {}, f"timeout after {timeout:.0f} s", time.perf_counter() - t0)
    wall = time.perf_counter() - t0
    result: dict[str, Any] | None = None
    for line in out.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
    if proc.returncode != 0 or result is None:
        tail = (err or out).strip().splitlines()[-12:]
        return WorkerOutcome(False, result or {}, f"exit {proc.returncode}: " + " | ".join(tail), wall)
    return WorkerOutcome(True, result, "", wall)


# --------------------------------------------------------------------------------------------- sandbox
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SandboxConfig:
    rate: float | None = None
    burst: int | None = None
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    processing_delay: tuple[float, float] | None = None
    light: bool = False  # tiny placeholder documents instead of real rendering (benchmarks._light_sandbox)
    extra: tuple[str, ...] = ()


class Sandbox:
    """``python -m faktoora_async.sandbox`` on a free loopback port, in a separate process."""

    def __init__(self, config: SandboxConfig, *, log_path: Path | None = None) -> None:
        self.config = config
        self.port = free_port()
        self.api_key = "sk_test_bench_" + secrets.token_urlsafe(12)
        self.origin = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.origin}/api/v1"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path = log_path
        self._log: Any = None

    def command(self) -> list[str]:
        c = self.config
        module = "benchmarks._light_sandbox" if c.light else "faktoora_async.sandbox"
        cmd = [PYTHON, "-m", module, "--host", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--api-key", self.api_key]
        if c.rate is not None:
            cmd += ["--rate", str(c.rate)]
        if c.burst is not None:
            cmd += ["--burst", str(c.burst)]
        if c.latency_ms:
            cmd += ["--latency-ms", str(c.latency_ms)]
        if c.jitter_ms:
            cmd += ["--jitter-ms", str(c.jitter_ms)]
        if c.processing_delay is not None:
            cmd += ["--processing-delay", f"{c.processing_delay[0]},{c.processing_delay[1]}"]
        cmd += list(c.extra)
        return cmd

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 30.0) -> None:
        self._log = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        self._proc = subprocess.Popen(
            self.command(), cwd=PROJECT_ROOT, stdout=self._log, stderr=self._log, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"sandbox exited with {self._proc.returncode}: {' '.join(self.command())}")
            try:
                self.stats()
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"sandbox did not come up within {timeout:.0f} s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
        self._proc = None
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        self._log = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # admin API -------------------------------------------------------------------------------------------
    def _admin(self, method: str, path: str, body: bytes | None = None, timeout: float = 30.0) -> Any:
        req = urllib.request.Request(self.origin + path, data=body, method=method)
        req.add_header("X-API-KEY", self.api_key)
        req.add_header("Accept", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def stats(self) -> dict[str, Any]:
        data = self._admin("GET", "/_sandbox/stats", timeout=5.0)
        return data if isinstance(data, dict) else {"raw": data}

    def reset(self) -> None:
        self._admin("POST", "/_sandbox/reset", b"")

    def inflate(self, faktoora_id: str, nbytes: int) -> None:
        self._admin("POST", f"/_sandbox/inflate/{faktoora_id}?bytes={nbytes}", b"", timeout=120.0)


def server_cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds used so far by the sandbox process (for context only; never counted as client cost)."""
    if pid is None:
        return None
    try:
        import psutil

        t = psutil.Process(pid).cpu_times()
        return float(t.user + t.system)
    except Exception:
        return None


# --------------------------------------------------------------------------------------------- stats helpers
def count_requests(stats: dict[str, Any], *, method: str | None = None, route_contains: str = "") -> int:
    """Total requests in sandbox stats, optionally filtered by method and a route substring.

    Accepts the shapes we have seen or expect: ``{"routes": {"GET /x": {"200": 3}}}``,
    ``{"requests": {"GET /x": {"200": 3}}}`` or flat ``{"GET /x": {"200": 3}}``; ``{"GET /x": 3}`` too.
    """
    total = 0
    for route, per_status in _routes(stats).items():
        if method and not route.upper().startswith(method.upper() + " "):
            continue
        if route_contains and route_contains not in route:
            continue
        total += _sum_counts(per_status)
    return total


def count_status(stats: dict[str, Any], status: int) -> int:
    total = 0
    for per_status in _routes(stats).values():
        if isinstance(per_status, dict):
            total += int(per_status.get(str(status), 0) or 0)
    return total


def _routes(stats: dict[str, Any]) -> dict[str, Any]:
    for key in ("routes", "requests", "by_route", "byRoute"):
        value = stats.get(key)
        if isinstance(value, dict):
            return value
    return {k: v for k, v in stats.items() if isinstance(v, (dict, int)) and " " in k}


def _sum_counts(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return sum(int(v) for k, v in value.items() if str(k).isdigit() and isinstance(v, int))
    return 0


# --------------------------------------------------------------------------------------------- tables
def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, float):
        if value != value:  # NaN
            return "unknown"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def ratio(value: float | None, ours: float | None) -> str:
    if value is None or ours is None or ours == 0 or value != value or ours != ours:
        return "unknown"
    return f"{value / ours:.2f}x"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(c) for c in row) + " |")
    return "\n".join(lines)


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    t0 = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - t0)
