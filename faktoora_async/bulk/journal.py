"""The bulk run journal: one SQLite row per invoice, written before every network step.

The journal is what makes a killed run resumable without duplicates.  States::

    planned ──► submitting ──► submitted ──► ready ──► downloaded
        │            │              │          │
        └────────────┴──────────────┴──────────┴──► failed (final, or retryable on the next run)

* ``submitting`` is written *before* the POST: a row left in it means the POST may or may not have
  reached the server, so a resumed run looks the invoice number up before anything is re-sent.
* ``submitted`` carries the faktooraId; ``ready`` is written before the downloads start;
  ``downloaded`` carries the files and their sha256.
* ``failed`` rows carry a reason; ``final=1`` failures (pre-flight violations, rejected payloads,
  generation failures, duplicate numbers) stay failed, ``final=0`` ones (timeouts, download failures,
  submit failures) are picked up again by the next run from where they stopped.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a committed transaction survives the death of the
process (SIGKILL), only a power loss could drop the newest ones.  Every call runs in a worker thread
(one at a time, through a capacity limiter of 1) so the event loop never waits for the disk.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio
import anyio.to_thread

__all__ = [
    "PLANNED", "STATES", "Journal", "JournalRow", "PlanResult", "Planned", "State", "iter_run_rows",
    "read_rows",
]  # fmt: skip

logger = logging.getLogger("faktoora_async.bulk")

State = Literal["planned", "submitting", "submitted", "ready", "downloaded", "failed"]
PLANNED: State = "planned"
STATES: tuple[State, ...] = ("planned", "submitting", "submitted", "ready", "downloaded", "failed")

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS invoices (
    number       TEXT PRIMARY KEY,
    payload_hash TEXT NOT NULL,
    state        TEXT NOT NULL,
    faktoora_id  TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    final        INTEGER NOT NULL DEFAULT 0,
    reason       TEXT,
    rule_ids     TEXT,
    files        TEXT,
    run_id       INTEGER,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL,
    submitted_at REAL,
    ready_at     REAL,
    done_at      REAL
);
CREATE INDEX IF NOT EXISTS invoices_run ON invoices (run_id, state);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  REAL NOT NULL,
    finished_at REAL,
    outcome     TEXT
);
CREATE TABLE IF NOT EXISTS run_extras (
    run_id       INTEGER NOT NULL,
    number       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    payload_hash TEXT
);
"""

_ROW_COLUMNS = (
    "number, payload_hash, state, faktoora_id, attempts, final, reason, rule_ids, files, "
    "created_at, updated_at, submitted_at, ready_at, done_at"
)


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
    def _from_db(cls, row: sqlite3.Row | tuple[Any, ...]) -> JournalRow:
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


@dataclass(frozen=True, slots=True)
class Planned:
    """Input of :meth:`Journal.plan`: one invoice read from the input."""

    number: str
    payload_hash: str
    violations: tuple[tuple[str, str], ...] = ()  # (rule_id, message) from the pre-flight check


@dataclass(frozen=True, slots=True)
class PlanResult:
    """What the journal says about one input invoice.

    ``kind``: ``new`` (first time seen), ``known`` (journalled with the same payload: resume from ``row``),
    ``conflict`` (journalled with a different payload), ``repeat`` (already seen earlier in this run).
    """

    kind: Literal["new", "known", "conflict", "repeat"]
    row: JournalRow


class Journal:
    """Async façade over one SQLite connection used from one worker thread at a time."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._limiter = anyio.CapacityLimiter(1)
        self._lock = threading.Lock()
        self.transactions = 0
        self.busy_seconds = 0.0  # time spent in SQLite (in the worker thread, never on the event loop)

    # -- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> Journal:
        await self._call(self._open_sync)
        return self

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._call(self._close_sync)

    async def __aenter__(self) -> Journal:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _open_sync(self) -> None:
        if self._conn is not None:
            return
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _close_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _call(self, fn: Callable[[], T]) -> T:
        def guarded() -> T:
            with self._lock:
                started = time.perf_counter()
                try:
                    return fn()
                finally:
                    self.busy_seconds += time.perf_counter() - started

        # Not abandoned on cancellation: a started transaction always finishes (or rolls back) first.
        return await anyio.to_thread.run_sync(guarded, limiter=self._limiter)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("journal is not open")
        return self._conn

    def _txn(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        self.transactions += 1
        return result

    # -- runs ------------------------------------------------------------------------------------
    async def begin_run(self) -> int:
        def do(db: sqlite3.Connection) -> int:
            cur = db.execute("INSERT INTO runs (started_at) VALUES (?)", (time.time(),))
            assert cur.lastrowid is not None
            return int(cur.lastrowid)

        return await self._call(lambda: self._txn(do))

    async def finish_run(self, run_id: int, outcome: str) -> None:
        await self._call(
            lambda: self._txn(
                lambda db: db.execute(
                    "UPDATE runs SET finished_at = ?, outcome = ? WHERE id = ?",
                    (time.time(), outcome, run_id),
                )
            )
        )

    # -- planning --------------------------------------------------------------------------------
    async def plan(self, run_id: int, entries: Sequence[Planned]) -> list[PlanResult]:
        """Record a chunk of input invoices in one transaction and say how each one stands."""

        def do(db: sqlite3.Connection) -> list[PlanResult]:
            now = time.time()
            out: list[PlanResult] = []
            for e in entries:
                cur = db.execute(f"SELECT {_ROW_COLUMNS}, run_id FROM invoices WHERE number = ?", (e.number,))
                found = cur.fetchone()
                if found is None:
                    state: State
                    if e.violations:
                        state, final = "failed", 1
                        reason = "pre-flight: " + "; ".join(f"{r}: {m}" for r, m in e.violations[:10])
                        rules = json.dumps(sorted({r for r, _ in e.violations}))
                    else:
                        state, final, reason, rules = "planned", 0, None, None
                    db.execute(
                        "INSERT INTO invoices (number, payload_hash, state, final, reason, rule_ids, run_id,"
                        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (e.number, e.payload_hash, state, final, reason, rules, run_id, now, now),
                    )
                    row = JournalRow(
                        e.number, e.payload_hash, state, None, 0, bool(final), reason,
                        tuple(json.loads(rules)) if rules else (), {}, now, now, None, None, None,
                    )  # fmt: skip
                    out.append(PlanResult("new", row))
                    continue
                row = JournalRow._from_db(found[:-1])
                if row.payload_hash != e.payload_hash:
                    db.execute(
                        "INSERT INTO run_extras (run_id, number, outcome, reason, payload_hash)"
                        " VALUES (?, ?, 'conflict', ?, ?)",
                        (
                            run_id,
                            e.number,
                            "a different payload is already journalled under this invoice number; not sent",
                            e.payload_hash,
                        ),
                    )
                    out.append(PlanResult("conflict", row))
                elif found[-1] == run_id:
                    out.append(PlanResult("repeat", row))
                else:
                    db.execute("UPDATE invoices SET run_id = ? WHERE number = ?", (run_id, e.number))
                    out.append(PlanResult("known", row))
            return out

        return await self._call(lambda: self._txn(do))

    async def add_extra(self, run_id: int, number: str, outcome: str, reason: str) -> None:
        await self._call(
            lambda: self._txn(
                lambda db: db.execute(
                    "INSERT INTO run_extras (run_id, number, outcome, reason) VALUES (?, ?, ?, ?)",
                    (run_id, number, outcome, reason),
                )
            )
        )

    # -- transitions -----------------------------------------------------------------------------
    async def mark_submitting(self, numbers: Sequence[str]) -> None:
        """Before a POST: the invoices may reach the server from now on."""

        def do(db: sqlite3.Connection) -> None:
            now = time.time()
            db.executemany(
                "UPDATE invoices SET state = 'submitting', attempts = attempts + 1, final = 0, reason = NULL,"
                " updated_at = ? WHERE number = ?",
                [(now, n) for n in numbers],
            )

        await self._call(lambda: self._txn(do))

    async def mark_submitted(self, pairs: Sequence[tuple[str, str]]) -> None:
        """After the 202 (or a successful look-up): each number now has its faktooraId."""

        def do(db: sqlite3.Connection) -> None:
            now = time.time()
            db.executemany(
                "UPDATE invoices SET state = 'submitted', faktoora_id = ?, final = 0, reason = NULL,"
                " submitted_at = COALESCE(submitted_at, ?), updated_at = ? WHERE number = ?",
                [(fid, now, now, n) for n, fid in pairs],
            )

        await self._call(lambda: self._txn(do))

    async def mark_ready(self, number: str) -> None:
        def do(db: sqlite3.Connection) -> None:
            now = time.time()
            db.execute(
                "UPDATE invoices SET state = 'ready', final = 0, reason = NULL, ready_at = ?, updated_at = ?"
                " WHERE number = ?",
                (now, now, number),
            )

        await self._call(lambda: self._txn(do))

    async def mark_downloaded(self, number: str, files: dict[str, dict[str, Any]]) -> None:
        def do(db: sqlite3.Connection) -> None:
            now = time.time()
            db.execute(
                "UPDATE invoices SET state = 'downloaded', final = 0, reason = NULL, files = ?, done_at = ?,"
                " updated_at = ? WHERE number = ?",
                (json.dumps(files, sort_keys=True), now, now, number),
            )

        await self._call(lambda: self._txn(do))

    async def mark_failed(self, numbers: Sequence[str], reason: str, *, final: bool) -> None:
        def do(db: sqlite3.Connection) -> None:
            now = time.time()
            db.executemany(
                "UPDATE invoices SET state = 'failed', final = ?, reason = ?, updated_at = ?"
                " WHERE number = ?",
                [(int(final), reason, now, n) for n in numbers],
            )

        await self._call(lambda: self._txn(do))

    # -- reading ---------------------------------------------------------------------------------
    async def get(self, number: str) -> JournalRow | None:
        def do() -> JournalRow | None:
            found = self._db.execute(
                f"SELECT {_ROW_COLUMNS} FROM invoices WHERE number = ?", (number,)
            ).fetchone()
            return JournalRow._from_db(found) if found else None

        return await self._call(do)

    async def counts(self, run_id: int | None = None) -> dict[str, int]:
        def do() -> dict[str, int]:
            if run_id is None:
                cur = self._db.execute("SELECT state, COUNT(*) FROM invoices GROUP BY state")
            else:
                cur = self._db.execute(
                    "SELECT state, COUNT(*) FROM invoices WHERE run_id = ? GROUP BY state", (run_id,)
                )
            return {state: int(n) for state, n in cur.fetchall()}

        return await self._call(do)

    async def fetch_run_rows(self, run_id: int, *, after: str = "", limit: int = 1000) -> list[JournalRow]:
        """Rows of ``run_id`` ordered by invoice number, ``limit`` at a time (keyset pagination)."""

        def do() -> list[JournalRow]:
            cur = self._db.execute(
                f"SELECT {_ROW_COLUMNS} FROM invoices WHERE run_id = ? AND number > ?"
                " ORDER BY number LIMIT ?",
                (run_id, after, limit),
            )
            return [JournalRow._from_db(r) for r in cur.fetchall()]

        return await self._call(do)

    async def extra_counts(self, run_id: int) -> dict[str, int]:
        """Outcome -> number of the run's not-journalled invoices (conflicts, repeats)."""

        def do() -> dict[str, int]:
            cur = self._db.execute(
                "SELECT outcome, COUNT(*) FROM run_extras WHERE run_id = ? GROUP BY outcome", (run_id,)
            )
            return {str(outcome): int(n) for outcome, n in cur.fetchall()}

        return await self._call(do)

    async def fetch_extras(self, run_id: int) -> list[tuple[str, str, str]]:
        def do() -> list[tuple[str, str, str]]:
            cur = self._db.execute(
                "SELECT number, outcome, reason FROM run_extras WHERE run_id = ? ORDER BY rowid", (run_id,)
            )
            return [(str(a), str(b), str(c)) for a, b, c in cur.fetchall()]

        return await self._call(do)


def iter_run_rows(conn: sqlite3.Connection, run_id: int, *, chunk: int = 1000) -> Iterator[JournalRow]:
    """Stream the rows of ``run_id`` in invoice-number order, ``chunk`` rows in memory at a time.

    One cursor (one read transaction: a consistent snapshot) read with ``fetchmany``; synchronous, so call it
    from a worker thread, on a connection no other thread uses meanwhile.
    """
    cur = conn.execute(f"SELECT {_ROW_COLUMNS} FROM invoices WHERE run_id = ? ORDER BY number", (run_id,))
    try:
        while rows := cur.fetchmany(chunk):
            for r in rows:
                yield JournalRow._from_db(r)
    finally:
        cur.close()


def read_rows(path: str | Path) -> Iterator[JournalRow]:
    """Synchronously read every row of a journal file (for tools and tests; opens read-only)."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=30.0)
    try:
        try:
            rows = conn.execute(f"SELECT {_ROW_COLUMNS} FROM invoices ORDER BY number").fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # a journal being created right now: no rows yet
                return
            raise
        for r in rows:
            yield JournalRow._from_db(r)
    finally:
        conn.close()
