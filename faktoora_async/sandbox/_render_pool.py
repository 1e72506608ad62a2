"""PDF rendering in worker processes, so a busy sandbox renders on every core (issue 14).

A PDF costs the sandbox 15-20 ms of CPU (reportlab), and reportlab renders under one lock, so the thread
pool renders one PDF at a time on one core, next to the event loop.  With ``render_processes=N`` the
sandbox hands every PDF (invoice views, Factur-X files, validation reports, import views) to ``N`` worker
processes instead: the rendering functions of :mod:`._domain` are module-level and take plain data (dicts,
bytes, the ``Verdict`` dataclass), so they travel to a worker by pickling.

Workers start with the ``forkserver`` method where the platform has it (else ``spawn``; never a ``fork``
of a process that runs an event loop and threads), import the renderers once (:func:`_load`), and
:func:`warm` renders one small PDF in each in the background at start-up, so the first download does not
pay the imports.  The forkserver preloads :mod:`._render_preload`, which imports the renderers and
renders that PDF once in the forkserver itself: every worker forked from it starts with the modules,
the fonts and their common subset (:mod:`faktoora_async.einvoice._pdf_base`) loaded, instead of loading
them again in each worker (~0.6 s of CPU per worker).
``SandboxState.stop`` shuts the pool down like the thread pools (no worker outlives the sandbox).  As with
any ``multiprocessing`` pool, the workers import the main module: a script that starts an in-process
``Sandbox(render_processes=N)`` needs the ``if __name__ == "__main__":`` guard (``python -m
faktoora_async.sandbox``, ``SandboxProcess``, the CLI and pytest have it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["AUTO", "default_processes", "pdf_executor", "run", "warm"]

AUTO = "auto"
T = TypeVar("T")
logger = logging.getLogger("faktoora_async.sandbox")


def default_processes() -> int:
    """The worker count of ``--render-processes auto``: one per CPU on a machine with more than one CPU,
    else 0 (a single CPU gains nothing from extra processes: the thread pool renders)."""
    cpus = os.cpu_count() or 1
    return cpus if cpus > 1 else 0


_PRELOAD = "faktoora_async.sandbox._render_preload"


def _context() -> multiprocessing.context.BaseContext:
    """The ``forkserver`` context (preloading :mod:`._render_preload` besides ``__main__``, the default;
    it applies when this process starts its forkserver), else ``spawn``."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["__main__", _PRELOAD])
        return context
    return multiprocessing.get_context("spawn")


def _load() -> None:
    """Worker initializer: import the renderers (lxml, reportlab, fonts) before the first job, and
    factur-x (its XMP metadata; it imports pypdf and requests, ~0.4 s), which the first Factur-X PDF would
    otherwise import in every worker."""
    from faktoora_async.einvoice import parse, pdf  # noqa: F401

    with contextlib.suppress(ImportError):  # without it, Factur-X PDFs fail as they always did
        import facturx.facturx  # noqa: F401


def _warm_render() -> int:
    """Render one small invoice PDF (loads the embedded fonts); returns its size."""
    from faktoora_async.einvoice.generate import generate_invoice

    from . import _domain

    invoice = generate_invoice(0, seed=0, lines=1, terms=False)
    return len(_domain.render_pdf(invoice, _domain.render_xml(invoice)))


def pdf_executor(processes: int) -> concurrent.futures.ProcessPoolExecutor:
    """A pool of ``processes`` rendering workers (started on first use or by :func:`warm`)."""
    if processes < 1:
        raise ValueError("render_processes must be at least 1 for a process pool")
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=processes, mp_context=_context(), initializer=_load
    )


def warm(executor: concurrent.futures.ProcessPoolExecutor, processes: int) -> None:
    """Start every worker now, in the background (one small render each): the sandbox is ready at once,
    and the workers have imported the renderers by the time the first invoice is generated."""
    for _ in range(processes):
        executor.submit(_warm_render).add_done_callback(_log_failure)


def _log_failure(future: concurrent.futures.Future[int]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("a PDF worker process could not start: %s", future.exception())


async def run(executor: concurrent.futures.Executor, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a worker; a pool whose workers could not start says why."""
    try:
        return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
    except concurrent.futures.process.BrokenProcessPool as exc:
        raise RuntimeError(
            "the sandbox's PDF worker processes could not start; a script that starts a Sandbox with "
            "render_processes must do so under `if __name__ == '__main__':` (the workers import the main "
            "module), or use render_processes=0"
        ) from exc
