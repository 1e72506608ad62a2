"""A sandbox process that outlives the example that started it, so a killed run can resume against it.

A real faktoora keeps every invoice it was sent; a sandbox that lived inside a killed script would take its
invoices with it, and a resumed run would find none of them.  So ``examples/month_end.py`` (without
``FAKTOORA_BASE_URL``) runs its sandbox in a process of its own, started on first use and found again by
the next run through a state file beside the journal (``JOURNAL.sandbox.json``: pid, URLs, API key; mode
0600; removed when the host stops).  The host stops on SIGTERM/SIGINT, or by itself after ``--idle``
seconds without an API request (default 600), so a forgotten one does not linger::

    python examples/_sandbox_host.py STATE_FILE [--idle SECONDS] [--detach]

``--detach`` (POSIX) forks and returns at once; the sandbox keeps serving in a new session, so a Ctrl-C in
the terminal of the example does not reach it.  Its log goes to ``STATE_FILE`` with ``.log`` appended.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

PROCESSING_DELAY = (0.05, 0.3)  # seconds an invoice takes to be generated (uniform)
HOST_SCRIPT = Path(__file__).resolve()


@dataclass(frozen=True)
class SandboxInfo:
    """How to reach a running sandbox host."""

    pid: int
    base_url: str
    root_url: str
    api_key: str


def state_file_for(journal: Path) -> Path:
    return journal.with_name(journal.name + ".sandbox.json")


def read_state(state_file: Path) -> SandboxInfo | None:
    try:
        doc = json.loads(state_file.read_text(encoding="utf-8"))
        return SandboxInfo(int(doc["pid"]), doc["base_url"], doc["root_url"], doc["api_key"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


async def is_alive(info: SandboxInfo) -> bool:
    """The process exists and its sandbox accepts this API key (so it is that sandbox, not a reused pid)."""
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user took the pid
        return False
    timeout = aiohttp.ClientTimeout(total=5)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(f"{info.base_url}/webhooks", headers={"x-api-key": info.api_key}) as resp,
        ):
            return resp.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


async def start(state_file: Path, *, idle: float = 600.0, startup_timeout: float = 60.0) -> SandboxInfo:
    """Start a detached host and wait until it serves; RuntimeError (naming its log) when it does not."""
    if not hasattr(os, "fork"):
        raise RuntimeError(
            "a sandbox that outlives the script needs POSIX (fork); start one with "
            "`python -m faktoora_async.sandbox` and set FAKTOORA_BASE_URL / FAKTOORA_API_KEY"
        )
    await asyncio.to_thread(_clear_state, state_file)
    cmd = [sys.executable, str(HOST_SCRIPT), str(state_file), "--idle", str(idle), "--detach"]
    proc = await asyncio.create_subprocess_exec(*cmd, stdin=asyncio.subprocess.DEVNULL)
    if await proc.wait() != 0:
        raise RuntimeError(f"the sandbox did not start (see {state_file}.log)")
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        info = read_state(state_file)
        if info is not None and await is_alive(info):
            return info
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the sandbox did not answer within {startup_timeout:g} s (see {state_file}.log)")


async def stop(info: SandboxInfo, *, timeout: float = 30.0) -> None:
    """SIGTERM the host and wait until it has exited."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(info.pid, 0)
        except ProcessLookupError:
            return
        await asyncio.sleep(0.05)


def _clear_state(state_file: Path) -> None:
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.unlink(missing_ok=True)


# -- the host process ----------------------------------------------------------------------------------
def _write_state(state_file: Path, info: SandboxInfo) -> None:
    fd, tmp = tempfile.mkstemp(dir=state_file.parent, prefix=".sandbox-", suffix=".tmp")  # mode 0600
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info.__dict__, fh)
    os.replace(tmp, state_file)


def _forget(state_file: Path) -> None:
    """The state file holds the sandbox's API key: it goes with the sandbox (unless a newer host has
    taken the file over)."""
    info = read_state(state_file)
    if info is not None and info.pid == os.getpid():
        state_file.unlink(missing_ok=True)


def _api_requests(stats: dict[str, object]) -> int:
    requests = stats.get("requests")
    if not isinstance(requests, dict):
        return 0
    return sum(
        sum(int(n) for n in counts.values())
        for route, counts in requests.items()
        if "/_sandbox" not in route and isinstance(counts, dict)
    )


async def serve(state_file: Path, idle: float) -> None:
    from faktoora_async.sandbox import Sandbox

    stop_event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_event.set)
    seed = secrets.randbelow(2**31)  # never the ids of an earlier host
    async with Sandbox(processing_delay=PROCESSING_DELAY, seed=seed) as sb:
        _write_state(state_file, SandboxInfo(os.getpid(), sb.base_url, sb.root_url, sb.api_key))
        print(f"sandbox host {os.getpid()} serving {sb.base_url}", flush=True)
        try:
            seen, last_activity = -1, time.monotonic()
            while not stop_event.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop_event.wait(), 1.0)
                count = _api_requests(sb.stats())
                if count != seen:
                    seen, last_activity = count, time.monotonic()
                elif time.monotonic() - last_activity > idle:
                    print(f"no API request for {idle:g} s: stopping", flush=True)
                    break
        finally:
            _forget(state_file)
    print("sandbox host stopped", flush=True)


def _detach(state_file: Path) -> bool:
    """Fork; True in the parent (which should exit at once), False in the detached child."""
    if os.fork():
        return True
    os.setsid()
    log = os.open(f"{state_file}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python examples/_sandbox_host.py")
    parser.add_argument("state_file", type=Path)
    parser.add_argument("--idle", type=float, default=600.0, help="stop after this many idle seconds")
    parser.add_argument("--detach", action="store_true", help="fork into the background (POSIX)")
    args = parser.parse_args(argv)
    if args.detach and _detach(args.state_file):
        return 0
    asyncio.run(serve(args.state_file, args.idle))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
