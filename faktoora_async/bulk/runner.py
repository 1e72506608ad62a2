"""Month-end bulk runs: plan -> pre-flight -> batched submit -> wait -> streamed download -> done.

The runner is composed of client calls only (``client.invoices.check``, ``create``, ``find``, ``wait``,
``download``): it adds the journal, the stages and their concurrency, never a second retry loop, waiter or
encoder.  Stages (:mod:`.plan`, :mod:`.submit`, :mod:`.wait`, :mod:`.download`) are anyio tasks joined by
bounded memory streams over one per-run :class:`~faktoora_async.bulk._run.Run`, so the input is consumed
lazily and a run of 100,000 invoices holds at most a few batches in memory: the journal, not RAM, holds
the state.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterable, Callable, Coroutine, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectSendStream

from .. import errors
from ..files import safe_filename
from ..protocol import WireInvoice, prepare_invoice
from ._run import Item, Run, RunOptions, with_hint
from .download import download_worker
from .journal import DEFAULT_LEASE, Worker, is_url, open_journal, sqlite_path
from .plan import plan_input
from .progress import ProgressCallback
from .report import JournalRows, RunReport, outcome_counts
from .submit import submit_worker
from .wait import wait_dispatcher
from .work import claimed_input, run_with_work

if TYPE_CHECKING:
    from ..client import FaktooraClient

__all__ = ["BulkRunner", "file_stem", "payload_hash"]

logger = logging.getLogger("faktoora_async.bulk")

# A stage-1 task: fills (submit, wait, download) streams and closes them when done.
Source = Callable[
    [MemoryObjectSendStream[list[Item]], MemoryObjectSendStream[Item], MemoryObjectSendStream[Item]],
    Coroutine[Any, Any, None],
]

_FORMATS = ("pdf", "xml")


def payload_hash(payload: Any) -> str:
    """sha256 of the invoice's wire form (canonical JSON, sorted keys): what the journal records."""
    wire = payload if isinstance(payload, WireInvoice) else prepare_invoice(payload)
    return wire.digest


def file_stem(number: str) -> str:
    """The file name stem of an invoice number (see :func:`faktoora_async.files.safe_filename`)."""
    return safe_filename(number)


class BulkRunner:
    """Run a month-end batch of invoices through faktoora, resumably and exactly once.

    ``concurrency``: download workers and look-ups in flight (up to 4 POSTs run beside them);
    ``batch_size`` (1-100): invoices per POST; ``wait_timeout``: seconds an invoice may take from its
    submission until its file exists; ``max_waiting``: invoices waited for at once; ``progress`` is
    called with a :class:`ProgressEvent` on every step; ``verify_documents`` (default on) checks that
    every stored document carries the invoice number it was asked for; ``max_resends``: how often
    invoices of an uncertain POST that the server turned out not to have are sent again in one run.
    The journal file is created if missing and resumed if present.

    ``webhooks``: True when webhook events will be fed to ``client.events`` (a
    :class:`~faktoora_async.webhooks.WebhookReceiver` is subscribed): waits listen to the hub first and
    poll only as a safety net, and a hub status of a resting state starts the downloads without a GET
    (a download answered 409 NOT_READY falls back to polling).  None (auto) switches to that once the hub
    has been fed; False never listens.

    ``sweep``: waits may end by reading the invoice list (``GET /invoices``, newest first, up to 1,000
    invoices a page, whose ``invoiceStatus`` is set once the file exists) instead of one status poll per
    invoice; see :mod:`faktoora_async.bulk.sweep`.  None (auto) sweeps from the run's
    32nd invoice on unless ``webhooks`` is True; False polls every invoice; True sweeps from the first.
    """

    def __init__(
        self,
        client: FaktooraClient,
        *,
        journal: str | os.PathLike[str],
        out_dir: str | os.PathLike[str],
        concurrency: int = 16,
        batch_size: int = 100,
        formats: Sequence[str] = ("pdf", "xml"),
        wait_timeout: float = 300.0,
        progress: ProgressCallback | None = None,
        preflight: bool = True,
        max_waiting: int | None = None,
        webhooks: bool | None = None,
        max_resends: int = 3,
        verify_documents: bool = True,
        lease: float = DEFAULT_LEASE,
        sweep: bool | None = None,
    ) -> None:
        if not 1 <= batch_size <= 100:
            raise errors.ConfigurationError("batch_size must be between 1 and 100")
        if concurrency < 1:
            raise errors.ConfigurationError("concurrency must be >= 1")
        if wait_timeout <= 0:
            raise errors.ConfigurationError("wait_timeout must be > 0")
        fmts = tuple(dict.fromkeys(f.strip().lower() for f in formats))
        if not fmts or any(f not in _FORMATS for f in fmts):
            raise errors.ConfigurationError("formats must be a non-empty subset of ('pdf', 'xml')")
        self.client = client
        self.journal_spec = journal
        # A journal URL (postgresql://) is shared by worker processes: see run() and work().
        self.shared = is_url(journal)
        self.journal_path = Path(journal) if self.shared else sqlite_path(journal)  # (SQLite: the file)
        self.lease = lease
        self.out_dir = Path(out_dir)
        self.progress = progress
        self.options = RunOptions(
            out_dir=self.out_dir,
            formats=fmts,
            batch_size=batch_size,
            concurrency=concurrency,
            max_waiting=max_waiting or max(4 * batch_size, 8 * concurrency),
            wait_timeout=wait_timeout,
            preflight=preflight,
            webhooks=webhooks,
            max_resends=max(0, max_resends),
            verify_documents=verify_documents,
            sweep=sweep,
        )
        self.last_report: RunReport | None = None  # also set when run() was cancelled or failed

    # kept readable for callers that inspect the configuration
    @property
    def concurrency(self) -> int:
        return self.options.concurrency

    @property
    def batch_size(self) -> int:
        return self.options.batch_size

    @property
    def formats(self) -> tuple[str, ...]:
        return self.options.formats

    @property
    def wait_timeout(self) -> float:
        return self.options.wait_timeout

    @property
    def max_waiting(self) -> int:
        return self.options.max_waiting

    async def run(
        self, invoices: Iterable[Any] | AsyncIterable[Any], *, name: str | None = None
    ) -> RunReport:
        """Run every invoice of ``invoices`` (consumed lazily); write and return the report.

        Cancelling the run stops it cleanly: the journal stays consistent and a new run resumes it; the
        report written then lists unfinished invoices as ``pending``.  A permanent error (bad API key,
        unreachable host, unwritable output folder) stops the run and is raised after the report is written.
        """
        started = time.monotonic()
        if self.shared:
            return await self._run_shared(invoices, started, name)
        lock = _RunLock(self.journal_path)
        await anyio.to_thread.run_sync(lock.acquire)
        try:
            try:
                await anyio.to_thread.run_sync(self._prepare_out_dir)
            except errors.DownloadError as exc:
                raise with_hint(exc) from None
            return await self._run_locked(invoices, started, name)
        finally:
            lock.release()

    def _prepare_out_dir(self) -> None:
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise errors.DownloadError(
                f"cannot create the output folder {self.out_dir}: {exc.strerror}"
            ) from None
        probe = self.out_dir / f".faktoora-write-test-{os.getpid()}.part"
        try:  # os.access() says yes to root even for an immutable folder: try it
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise errors.DownloadError(
                f"the output folder {self.out_dir} is not writable ({exc.strerror or exc})"
            ) from None
        # Temp files of a download or report write that a killed run left behind (never a final name).
        for stale in self.out_dir.glob(".*.part"):
            logger.info("removing stale temp file %s", stale.name)
            stale.unlink(missing_ok=True)

    async def _run_locked(
        self, invoices: Iterable[Any] | AsyncIterable[Any], started: float, name: str | None
    ) -> RunReport:
        interrupted = True
        async with open_journal(self.journal_spec) as journal:
            run = Run(self.client, journal, await journal.begin_run(name=name), self.options, self.progress)
            stats_at_start = dict(self.client.stats)
            polls_at_start = self.client.waiter.stats.polls
            logger.info("bulk run %d started (journal %s)", run.run_id, journal.display)
            try:
                await self._pipeline(run, lambda *streams: plan_input(run, invoices, *streams))
                if run.fatal is not None:
                    raise with_hint(run.fatal)
                if run.input_error is not None:
                    raise run.input_error
                interrupted = False
            finally:
                with anyio.CancelScope(shield=True):
                    polls = self.client.waiter.stats.polls - polls_at_start
                    report = await self._build_report(
                        run, time.monotonic() - started, interrupted, stats_at_start, polls
                    )
                    try:
                        await anyio.to_thread.run_sync(report.write)
                    except (errors.DownloadError, OSError) as exc:
                        if interrupted:  # the run already failed: its reason counts, not the report's
                            logger.warning("the report could not be written: %s", exc)
                        else:
                            reason = (
                                exc
                                if isinstance(exc, errors.DownloadError)
                                else errors.DownloadError(
                                    f"cannot write the report in {self.out_dir}: {exc.strerror or exc}"
                                )
                            )
                            raise with_hint(reason) from exc
                    await journal.finish_run(run.run_id, "interrupted" if interrupted else "finished")
                    logger.info(
                        "bulk run %d %s: %s", run.run_id, "stopped" if interrupted else "done", report.counts
                    )
                    self.last_report = report
        return report

    # -- shared runs (several worker processes on one journal) ------------------------------------
    async def work(self, run_id: int | None = None) -> RunReport:
        """Join a run of this journal as one more worker (the newest run with work left when ``run_id`` is
        None) and work until nothing is left that no live worker holds; write and return the report.

        Any number of processes, on any hosts sharing ``out_dir``, may work one run.  A worker that dies
        leaves its rows to the others once its lease (``lease`` seconds) has expired.
        """
        started = time.monotonic()
        await self._prepare_out_dir_or_stop()
        async with open_journal(self.journal_spec) as journal:
            if run_id is None:
                run_id = await run_with_work(journal)
                if run_id is None:
                    raise errors.ConfigurationError(
                        f"no run with work left in the journal {journal.display}: start one with"
                        " `faktoora-async run INVOICES --journal …`"
                    )
            elif await journal.run_info(run_id) is None:
                raise errors.ConfigurationError(f"no run {run_id} in the journal {journal.display}")
            run = Run(self.client, journal, run_id, self.options, self.progress)
            return await self._work(run, started)

    async def _run_shared(
        self, invoices: Iterable[Any] | AsyncIterable[Any], started: float, name: str | None
    ) -> RunReport:
        """Plan the whole input into a new run of the shared journal (payloads journalled, so any worker
        can send them), then work on it like every other worker."""
        await self._prepare_out_dir_or_stop()
        async with open_journal(self.journal_spec) as journal:
            run = Run(self.client, journal, await journal.begin_run(name=name), self.options, self.progress)
            logger.info("bulk run %d: planning into the shared journal %s", run.run_id, journal.display)
            a, ra = anyio.create_memory_object_stream[list[Item]](0)
            b, rb = anyio.create_memory_object_stream[Item](0)
            c, rc = anyio.create_memory_object_stream[Item](0)
            await journal.set_planning(run.run_id, True)  # workers joining now wait for the rows to come
            try:
                with ra, rb, rc:  # nothing is routed: the workers claim the rows
                    await plan_input(run, invoices, a, b, c, route=False, journal_payloads=True)
            finally:
                with anyio.CancelScope(shield=True):
                    await journal.set_planning(run.run_id, False)
            if run.input_error is not None:
                raise run.input_error
            return await self._work(run, started)

    async def _work(self, run: Run, started: float) -> RunReport:
        interrupted = True
        stats_at_start = dict(self.client.stats)
        polls_at_start = self.client.waiter.stats.polls
        async with run.journal.worker(run.run_id, lease=self.lease) as worker:
            logger.info(
                "bulk run %d: worker %s joined (journal %s)", run.run_id, worker.id, run.journal.display
            )
            try:
                await self._pipeline(run, lambda *streams: claimed_input(run, worker, *streams))
                if run.fatal is not None:
                    raise with_hint(run.fatal)
                interrupted = worker.lost.is_set()
            finally:
                with anyio.CancelScope(shield=True):
                    report = await self._finish(
                        run, worker, started, interrupted, stats_at_start, polls_at_start
                    )
        return report

    async def _prepare_out_dir_or_stop(self) -> None:
        try:
            await anyio.to_thread.run_sync(self._prepare_out_dir)
        except errors.DownloadError as exc:
            raise with_hint(exc) from None

    async def _finish(
        self, run: Run, worker: Worker, started: float, interrupted: bool, stats: dict[str, int], polls: int
    ) -> RunReport:
        polls = self.client.waiter.stats.polls - polls
        report = await self._build_report(run, time.monotonic() - started, interrupted, stats, polls)
        await anyio.to_thread.run_sync(report.write)
        info = await run.journal.run_info(run.run_id)
        if info is not None and not info.pending:
            await run.journal.finish_run(run.run_id, "finished")
        logger.info("bulk run %d: worker %s %s: %s", run.run_id, worker.id,
                    "stopped" if interrupted else "done", report.counts)  # fmt: skip
        self.last_report = report
        return report

    async def _pipeline(self, run: Run, source: Source) -> None:
        """The stages over ``run``; ``source(submit_send, wait_send, dl_send)`` feeds them (the input's
        planning, or a worker's claims) and closes the three streams when it is done."""
        from anyio import create_memory_object_stream

        from ._run import Item

        submit_send, submit_recv = create_memory_object_stream[list[Item]](2)
        wait_send, wait_recv = create_memory_object_stream[Item](self.options.batch_size)
        dl_send, dl_recv = create_memory_object_stream[Item](self.options.batch_size)
        n_submitters = max(1, min(4, self.options.concurrency // 4))
        async with anyio.create_task_group() as tg:
            run.scope = tg.cancel_scope
            tg.start_soon(source, submit_send, wait_send.clone(), dl_send.clone())
            for _ in range(n_submitters):
                tg.start_soon(submit_worker, run, submit_recv.clone(), wait_send.clone())
            tg.start_soon(wait_dispatcher, run, wait_recv, dl_send.clone())
            for _ in range(self.options.concurrency):
                tg.start_soon(download_worker, run, dl_recv.clone())
            # The originals were cloned; close them so each stream ends when its last sender is done.
            submit_recv.close()
            wait_send.close()
            dl_send.close()
            dl_recv.close()

    async def _build_report(
        self, run: Run, wall_time: float, interrupted: bool, stats_at_start: dict[str, int], polls: int
    ) -> RunReport:
        # Counts only: the per-invoice rows stay in the journal and are streamed when the report is written.
        counts = outcome_counts(
            await run.journal.counts(run.run_id), await run.journal.extra_counts(run.run_id), interrupted
        )
        c = run.counters
        requests = dict(c.requests)
        requests["status"] = polls
        requests["total"] = sum(requests.values())
        for key in ("attempts", "retries"):  # HTTP attempts the client made, retries included
            requests[f"http_{key}"] = self.client.stats.get(key, 0) - stats_at_start.get(key, 0)
        waiter = self.client.waiter.stats
        return RunReport(
            run_id=run.run_id,
            out_dir=self.out_dir,
            journal=self.journal_path if not self.shared else run.journal.display,
            counts=counts,
            rows=JournalRows(run.journal.row_source(run.run_id), run.run_id, interrupted=interrupted),
            requests=requests,
            polls_per_invoice=polls / c.waited if c.waited else 0.0,
            wall_time=wall_time,
            interrupted=interrupted,
            already_done=c.totals.get("skipped", 0),
            wait_stats={
                "waited": c.waited,
                "first_poll_hits": waiter.first_poll_hits,
                "webhook_ready": waiter.webhook_ready,
                "not_ready_downloads": c.not_ready_downloads,
                "wrong_documents": c.wrong_documents,
                "relocated": c.relocated,
            },
            journal_stats={
                "transactions": float(run.journal.transactions),
                "seconds": round(run.journal.busy_seconds, 3),
            },
        )


class _RunLock:
    """An exclusive lock file beside the journal: one run per journal at a time.

    Uses ``flock`` (released by the OS when the process dies, even by SIGKILL); where that is unavailable
    the lock is a no-op.
    """

    def __init__(self, journal: Path) -> None:
        self.path = journal.with_name(journal.name + ".lock")
        self._fh: Any = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+b")  # noqa: SIM115 - held open for the whole run
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            self._fh = fh
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise errors.ConfigurationError(
                f"the journal {self.path.name[:-5]} is in use by another running bulk run"
            ) from None
        self._fh = fh

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()
