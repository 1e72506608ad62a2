"""The SQLite journal backend (the default): one file, WAL mode, every call in a worker thread.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a committed transaction survives the death of the
process (SIGKILL), only a power loss could drop the newest ones.  Every call runs in a worker thread (one
at a time, through a capacity limiter of 1) so the event loop never waits for the disk.  Writes take the
database's write lock up front (``BEGIN IMMEDIATE``), so several processes on one host may share a journal
file: claims are then exclusive because claiming is one write transaction at a time.  Times are this
host's clock.  The schema is versioned (table ``journal_schema``); files written before versioning are
migrated in place when opened.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from ._base import (
    ACTIVE,
    PLANNING,
    ROW_COLUMNS,
    Claim,
    Journal,
    JournalError,
    JournalRow,
    Planned,
    PlanResult,
    RunInfo,
    State,
    Worker,
    WorkerInfo,
)
from .migrations import SQLITE_MIGRATIONS

__all__ = ["MIGRATIONS", "SQLiteJournal", "SQLiteRowSource", "iter_run_rows", "read_rows", "sqlite_path"]

logger = logging.getLogger("faktoora_async.bulk")

T = TypeVar("T")

MIGRATIONS = SQLITE_MIGRATIONS
LATEST = MIGRATIONS[-1][0]

_ACTIVE_SQL = ", ".join(f"'{s}'" for s in ACTIVE)
_LIVE_WORKERS = "SELECT id FROM workers WHERE lease_until > :now AND stopped_at IS NULL"
_CLAIMABLE = f"""
    run_id = :run
    AND (state IN ({_ACTIVE_SQL}) OR (state = 'failed' AND final = 0 AND updated_at < :run_started))
    AND (faktoora_id IS NOT NULL OR payload IS NOT NULL)
    AND (claimed_by IS NULL OR claimed_by NOT IN ({_LIVE_WORKERS}))
"""


_CONFLICT = "a different payload is already journalled under this invoice number; not sent"


def sqlite_path(spec: str | os.PathLike[str]) -> Path:
    """The file of a SQLite journal spec (a path, or ``sqlite:///path``)."""
    text = os.fspath(spec)
    if text.lower().startswith("sqlite:///"):  # SQLAlchemy's form: sqlite:///relative, sqlite:////absolute
        return Path(text[len("sqlite:///") :])
    return Path(text)


class SQLiteJournal(Journal):
    """Async façade over one SQLite connection used from one worker thread at a time."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path)
        self.path = sqlite_path(path)
        self._conn: sqlite3.Connection | None = None
        self._limiter = anyio.CapacityLimiter(1)
        self._lock = threading.Lock()

    @property
    def display(self) -> str:
        return str(self.path)

    # -- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> SQLiteJournal:
        await self._call(self._open_sync)
        return self

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._call(self._close_sync)

    def _open_sync(self) -> None:
        if self._conn is not None:
            return
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        try:
            _retry_busy(lambda: conn.execute("PRAGMA journal_mode=WAL"), seconds=30.0)
            conn.execute("PRAGMA synchronous=NORMAL")
            _retry_busy(lambda: _migrate(conn), seconds=30.0)
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

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._call(lambda: self._txn(fn))

    async def schema_version(self) -> int:
        return await self._call(lambda: _version(self._db))

    # -- runs ------------------------------------------------------------------------------------
    async def begin_run(self, *, name: str | None = None) -> int:
        def do(db: sqlite3.Connection) -> int:
            cur = db.execute("INSERT INTO runs (started_at, name) VALUES (?, ?)", (time.time(), name))
            assert cur.lastrowid is not None
            return int(cur.lastrowid)

        return await self._write(do)

    async def finish_run(self, run_id: int, outcome: str) -> None:
        await self._write(
            lambda db: db.execute(
                "UPDATE runs SET finished_at = ?, outcome = ? WHERE id = ?", (time.time(), outcome, run_id)
            )
        )

    async def set_planning(self, run_id: int, planning: bool) -> None:
        await self._write(
            lambda db: db.execute(
                "UPDATE runs SET outcome = ? WHERE id = ? AND finished_at IS NULL"
                " AND (outcome IS NULL OR outcome = ?)",
                (PLANNING if planning else None, run_id, PLANNING),
            )
        )

    async def find_run(self, name: str) -> int | None:
        def do() -> int | None:
            found = self._db.execute(
                "SELECT id FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1", (name,)
            ).fetchone()
            return int(found[0]) if found else None

        return await self._call(do)

    async def run_info(self, run_id: int) -> RunInfo | None:
        return await self._call(lambda: _run_info(self._db, run_id, time.time()))

    async def runs(self, *, limit: int = 20) -> list[RunInfo]:
        def do() -> list[RunInfo]:
            now = time.time()
            ids = [r[0] for r in self._db.execute("SELECT id FROM runs ORDER BY id DESC LIMIT ?", (limit,))]
            return [info for i in ids if (info := _run_info(self._db, int(i), now)) is not None]

        return await self._call(do)

    # -- planning --------------------------------------------------------------------------------
    async def plan(self, run_id: int, entries: Sequence[Planned]) -> list[PlanResult]:
        return await self._write(lambda db: [_plan_one(db, run_id, e, time.time()) for e in entries])

    async def add_extra(self, run_id: int, number: str, outcome: str, reason: str) -> None:
        await self._write(
            lambda db: db.execute(
                "INSERT INTO run_extras (run_id, number, outcome, reason) VALUES (?, ?, ?, ?)",
                (run_id, number, outcome, reason),
            )
        )

    # -- transitions -----------------------------------------------------------------------------
    def _update(
        self, db: sqlite3.Connection, sets: str, params: dict[str, Any], numbers: Sequence[str], fence: str
    ) -> list[str]:
        """``UPDATE invoices SET {sets}`` for ``numbers`` (with ``fence`` while a worker is active)."""
        done: list[str] = []
        worker = self._worker_id
        where = f" AND ({fence})" if worker is not None else ""
        for n in dict.fromkeys(numbers):
            cur = db.execute(
                f"UPDATE invoices SET {sets}, updated_at = :now WHERE number = :number{where}",
                {**params, "number": n, "worker": worker},
            )
            if cur.rowcount == 1:
                done.append(n)
            elif worker is not None:
                logger.warning("invoice %s: taken over by another worker; not updated here", n)
        return done

    async def mark_submitting(self, numbers: Sequence[str]) -> list[str]:
        fence = "claimed_by = :worker"
        fence += " AND EXISTS (SELECT 1 FROM workers WHERE id = :worker AND lease_until > :now)"
        sets = "state = 'submitting', attempts = attempts + 1, final = 0, reason = NULL"
        return await self._write(lambda db: self._update(db, sets, {"now": time.time()}, numbers, fence))

    async def mark_submitted(self, pairs: Sequence[tuple[str, str]]) -> None:
        def do(db: sqlite3.Connection) -> None:
            now = time.time()
            for number, fid in pairs:
                self._update(
                    db,
                    "state = 'submitted', faktoora_id = :fid, final = 0, reason = NULL,"
                    " submitted_at = COALESCE(submitted_at, :now)",
                    {"now": now, "fid": fid},
                    [number],
                    "claimed_by = :worker OR faktoora_id IS NULL",
                )

        await self._write(do)

    async def mark_ready(self, number: str) -> None:
        sets = "state = 'ready', final = 0, reason = NULL, ready_at = :now"
        await self._write(
            lambda db: self._update(db, sets, {"now": time.time()}, [number], "claimed_by = :worker")
        )

    async def mark_downloaded(self, number: str, files: dict[str, dict[str, Any]]) -> None:
        sets = "state = 'downloaded', final = 0, reason = NULL, files = :files, done_at = :now"
        sets += ", claimed_by = NULL"
        params = {"now": time.time(), "files": json.dumps(files, sort_keys=True)}
        await self._write(lambda db: self._update(db, sets, params, [number], "claimed_by = :worker"))
        self._finished([number])

    async def mark_failed(self, numbers: Sequence[str], reason: str, *, final: bool) -> None:
        sets = "state = 'failed', final = :final, reason = :reason, claimed_by = NULL"
        params = {"now": time.time(), "final": int(final), "reason": reason}
        await self._write(lambda db: self._update(db, sets, params, numbers, "claimed_by = :worker"))
        self._finished(numbers)

    # -- reading ---------------------------------------------------------------------------------
    async def get(self, number: str) -> JournalRow | None:
        def do() -> JournalRow | None:
            found = self._db.execute(
                f"SELECT {ROW_COLUMNS} FROM invoices WHERE number = ?", (number,)
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
        def do() -> list[JournalRow]:
            cur = self._db.execute(
                f"SELECT {ROW_COLUMNS} FROM invoices WHERE run_id = ? AND number > ? ORDER BY number LIMIT ?",
                (run_id, after, limit),
            )
            return [JournalRow._from_db(r) for r in cur.fetchall()]

        return await self._call(do)

    async def extra_counts(self, run_id: int) -> dict[str, int]:
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

    def row_source(self, run_id: int, *, chunk: int = 1000) -> SQLiteRowSource:
        return SQLiteRowSource(self.path, run_id, chunk=chunk)

    # -- workers and claims ----------------------------------------------------------------------
    async def _register_worker(self, worker: Worker) -> None:
        def do(db: sqlite3.Connection) -> None:
            now = time.time()
            if db.execute("SELECT 1 FROM runs WHERE id = ?", (worker.run_id,)).fetchone() is None:
                raise JournalError(f"no run {worker.run_id} in the journal {self.display}")
            db.execute(
                "INSERT INTO workers (id, run_id, name, host, pid, started_at, heartbeat_at, lease_until)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    worker.id,
                    worker.run_id,
                    worker.name,
                    worker.host,
                    worker.pid,
                    now,
                    now,
                    now + worker.lease,
                ),
            )

        await self._write(do)

    async def _renew_worker(self, worker: Worker) -> bool:
        def do(db: sqlite3.Connection) -> bool:
            now = time.time()
            cur = db.execute(
                "UPDATE workers SET heartbeat_at = ?, lease_until = ? WHERE id = ? AND stopped_at IS NULL",
                (now, now + worker.lease, worker.id),
            )
            return cur.rowcount == 1

        return await self._write(do)

    async def _claim(self, worker: Worker, limit: int) -> list[Claim]:
        def do(db: sqlite3.Connection) -> list[Claim]:
            now = time.time()
            mine = db.execute(
                "SELECT lease_until FROM workers WHERE id = ? AND stopped_at IS NULL", (worker.id,)
            )
            lease = mine.fetchone()
            if lease is None or lease[0] <= now:  # our own lease lapsed: renew before claiming more
                return []
            started = db.execute("SELECT started_at FROM runs WHERE id = ?", (worker.run_id,)).fetchone()
            params = {"run": worker.run_id, "run_started": started[0] if started else 0.0, "now": now,
                      "worker": worker.id, "limit": limit}  # fmt: skip
            # One write transaction: no other process can claim between the look and the update.
            picked = db.execute(
                f"SELECT number FROM invoices WHERE {_CLAIMABLE} ORDER BY number LIMIT :limit", params
            ).fetchall()
            claims: list[Claim] = []
            for (number,) in picked:
                db.execute(
                    "UPDATE invoices SET claimed_by = ?, claims = claims + 1 WHERE number = ?",
                    (worker.id, number),
                )
                r = db.execute(
                    f"SELECT {ROW_COLUMNS}, payload, claims FROM invoices WHERE number = ?", (number,)
                ).fetchone()
                claims.append(Claim(JournalRow._from_db(r[:-2]), r[-2], int(r[-1])))
            return claims

        return await self._write(do)

    async def _release(self, worker: Worker, numbers: Sequence[str] | None) -> int:
        def do(db: sqlite3.Connection) -> int:
            if numbers is None:
                cur = db.execute("UPDATE invoices SET claimed_by = NULL WHERE claimed_by = ?", (worker.id,))
                return cur.rowcount
            return sum(
                db.execute(
                    "UPDATE invoices SET claimed_by = NULL WHERE claimed_by = ? AND number = ?",
                    (worker.id, n),
                ).rowcount
                for n in dict.fromkeys(numbers)
            )

        return await self._write(do)

    async def _stop_worker(self, worker: Worker) -> None:
        def do(db: sqlite3.Connection) -> None:
            now = time.time()
            db.execute("UPDATE invoices SET claimed_by = NULL WHERE claimed_by = ?", (worker.id,))
            db.execute(
                "UPDATE workers SET stopped_at = ?, lease_until = ? WHERE id = ?", (now, now, worker.id)
            )

        await self._write(do)


# -- helpers (synchronous; called inside the worker thread) ------------------------------------------


def _version(db: sqlite3.Connection) -> int:
    found = db.execute("SELECT MAX(version) FROM journal_schema").fetchone()
    return int(found[0] or 0)


def _retry_busy(fn: Callable[[], object], *, seconds: float) -> None:
    """Run ``fn``, retrying while SQLite answers "database is locked" without waiting itself.

    Switching a new file to WAL needs an exclusive lock, and SQLite skips its busy handler there (waiting
    could deadlock two openers that each hold a shared lock), so several processes opening one new journal
    at once get ``SQLITE_BUSY`` at once.  Backing off and retrying lets the first one finish.
    """
    deadline = time.monotonic() + seconds
    pause = 0.002
    while True:
        try:
            fn()
            return
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _migrate(db: sqlite3.Connection) -> None:
    """Create or bring the schema up to :data:`LATEST` in one write transaction (other processes wait)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            "CREATE TABLE IF NOT EXISTS journal_schema"
            " (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        current = _version(db)
        if current > LATEST:
            raise JournalError(
                f"the journal's schema is version {current}, newer than this faktoora-async supports"
                f" ({LATEST}): upgrade faktoora-async"
            )
        for version, statements in MIGRATIONS:
            if version <= current:
                continue
            for statement in statements:
                db.execute(statement)
            db.execute(
                "INSERT INTO journal_schema (version, applied_at) VALUES (?, ?)", (version, time.time())
            )
            if current:
                logger.info("journal schema migrated from version %d to %d", current, version)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _plan_one(db: sqlite3.Connection, run_id: int, e: Planned, now: float) -> PlanResult:
    found = db.execute(f"SELECT {ROW_COLUMNS}, run_id FROM invoices WHERE number = ?", (e.number,)).fetchone()
    if found is None:
        state: State
        if e.violations:
            state, final = "failed", 1
            reason = "pre-flight: " + "; ".join(f"{r}: {m}" for r, m in e.violations[:10])
            rules = json.dumps(sorted({r for r, _ in e.violations}))
        else:
            state, final, reason, rules = "planned", 0, None, None
        db.execute(
            "INSERT INTO invoices (number, payload_hash, state, final, reason, rule_ids, run_id, payload,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (e.number, e.payload_hash, state, final, reason, rules, run_id, e.payload, now, now),
        )
        row = JournalRow(
            e.number, e.payload_hash, state, None, 0, bool(final), reason,
            tuple(json.loads(rules)) if rules else (), {}, now, now, None, None, None,
        )  # fmt: skip
        return PlanResult("new", row)
    row = JournalRow._from_db(found[:-1])
    if row.payload_hash != e.payload_hash:
        db.execute(
            "INSERT INTO run_extras (run_id, number, outcome, reason, payload_hash)"
            " VALUES (?, ?, 'conflict', ?, ?)",
            (run_id, e.number, _CONFLICT, e.payload_hash),
        )
        return PlanResult("conflict", row)
    if found[-1] == run_id:
        return PlanResult("repeat", row)
    db.execute(
        "UPDATE invoices SET run_id = ?, payload = COALESCE(payload, ?) WHERE number = ?",
        (run_id, e.payload, e.number),
    )
    return PlanResult("known", row)


def _run_info(db: sqlite3.Connection, run_id: int, now: float) -> RunInfo | None:
    run = db.execute(
        "SELECT id, name, started_at, finished_at, outcome FROM runs WHERE id = ?", (run_id,)
    ).fetchone()
    if run is None:
        return None
    counts = {
        str(s): int(n)
        for s, n in db.execute(
            "SELECT state, COUNT(*) FROM invoices WHERE run_id = ? GROUP BY state", (run_id,)
        )
    }
    extras = db.execute("SELECT COUNT(*) FROM run_extras WHERE run_id = ?", (run_id,)).fetchone()[0]
    workers = []
    for wid, name, host, pid, started, beat, lease, stopped in db.execute(
        "SELECT id, name, host, pid, started_at, heartbeat_at, lease_until, stopped_at FROM workers"
        " WHERE run_id = ? ORDER BY started_at",
        (run_id,),
    ).fetchall():
        claimed = db.execute(
            f"SELECT COUNT(*) FROM invoices WHERE claimed_by = ? AND state IN ({_ACTIVE_SQL})", (wid,)
        ).fetchone()[0]
        alive = stopped is None and lease > now
        workers.append(
            WorkerInfo(wid, name, host, int(pid), started, beat, lease, stopped, alive, int(claimed))
        )
    claimed_total = sum(w.claimed for w in workers if w.alive)
    return RunInfo(run[0], run[1], run[2], run[3], run[4], counts, int(extras), claimed_total, tuple(workers))


def iter_run_rows(conn: sqlite3.Connection, run_id: int, *, chunk: int = 1000) -> Iterator[JournalRow]:
    """Stream the rows of ``run_id`` in invoice-number order, ``chunk`` rows in memory at a time.

    One cursor (one read transaction: a consistent snapshot) read with ``fetchmany``; synchronous, so call it
    from a worker thread, on a connection no other thread uses meanwhile.
    """
    cur = conn.execute(f"SELECT {ROW_COLUMNS} FROM invoices WHERE run_id = ? ORDER BY number", (run_id,))
    try:
        while rows := cur.fetchmany(chunk):
            for r in rows:
                yield JournalRow._from_db(r)
    finally:
        cur.close()


class SQLiteRowSource:
    """A run's rows and extras read from the journal file, on a read-only connection per iteration."""

    __slots__ = ("chunk", "path", "run_id")

    def __init__(self, path: Path, run_id: int, *, chunk: int = 1000) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self.chunk = chunk

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30.0)

    def iter_rows(self) -> Iterator[JournalRow]:
        conn = self._connect()
        try:
            yield from iter_run_rows(conn, self.run_id, chunk=self.chunk)
        finally:
            conn.close()

    def iter_extras(self) -> Iterator[tuple[str, str, str]]:
        conn = self._connect()
        try:
            cur = conn.execute(
                "SELECT number, outcome, reason FROM run_extras WHERE run_id = ? ORDER BY rowid",
                (self.run_id,),
            )
            while rows := cur.fetchmany(self.chunk):
                for number, outcome, reason in rows:
                    yield str(number), str(outcome), str(reason)
        finally:
            conn.close()


def read_rows(path: str | Path) -> Iterator[JournalRow]:
    """Synchronously read every row of a journal file (for tools and tests; opens read-only)."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=30.0)
    try:
        try:
            rows = conn.execute(f"SELECT {ROW_COLUMNS} FROM invoices ORDER BY number").fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # a journal being created right now: no rows yet
                return
            raise
        for r in rows:
            yield JournalRow._from_db(r)
    finally:
        conn.close()
