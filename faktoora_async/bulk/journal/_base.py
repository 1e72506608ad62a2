"""The journal interface shared by every backend: rows, states, runs, workers and claims.

States of one invoice (one row, keyed by invoice number)::

    planned ──► submitting ──► submitted ──► ready ──► downloaded
        │            │              │          │
        └────────────┴──────────────┴──────────┴──► failed (final, or retryable on the next run)

* ``submitting`` is written *before* the POST: a row left in it means the POST may or may not have
  reached the server, so whoever takes the row over looks the invoice number up before anything is re-sent.
* ``submitted`` carries the faktooraId; ``ready`` is written before the downloads start;
  ``downloaded`` carries the files and their sha256.
* ``failed`` rows carry a reason; ``final`` failures (pre-flight violations, rejected payloads, generation
  failures, duplicate numbers) stay failed, the others are taken up again by a later run.

**Runs** group the rows an input planned (:meth:`Journal.begin_run`, :meth:`Journal.plan`); a later run
over the same journal takes its known rows over and resumes them.  **Workers** let several processes (on
several hosts, with the PostgreSQL backend) work one run together: :meth:`Journal.worker` registers one
under a lease that a background task renews every third of the lease; :meth:`Worker.claim` hands it rows
no live worker holds; the rows of a worker that stops renewing (killed, partitioned) are claimable by
the others once its lease has expired.  While a worker is active on a journal object, the transitions it
writes are fenced: a row another worker has taken over is left alone (and ``mark_submitting`` returns only
the rows that are still this worker's, so a POST is sent only for them).

Both backends keep the same rules; the tests run one suite against both.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import anyio

from ... import errors

__all__ = [
    "DEFAULT_LEASE", "PLANNED", "PLANNING", "STATES", "TERMINAL", "Claim", "Journal", "JournalError",
    "JournalRow", "PlanResult", "Planned", "RowSource", "RunInfo", "State", "Worker", "WorkerInfo", "is_url",
    "redact_spec",
]  # fmt: skip

logger = logging.getLogger("faktoora_async.bulk")

State = Literal["planned", "submitting", "submitted", "ready", "downloaded", "failed"]
PLANNED: State = "planned"
STATES: tuple[State, ...] = ("planned", "submitting", "submitted", "ready", "downloaded", "failed")
TERMINAL: frozenset[str] = frozenset({"downloaded", "failed"})
ACTIVE: tuple[State, ...] = ("planned", "submitting", "submitted", "ready")

PLANNING = "planning"  # the outcome of a run while its input is being planned into a shared journal
DEFAULT_LEASE = 30.0  # seconds a worker's claims survive without a renewal


class JournalError(errors.FaktooraError):
    """The journal cannot be used: unreachable database, a schema newer than this SDK, a bad spec."""


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One invoice as the journal knows it."""

    number: str
    payload_hash: str
    state: State
    faktoora_id: str | None
    attempts: int
    final: bool
    reason: str | None
    rule_ids: tuple[str, ...]
    files: dict[str, dict[str, Any]]
    created_at: float
    updated_at: float
    submitted_at: float | None
    ready_at: float | None
    done_at: float | None

    @classmethod
    def _from_db(cls, row: Sequence[Any]) -> JournalRow:
        (number, payload_hash, state, fid, attempts, final, reason, rule_ids, files, c, u, s, r, d) = row
        return cls(
            number=number,
            payload_hash=payload_hash,
            state=state,
            faktoora_id=fid,
            attempts=int(attempts),
            final=bool(final),
            reason=reason,
            rule_ids=tuple(json.loads(rule_ids)) if rule_ids else (),
            files=json.loads(files) if files else {},
            created_at=c,
            updated_at=u,
            submitted_at=s,
            ready_at=r,
            done_at=d,
        )


ROW_COLUMNS = (
    "number, payload_hash, state, faktoora_id, attempts, final, reason, rule_ids, files, "
    "created_at, updated_at, submitted_at, ready_at, done_at"
)


@dataclass(frozen=True, slots=True)
class Planned:
    """Input of :meth:`Journal.plan`: one invoice read from the input.

    ``payload``: the invoice's wire JSON, journalled so that another process can submit it (a multi-worker
    run); None keeps only the hash (a single process that holds the payloads itself).
    """

    number: str
    payload_hash: str
    violations: tuple[tuple[str, str], ...] = ()  # (rule_id, message) from the pre-flight check
    payload: bytes | None = None


@dataclass(frozen=True, slots=True)
class PlanResult:
    """What the journal says about one input invoice.

    ``kind``: ``new`` (first time seen), ``known`` (journalled with the same payload: resume from ``row``),
    ``conflict`` (journalled with a different payload), ``repeat`` (already seen earlier in this run).
    """

    kind: Literal["new", "known", "conflict", "repeat"]
    row: JournalRow


@dataclass(frozen=True, slots=True)
class Claim:
    """A row a worker now holds, with the journalled payload (None when only its hash was journalled)."""

    row: JournalRow
    payload: bytes | None
    claims: int  # how many times the row has been claimed (> 1: taken over from another worker)


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """One worker of a run, as the journal sees it (times: seconds since the epoch, the journal's clock)."""

    id: str
    name: str
    host: str
    pid: int
    started_at: float
    heartbeat_at: float
    lease_until: float
    stopped_at: float | None
    alive: bool  # the lease has not expired and the worker did not stop
    claimed: int  # unfinished rows it holds


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Progress of one run across all its workers."""

    id: int
    name: str | None
    started_at: float
    finished_at: float | None
    outcome: str | None
    counts: dict[str, int]  # state -> rows of the run
    extras: int  # input invoices not journalled (conflicts, duplicates, unreadable)
    claimed: int  # unfinished rows held by a live worker
    workers: tuple[WorkerInfo, ...] = field(default=())

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.counts.get("downloaded", 0)

    @property
    def pending(self) -> int:
        """Rows not yet downloaded or failed."""
        return sum(n for state, n in self.counts.items() if state not in TERMINAL)

    @property
    def alive_workers(self) -> int:
        return sum(1 for w in self.workers if w.alive)


class RowSource(Protocol):
    """A run's rows, read synchronously (from a worker thread) in bounded chunks, again on every call."""

    def iter_rows(self) -> Iterator[JournalRow]: ...

    def iter_extras(self) -> Iterator[tuple[str, str, str]]: ...


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def redact_spec(spec: str | os.PathLike[str]) -> str:
    """The spec with any password replaced by ``***`` (for logs, errors and reprs)."""
    text = os.fspath(spec)
    if not _URL.match(text):
        return text
    parts = urllib.parse.urlsplit(text)
    if parts.password is None:
        return text
    user = urllib.parse.quote(parts.username or "", safe="")
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def is_url(spec: str | os.PathLike[str]) -> bool:
    """True for a ``scheme://`` spec (a database URL), False for a file path."""
    return bool(_URL.match(os.fspath(spec))) and not os.fspath(spec).lower().startswith("sqlite:")


def backend_class(spec: str | os.PathLike[str]) -> type[Journal]:
    """The journal class for ``spec``: ``postgresql://`` / ``postgres://`` URLs, else a SQLite file path."""
    text = os.fspath(spec)
    if _URL.match(text):
        scheme = text.split("://", 1)[0].lower()
        if scheme in ("postgresql", "postgres"):
            from .postgres import PostgresJournal

            return PostgresJournal
        if scheme == "sqlite":
            from .sqlite import SQLiteJournal

            return SQLiteJournal
        raise errors.ConfigurationError(
            f"unsupported journal URL scheme {scheme!r}: use a SQLite file path or postgresql://…"
        )
    from .sqlite import SQLiteJournal

    return SQLiteJournal


class Journal:
    """The bulk run journal.  ``Journal(spec)`` picks the backend from ``spec`` (like ``pathlib.Path``):
    a file path (or ``sqlite:///path``) is a SQLite journal, ``postgresql://…`` a PostgreSQL one.

    Use it as ``async with Journal(spec) as journal:`` (or ``await journal.open()`` / ``aclose()``).
    ``transactions`` and ``busy_seconds`` count the writes and the time spent in the database.
    """

    transactions: int
    busy_seconds: float

    def __new__(cls, spec: str | os.PathLike[str], /, **options: Any) -> Journal:
        target = backend_class(spec) if cls is Journal else cls
        return super().__new__(target)

    def __init__(self, spec: str | os.PathLike[str], /, **options: Any) -> None:
        # The backends' __init__ take the spec and their own options; this one sets the shared state.
        self.transactions = 0
        self.busy_seconds = 0.0
        self._worker: Worker | None = None

    @property
    def display(self) -> str:
        """Where the journal lives, safe to log (no password)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.display!r})"

    # -- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> Journal:
        """Connect, create or migrate the schema; returns self."""
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Journal:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def schema_version(self) -> int:
        """The schema version the journal is at (see the backend's migrations)."""
        raise NotImplementedError

    # -- runs ------------------------------------------------------------------------------------
    async def begin_run(self, *, name: str | None = None) -> int:
        """Start a new run (``name``: an optional label, e.g. the input file); returns its id."""
        raise NotImplementedError

    async def finish_run(self, run_id: int, outcome: str) -> None:
        raise NotImplementedError

    async def set_planning(self, run_id: int, planning: bool) -> None:
        """Mark a run as being planned (its ``outcome`` reads ``"planning"``) or not any more.

        Workers that join a shared run while its input is still being planned wait for the rows to come
        instead of ending as soon as they catch up with the planner (see :meth:`Worker.batches`).
        """
        raise NotImplementedError

    async def find_run(self, name: str) -> int | None:
        """The newest run labelled ``name``."""
        raise NotImplementedError

    async def run_info(self, run_id: int) -> RunInfo | None:
        """Progress of one run across its workers (None when there is no such run)."""
        raise NotImplementedError

    async def runs(self, *, limit: int = 20) -> list[RunInfo]:
        """The newest ``limit`` runs with their progress, newest first."""
        raise NotImplementedError

    # -- planning --------------------------------------------------------------------------------
    async def plan(self, run_id: int, entries: Sequence[Planned]) -> list[PlanResult]:
        """Record a chunk of input invoices in one transaction and say how each one stands."""
        raise NotImplementedError

    async def add_extra(self, run_id: int, number: str, outcome: str, reason: str) -> None:
        raise NotImplementedError

    # -- transitions (fenced while a worker is active on this journal object) ---------------------
    async def mark_submitting(self, numbers: Sequence[str]) -> list[str]:
        """Before a POST: the invoices may reach the server from now on.  Returns the numbers marked:
        all of them, or, while a worker is active, those still claimed by it under a live lease (POST only
        those)."""
        raise NotImplementedError

    async def mark_submitted(self, pairs: Sequence[tuple[str, str]]) -> None:
        """After the 202 (or a successful look-up): each number now has its faktooraId."""
        raise NotImplementedError

    async def mark_ready(self, number: str) -> None:
        raise NotImplementedError

    async def mark_downloaded(self, number: str, files: dict[str, dict[str, Any]]) -> None:
        raise NotImplementedError

    async def mark_failed(self, numbers: Sequence[str], reason: str, *, final: bool) -> None:
        raise NotImplementedError

    # -- reading ---------------------------------------------------------------------------------
    async def get(self, number: str) -> JournalRow | None:
        raise NotImplementedError

    async def counts(self, run_id: int | None = None) -> dict[str, int]:
        raise NotImplementedError

    async def fetch_run_rows(self, run_id: int, *, after: str = "", limit: int = 1000) -> list[JournalRow]:
        """Rows of ``run_id`` ordered by invoice number, ``limit`` at a time (keyset pagination)."""
        raise NotImplementedError

    async def extra_counts(self, run_id: int) -> dict[str, int]:
        """Outcome -> number of the run's not-journalled invoices (conflicts, repeats)."""
        raise NotImplementedError

    async def fetch_extras(self, run_id: int) -> list[tuple[str, str, str]]:
        raise NotImplementedError

    def row_source(self, run_id: int, *, chunk: int = 1000) -> RowSource:
        """The run's rows for a report, read synchronously on its own connection (call from a thread)."""
        raise NotImplementedError

    # -- workers and claims ----------------------------------------------------------------------
    @asynccontextmanager
    async def worker(
        self, run_id: int, *, lease: float = DEFAULT_LEASE, name: str | None = None
    ) -> AsyncIterator[Worker]:
        """Register a worker of ``run_id`` and keep its lease renewed until the block ends.

        On exit (also on cancellation) the rows it still holds are released for the others and the
        worker is marked stopped.  If the lease cannot be renewed (the database is unreachable) for a
        whole lease, ``worker.lost`` is set: its rows may be taken over by then; stop working on them.
        """
        if self._worker is not None:
            raise RuntimeError("this journal object already has an active worker")
        if lease <= 0:
            raise errors.ConfigurationError("lease must be > 0 seconds")
        w = Worker(self, run_id, lease, name or f"{socket.gethostname()}:{os.getpid()}")
        await self._register_worker(w)
        self._worker = w
        failure: Exception | None = None
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(w._renew_forever)
                try:
                    yield w
                except Exception as exc:  # re-raised below as itself, not inside an ExceptionGroup
                    failure = exc
                finally:
                    tg.cancel_scope.cancel()
            if failure is not None:
                raise failure
        finally:
            self._worker = None
            with anyio.CancelScope(shield=True):
                try:
                    await self._stop_worker(w)
                except Exception as exc:  # the database is gone: the lease will expire on its own
                    logger.warning("worker %s could not release its claims: %s", w.id, exc)

    def _finished(self, numbers: Sequence[str]) -> None:
        """Backends call this after a terminal mark: the active worker no longer holds ``numbers``."""
        if self._worker is not None:
            self._worker._drop(numbers)

    @property
    def _worker_id(self) -> str | None:
        return self._worker.id if self._worker is not None else None

    async def _register_worker(self, worker: Worker) -> None:
        raise NotImplementedError

    async def _renew_worker(self, worker: Worker) -> bool:
        """Extend the lease by ``worker.lease`` from now; False when the worker row is gone or stopped."""
        raise NotImplementedError

    async def _claim(self, worker: Worker, limit: int) -> list[Claim]:
        raise NotImplementedError

    async def _release(self, worker: Worker, numbers: Sequence[str] | None) -> int:
        raise NotImplementedError

    async def _stop_worker(self, worker: Worker) -> None:
        """Release every row the worker holds and mark it stopped (lease ended now)."""
        raise NotImplementedError


class Worker:
    """One process's membership of a run: its id, its lease, its claims (see :meth:`Journal.worker`)."""

    def __init__(self, journal: Journal, run_id: int, lease: float, name: str) -> None:
        self.journal = journal
        self.run_id = run_id
        self.lease = float(lease)
        self.name = name
        self.id = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.lost = anyio.Event()  # set when the lease could not be renewed for a whole lease
        self.renewals = 0
        self.held: set[str] = set()  # claimed here and not yet downloaded, failed or released
        self._freed = anyio.Event()

    def _drop(self, numbers: Sequence[str]) -> None:
        """Rows this worker no longer holds (finished, failed, released, or taken over)."""
        before = len(self.held)
        self.held.difference_update(numbers)
        if len(self.held) < before:
            self._freed.set()
            self._freed = anyio.Event()

    def __repr__(self) -> str:
        return f"Worker(id={self.id[:8]}, run_id={self.run_id}, name={self.name!r}, lease={self.lease})"

    async def claim(self, limit: int = 100) -> list[Claim]:
        """Claim up to ``limit`` rows of the run that no live worker holds (in invoice-number order):
        unfinished rows, and rows that failed retryably in an earlier run; never a row that would need
        a payload that was not journalled."""
        if limit < 1:
            return []
        claims = await self.journal._claim(self, limit)
        self.held.update(c.row.number for c in claims)
        return claims

    async def batches(
        self,
        size: int = 100,
        *,
        idle: float = 1.0,
        max_held: int | None = None,
        min_batch: int = 1,
    ) -> AsyncIterator[list[Claim]]:
        """Claim batches of up to ``size`` rows, one batch each time the consumer asks for the next.

        ``max_held``: claim only while this worker holds fewer rows than that (rows are held from their
        claim until they are downloaded, failed or released), so that workers joining later find work
        and no worker sits on more than it can do soon; ``min_batch``: while it holds rows, it claims
        only once there is room for at least that many (a row claimed alone as each one finishes would be
        sent in a POST of its own).  Ends when nothing is claimable and no *other*
        live worker holds a row of the run (the rows this worker holds are the consumer's business).
        While others hold rows it waits ``idle`` seconds between looks: they may finish them, or die,
        and their rows then come back here after their lease.  Ends early when ``lost`` is set.
        """
        planned_total, planned_since = -1, anyio.current_time()
        while not self.lost.is_set():
            room = size if max_held is None else min(size, max_held - len(self.held))
            if room <= 0 or (room < min_batch and self.held):
                with anyio.move_on_after(self.lease):  # a held row is always finished or released
                    await self._freed.wait()
                continue
            claims = await self.claim(room)
            if claims:
                yield claims
                continue
            info = await self.journal.run_info(self.run_id)
            workers = info.workers if info is not None else ()
            if not any(w.claimed for w in workers if w.alive and w.id != self.id):
                if info is None or info.outcome != PLANNING:
                    return
                # the input is still being planned: more rows will come, unless the planner has stopped
                # adding any for a whole lease (it died while planning)
                now = anyio.current_time()
                if info.total != planned_total:
                    planned_total, planned_since = info.total, now
                elif now - planned_since > self.lease:
                    return
            await anyio.sleep(idle)

    async def release(self, numbers: Sequence[str] | None = None) -> int:
        """Give rows back (all this worker holds when ``numbers`` is None); returns how many."""
        count = await self.journal._release(self, numbers)
        self._drop(list(self.held) if numbers is None else numbers)
        return count

    async def renew(self) -> bool:
        """Renew the lease now; False when the worker was stopped meanwhile."""
        ok = await self.journal._renew_worker(self)
        if ok:
            self.renewals += 1
        return ok

    async def _renew_forever(self) -> None:
        last_ok = anyio.current_time()
        while True:
            await anyio.sleep(self.lease / 3)
            try:
                if not await self.renew():
                    logger.warning("worker %s: its registration is gone; its claims are lost", self.id)
                    self.lost.set()
                    return
                last_ok = anyio.current_time()
            except Exception as exc:
                logger.warning("worker %s: lease renewal failed: %s", self.id, exc)
                if anyio.current_time() - last_ok >= self.lease:
                    self.lost.set()
