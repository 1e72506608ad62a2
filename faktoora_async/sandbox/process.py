"""A sandbox in a child process (:class:`SandboxProcess`): ``python -m faktoora_async.sandbox``, free port.

Standard library and anyio only: a program that starts a sandbox process (the ``demo`` command) does not
import the web server it runs (:mod:`.server` re-exports the class).
"""

from __future__ import annotations

import os
import secrets
import selectors
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from types import TracebackType

import anyio.to_thread

__all__ = ["SandboxProcess"]


class SandboxProcess:
    """``python -m faktoora_async.sandbox`` in a child process on a free port (sync or async context manager).

    ``extra_args`` are passed on the command line (e.g. ``["--error-rate", "0.1"]``).  ``render_processes``
    (None: the command line's default, one PDF worker process per CPU) sets ``--render-processes``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        features: Iterable[str] | None = None,
        rate: float | None = None,
        burst: float | None = None,
        processing_delay: tuple[float, float] = (0.0, 0.0),
        seed: int = 0,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 30.0,
        python: str = sys.executable,
        allow_private_targets: bool | None = None,
        render_processes: int | None = None,
    ) -> None:
        self.api_key = api_key or "sk_test_" + secrets.token_urlsafe(24)
        self.host = host
        args = [python, "-m", "faktoora_async.sandbox", "--host", host, "--port", str(port)]
        args += ["--api-key", self.api_key, "--seed", str(seed)]
        args += ["--processing-delay", f"{processing_delay[0]},{processing_delay[1]}"]
        if features is not None:
            args += ["--features", ",".join(features) or "none"]
        if rate is not None:
            args += ["--rate", str(rate)]
        if burst is not None:
            args += ["--burst", str(burst)]
        if allow_private_targets is not None:  # None: the child reads $FAKTOORA_SANDBOX_ALLOW_PRIVATE_TARGETS
            args += ["--allow-private-targets" if allow_private_targets else "--refuse-private-targets"]
        if render_processes is not None:
            args += ["--render-processes", str(render_processes)]
        self.args = [*args, *extra_args]
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.root_url = ""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, env=env)
        try:
            self.base_url = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.root_url = self.base_url.rsplit("/api/", 1)[0]

    def _wait_ready(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the sandbox process did not start in time")
                if not sel.select(remaining):
                    continue
                line = self.proc.stdout.readline().decode("utf-8", "replace").strip()
                if not line and self.proc.poll() is not None:
                    raise RuntimeError(f"the sandbox process exited with code {self.proc.returncode}")
                if line.startswith("faktoora sandbox:"):
                    return line.split(":", 1)[1].strip()

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the child, wait for it (kill after ``timeout``), close its pipe; return its exit code."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        try:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
        return proc.returncode

    def __enter__(self) -> SandboxProcess:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> SandboxProcess:
        await anyio.to_thread.run_sync(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await anyio.to_thread.run_sync(self.stop)
