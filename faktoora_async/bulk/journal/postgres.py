"""The PostgreSQL journal backend: one journal shared by worker processes on any number of hosts.

``Journal("postgresql://user@host/db")`` (or ``postgres://``; a ``?schema=name`` query parameter picks
the schema, default ``faktoora``).  Needs the ``[postgres]`` extra: psycopg 3 and psycopg-pool.

* Claims follow the pattern of procrastinate, Oban and graphile-worker: a worker locks claimable rows
  with ``SELECT … FOR UPDATE SKIP LOCKED`` (concurrent claimers skip each other's rows instead of waiting)
  and stamps them with its id in the same statement.  Its lease lives on its ``workers`` row, renewed by a
  heartbeat; rows whose worker's lease expired are claimable again.
* Every time (timestamps, leases) is the database server's clock (``clock_timestamp()``), so hosts with
  skewed clocks still agree on who holds what.
* The schema lives in its own PostgreSQL schema and is versioned (``journal_schema``); :meth:`open`
  creates or migrates it under a transaction-scoped advisory lock, so workers starting together do not
  race.  A schema newer than this SDK is refused.
* Connections come from a small psycopg pool (broken connections are replaced); a statement that fails
  on a lost connection is retried once on a fresh one, except claims (a retried claim could take rows
  twice).  Nothing here logs the connection password.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

from ... import errors
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
    Worker,
    WorkerInfo,
    redact_spec,
)

try:
    import psycopg
    from psycopg import sql
    from psycopg_pool import AsyncConnectionPool
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise errors.ConfigurationError(
        "the PostgreSQL journal needs the [postgres] extra: pip install 'faktoora-async[postgres]'"
    ) from exc

from ._pgplan import plan_chunk
from .migrations import POSTGRES_MIGRATIONS

__all__ = ["MIGRATIONS", "PostgresJournal", "PostgresRowSource"]

logger = logging.getLogger("faktoora_async.bulk")

T = TypeVar("T")

NOW = "extract(epoch FROM clock_timestamp())::float8"
MIGRATIONS = POSTGRES_MIGRATIONS
LATEST = MIGRATIONS[-1][0]

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_ACTIVE_SQL = ", ".join(f"'{s}'" for s in ACTIVE)
_LIVE = f"w.stopped_at IS NULL AND w.lease_until > {NOW}"
_I_COLUMNS = ", ".join("i." + c.strip() for c in ROW_COLUMNS.split(","))
# A held row is claimable only when its worker is *seen* to be stopped or out of lease, never because its
# worker is not seen at all.  The statement reads the snapshot taken when it started; when it reaches a
# row that another worker claimed meanwhile, PostgreSQL re-checks the row's newest version, but the
# ``workers`` row of a worker that registered after that snapshot is invisible to the check.  Asking "no
# live worker holds it" would then hand that worker's fresh rows out a second time.
_CLAIM = f"""
WITH run AS (SELECT started_at FROM runs WHERE id = %(run)s),
picked AS (
    SELECT i.number FROM invoices i, run
    WHERE EXISTS (SELECT 1 FROM workers w WHERE w.id = %(worker)s AND {_LIVE})
      AND i.run_id = %(run)s
      AND (i.state IN ({_ACTIVE_SQL})
           OR (i.state = 'failed' AND NOT i.final AND i.updated_at < run.started_at))
      AND (i.faktoora_id IS NOT NULL OR i.payload IS NOT NULL)
      AND (i.claimed_by IS NULL
           OR EXISTS (SELECT 1 FROM workers w WHERE w.id = i.claimed_by AND NOT ({_LIVE})))
    ORDER BY i.number
    LIMIT %(limit)s
    FOR UPDATE OF i SKIP LOCKED
)
UPDATE invoices i SET claimed_by = %(worker)s, claims = i.claims + 1
FROM picked WHERE i.number = picked.number
RETURNING {_I_COLUMNS}, i.payload, i.claims
"""


def _split_spec(spec: str) -> tuple[str, str]:
    """(conninfo URL without our ``schema`` parameter, schema name)."""
    parts = urllib.parse.urlsplit(spec)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    schema = "faktoora"
    kept = []
    for key, value in query:
        if key == "schema":
            schema = value
        else:
            kept.append((key, value))
    if not _SCHEMA_NAME.match(schema):
        raise errors.ConfigurationError(
            f"journal schema name {schema!r} is not a plain lower-case SQL identifier ([a-z_][a-z0-9_]*)"
        )
    url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(kept)))
    return url, schema


def _lock_key(schema: str) -> int:
    digest = hashlib.sha256(b"faktoora-journal:" + schema.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresJournal(Journal):
    """The journal in PostgreSQL (see the module docstring); ``pool_size``: connections at most."""

    def __init__(
        self, url: str | os.PathLike[str], *, pool_size: int = 4, connect_timeout: float = 30.0
    ) -> None:
        super().__init__(url)
        self.spec = os.fspath(url)
        self._conninfo, self.schema = _split_spec(self.spec)
        self._pool_size = max(1, pool_size)
        self._connect_timeout = connect_timeout
        self._pool: AsyncConnectionPool | None = None

    @property
    def display(self) -> str:
        return redact_spec(self.spec)

    # -- lifecycle -------------------------------------------------------------------------------
    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))

    async def open(self) -> PostgresJournal:
        if self._pool is not None:
            return self
        pool = AsyncConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=self._pool_size,
            kwargs={"autocommit": True, "application_name": "faktoora-async journal"},
            configure=self._configure,
            check=AsyncConnectionPool.check_connection,
            timeout=self._connect_timeout,
            open=False,
        )
        try:
            await pool.open(wait=True, timeout=self._connect_timeout)
            async with pool.connection() as conn:
                await self._migrate(conn)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, (psycopg.Error, TimeoutError)) or type(exc).__name__ == "PoolTimeout":
                raise JournalError(
                    f"cannot open the journal {self.display}: {_safe(exc, self.spec)}"
                ) from None
            raise
        self._pool = pool
        return self

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _migrate(self, conn: psycopg.AsyncConnection[Any]) -> None:
        ident = sql.Identifier(self.schema)
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(self.schema),))
            await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS journal_schema"
                " (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
            )
            current = await _version(conn)
            if current > LATEST:
                raise JournalError(
                    f"the journal's schema is version {current}, newer than this faktoora-async supports"
                    f" ({LATEST}): upgrade faktoora-async"
                )
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    await conn.execute(statement.encode())
                await conn.execute(
                    f"INSERT INTO journal_schema (version, applied_at) VALUES (%s, {NOW})".encode(),
                    (version,),
                )
                if current:
                    logger.info("journal schema migrated from version %d to %d", current, version)

    async def schema_version(self) -> int:
        return await self._run(_version, write=False)

    async def _run(
        self,
        fn: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]],
        *,
        write: bool = True,
        retry: bool = True,
        single: bool = False,
    ) -> T:
        """Run ``fn`` in one transaction on a pooled connection (retried once on a lost connection).

        ``single``: ``fn`` runs one statement, atomic on its own in autocommit mode: no BEGIN/COMMIT round
        trips around it.
        """
        if self._pool is None:
            raise RuntimeError("journal is not open")
        for attempt in (0, 1):
            started = time.perf_counter()
            try:
                async with self._pool.connection() as conn:
                    if single:
                        result = await fn(conn)
                    else:
                        async with conn.transaction():
                            result = await fn(conn)
                if write:
                    self.transactions += 1
                return result
            except psycopg.OperationalError as exc:
                if attempt or not retry:
                    raise JournalError(f"journal {self.display}: {_safe(exc, self.spec)}") from None
                logger.warning(
                    "journal %s: %s; retrying on a new connection", self.display, _safe(exc, self.spec)
                )
            finally:
                self.busy_seconds += time.perf_counter() - started
        raise AssertionError("unreachable")  # pragma: no cover

    # -- runs ------------------------------------------------------------------------------------
    async def begin_run(self, *, name: str | None = None) -> int:
        async def do(conn: psycopg.AsyncConnection[Any]) -> int:
            cur = await conn.execute(
                f"INSERT INTO runs (name, started_at) VALUES (%s, {NOW}) RETURNING id".encode(), (name,)
            )
            return int(_one(await cur.fetchone())[0])

        return await self._run(do, single=True, retry=False)

    async def finish_run(self, run_id: int, outcome: str) -> None:
        async def do(conn: psycopg.AsyncConnection[Any]) -> None:
            await conn.execute(
                f"UPDATE runs SET finished_at = {NOW}, outcome = %s WHERE id = %s".encode(), (outcome, run_id)
            )

        await self._run(do, single=True)

    async def set_planning(self, run_id: int, planning: bool) -> None:
        async def do(conn: psycopg.AsyncConnection[Any]) -> None:
            await conn.execute(
                "UPDATE runs SET outcome = %s WHERE id = %s AND finished_at IS NULL"
                " AND (outcome IS NULL OR outcome = %s)",
                (PLANNING if planning else None, run_id, PLANNING),
            )

        await self._run(do, single=True)

    async def find_run(self, name: str) -> int | None:
        async def do(conn: psycopg.AsyncConnection[Any]) -> int | None:
            cur = await conn.execute("SELECT id FROM runs WHERE name = %s ORDER BY id DESC LIMIT 1", (name,))
            found = await cur.fetchone()
            return int(found[0]) if found else None

        return await self._run(do, single=True, write=False)

    async def run_info(self, run_id: int) -> RunInfo | None:
        return await self._run(lambda conn: _run_info(conn, run_id), write=False)

    async def runs(self, *, limit: int = 20) -> list[RunInfo]:
        async def do(conn: psycopg.AsyncConnection[Any]) -> list[RunInfo]:
            cur = await conn.execute("SELECT id FROM runs ORDER BY id DESC LIMIT %s", (limit,))
            out = []
            for (run_id,) in await cur.fetchall():
                info = await _run_info(conn, int(run_id))
                if info is not None:
                    out.append(info)
            return out

        return await self._run(do, write=False)

    # -- planning --------------------------------------------------------------------------------
    async def plan(self, run_id: int, entries: Sequence[Planned]) -> list[PlanResult]:
        return await self._run(lambda conn: plan_chunk(conn, run_id, entries))

    async def add_extra(self, run_id: int, number: str, outcome: str, reason: str) -> None:
        async def do(conn: psycopg.AsyncConnection[Any]) -> None:
            await conn.execute(
                "INSERT INTO run_extras (run_id, number, outcome, reason) VALUES (%s, %s, %s, %s)",
                (run_id, number, outcome, reason),
            )

        await self._run(do, single=True)

    # -- transitions -----------------------------------------------------------------------------
    async def _update(
        self, sets: str, params: dict[str, Any], numbers: Sequence[str], fence: str
    ) -> list[str]:
        worker = self._worker_id
        where = f" AND ({fence})" if worker is not None else ""
        wanted = list(dict.fromkeys(numbers))
        query = (
            f"UPDATE invoices SET {sets}, updated_at = {NOW}"
            f" WHERE number = ANY(%(numbers)s){where} RETURNING number"
        )

        async def do(conn: psycopg.AsyncConnection[Any]) -> list[str]:
            cur = await conn.execute(query.encode(), {**params, "numbers": wanted, "worker": worker})
            return [str(r[0]) for r in await cur.fetchall()]

        done = await self._run(do, single=True)
        if worker is not None and len(done) < len(wanted):
            for n in set(wanted) - set(done):
                logger.warning("invoice %s: taken over by another worker; not updated here", n)
        return [n for n in wanted if n in set(done)]

    async def mark_submitting(self, numbers: Sequence[str]) -> list[str]:
        fence = "claimed_by = %(worker)s"
        fence += f" AND EXISTS (SELECT 1 FROM workers w WHERE w.id = %(worker)s AND {_LIVE})"
        sets = "state = 'submitting', attempts = attempts + 1, final = FALSE, reason = NULL"
        return await self._update(sets, {}, numbers, fence)

    async def mark_submitted(self, pairs: Sequence[tuple[str, str]]) -> None:
        worker = self._worker_id
        fence = " AND (i.claimed_by = %(worker)s OR i.faktoora_id IS NULL)" if worker is not None else ""
        query = (
            "UPDATE invoices i SET state = 'submitted', faktoora_id = v.fid, final = FALSE, reason = NULL,"
            f" submitted_at = COALESCE(i.submitted_at, {NOW}), updated_at = {NOW}"
            " FROM (SELECT unnest(%(numbers)s::text[]) AS number, unnest(%(fids)s::text[]) AS fid) v"
            f" WHERE i.number = v.number{fence} RETURNING i.number"
        )
        params = {"numbers": [n for n, _ in pairs], "fids": [f for _, f in pairs], "worker": worker}

        async def do(conn: psycopg.AsyncConnection[Any]) -> set[str]:
            cur = await conn.execute(query.encode(), params)
            return {str(r[0]) for r in await cur.fetchall()}

        done = await self._run(do, single=True)
        for n, _ in pairs:
            if n not in done and worker is not None:
                logger.warning("invoice %s: taken over by another worker; not updated here", n)

    async def mark_ready(self, number: str) -> None:
        sets = f"state = 'ready', final = FALSE, reason = NULL, ready_at = {NOW}"
        await self._update(sets, {}, [number], "claimed_by = %(worker)s")

    async def mark_downloaded(self, number: str, files: dict[str, dict[str, Any]]) -> None:
        sets = f"state = 'downloaded', final = FALSE, reason = NULL, files = %(files)s, done_at = {NOW}"
        sets += ", claimed_by = NULL"
        params = {"files": json.dumps(files, sort_keys=True)}
        await self._update(sets, params, [number], "claimed_by = %(worker)s")
        self._finished([number])

    async def mark_failed(self, numbers: Sequence[str], reason: str, *, final: bool) -> None:
        sets = "state = 'failed', final = %(final)s, reason = %(reason)s, claimed_by = NULL"
        await self._update(sets, {"final": final, "reason": reason}, numbers, "claimed_by = %(worker)s")
        self._finished(numbers)

    # -- reading ---------------------------------------------------------------------------------
    async def get(self, number: str) -> JournalRow | None:
        async def do(conn: psycopg.AsyncConnection[Any]) -> JournalRow | None:
            cur = await conn.execute(
                f"SELECT {ROW_COLUMNS} FROM invoices WHERE number = %s".encode(), (number,)
            )
            found = await cur.fetchone()
            return JournalRow._from_db(found) if found else None

        return await self._run(do, single=True, write=False)

    async def counts(self, run_id: int | None = None) -> dict[str, int]:
        async def do(conn: psycopg.AsyncConnection[Any]) -> dict[str, int]:
            if run_id is None:
                cur = await conn.execute("SELECT state, COUNT(*) FROM invoices GROUP BY state")
            else:
                cur = await conn.execute(
                    "SELECT state, COUNT(*) FROM invoices WHERE run_id = %s GROUP BY state", (run_id,)
                )
            return {str(s): int(n) for s, n in await cur.fetchall()}

        return await self._run(do, single=True, write=False)

    async def fetch_run_rows(self, run_id: int, *, after: str = "", limit: int = 1000) -> list[JournalRow]:
        async def do(conn: psycopg.AsyncConnection[Any]) -> list[JournalRow]:
            cur = await conn.execute(
                f"SELECT {ROW_COLUMNS} FROM invoices WHERE run_id = %s AND number > %s"
                " ORDER BY number LIMIT %s".encode(),
                (run_id, after, limit),
            )
            return [JournalRow._from_db(r) for r in await cur.fetchall()]

        return await self._run(do, single=True, write=False)

    async def extra_counts(self, run_id: int) -> dict[str, int]:
        async def do(conn: psycopg.AsyncConnection[Any]) -> dict[str, int]:
            cur = await conn.execute(
                "SELECT outcome, COUNT(*) FROM run_extras WHERE run_id = %s GROUP BY outcome", (run_id,)
            )
            return {str(o): int(n) for o, n in await cur.fetchall()}

        return await self._run(do, single=True, write=False)

    async def fetch_extras(self, run_id: int) -> list[tuple[str, str, str]]:
        async def do(conn: psycopg.AsyncConnection[Any]) -> list[tuple[str, str, str]]:
            cur = await conn.execute(
                "SELECT number, outcome, reason FROM run_extras WHERE run_id = %s ORDER BY id", (run_id,)
            )
            return [(str(a), str(b), str(c)) for a, b, c in await cur.fetchall()]

        return await self._run(do, single=True, write=False)

    def row_source(self, run_id: int, *, chunk: int = 1000) -> PostgresRowSource:
        return PostgresRowSource(self._conninfo, self.schema, run_id, chunk=chunk, display=self.display)

    # -- workers and claims ----------------------------------------------------------------------
    async def _register_worker(self, worker: Worker) -> None:
        async def do(conn: psycopg.AsyncConnection[Any]) -> None:
            cur = await conn.execute("SELECT 1 FROM runs WHERE id = %s", (worker.run_id,))
            if await cur.fetchone() is None:
                raise JournalError(f"no run {worker.run_id} in the journal {self.display}")
            await conn.execute(
                "INSERT INTO workers (id, run_id, name, host, pid, started_at, heartbeat_at, lease_until)"
                f" VALUES (%s, %s, %s, %s, %s, {NOW}, {NOW}, {NOW} + %s)".encode(),
                (worker.id, worker.run_id, worker.name, worker.host, worker.pid, worker.lease),
            )

        await self._run(do, retry=False)

    async def _renew_worker(self, worker: Worker) -> bool:
        async def do(conn: psycopg.AsyncConnection[Any]) -> bool:
            cur = await conn.execute(
                f"UPDATE workers SET heartbeat_at = {NOW}, lease_until = {NOW} + %s"
                " WHERE id = %s AND stopped_at IS NULL".encode(),
                (worker.lease, worker.id),
            )
            return cur.rowcount == 1

        return await self._run(do, single=True)

    async def _claim(self, worker: Worker, limit: int) -> list[Claim]:
        async def do(conn: psycopg.AsyncConnection[Any]) -> list[Claim]:
            cur = await conn.execute(
                _CLAIM.encode(), {"run": worker.run_id, "worker": worker.id, "limit": limit}
            )
            rows = await cur.fetchall()
            claims = [Claim(JournalRow._from_db(r[:-2]), _bytes(r[-2]), int(r[-1])) for r in rows]
            claims.sort(key=lambda c: c.row.number)
            return claims

        return await self._run(do, single=True, retry=False)

    async def _release(self, worker: Worker, numbers: Sequence[str] | None) -> int:
        async def do(conn: psycopg.AsyncConnection[Any]) -> int:
            if numbers is None:
                cur = await conn.execute(
                    "UPDATE invoices SET claimed_by = NULL WHERE claimed_by = %s", (worker.id,)
                )
            else:
                cur = await conn.execute(
                    "UPDATE invoices SET claimed_by = NULL WHERE claimed_by = %s AND number = ANY(%s)",
                    (worker.id, list(numbers)),
                )
            return cur.rowcount

        return await self._run(do, single=True)

    async def _stop_worker(self, worker: Worker) -> None:
        async def do(conn: psycopg.AsyncConnection[Any]) -> None:
            await conn.execute("UPDATE invoices SET claimed_by = NULL WHERE claimed_by = %s", (worker.id,))
            await conn.execute(
                f"UPDATE workers SET stopped_at = {NOW}, lease_until = {NOW} WHERE id = %s".encode(),
                (worker.id,),
            )

        await self._run(do)


# -- helpers -------------------------------------------------------------------------------------------


def _safe(exc: BaseException, spec: str) -> str:
    """The error's text without the connection password (libpq does not print it, but be sure)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    password = urllib.parse.urlsplit(spec).password
    return text.replace(password, "***") if password else text


def _one(row: Any) -> Any:
    if row is None:
        raise JournalError("the database returned no row")
    return row


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


async def _version(conn: psycopg.AsyncConnection[Any]) -> int:
    cur = await conn.execute("SELECT MAX(version) FROM journal_schema")
    found = await cur.fetchone()
    return int(found[0] or 0) if found else 0


async def _run_info(conn: psycopg.AsyncConnection[Any], run_id: int) -> RunInfo | None:
    cur = await conn.execute(
        "SELECT id, name, started_at, finished_at, outcome FROM runs WHERE id = %s", (run_id,)
    )
    run = await cur.fetchone()
    if run is None:
        return None
    cur = await conn.execute(
        "SELECT state, COUNT(*) FROM invoices WHERE run_id = %s GROUP BY state", (run_id,)
    )
    counts = {str(s): int(n) for s, n in await cur.fetchall()}
    cur = await conn.execute("SELECT COUNT(*) FROM run_extras WHERE run_id = %s", (run_id,))
    extras = int(_one(await cur.fetchone())[0])
    cur = await conn.execute(
        "SELECT w.id, w.name, w.host, w.pid, w.started_at, w.heartbeat_at, w.lease_until, w.stopped_at,"
        f" ({_LIVE}) AS alive,"
        f" (SELECT COUNT(*) FROM invoices i WHERE i.claimed_by = w.id AND i.state IN ({_ACTIVE_SQL}))"
        " FROM workers w WHERE w.run_id = %s ORDER BY w.started_at".encode(),
        (run_id,),
    )
    workers = tuple(
        WorkerInfo(str(wid), name, host, int(pid), s, b, lease, stopped, bool(alive), int(claimed))
        for wid, name, host, pid, s, b, lease, stopped, alive, claimed in await cur.fetchall()
    )
    claimed_total = sum(w.claimed for w in workers if w.alive)
    return RunInfo(int(run[0]), run[1], run[2], run[3], run[4], counts, extras, claimed_total, workers)


class PostgresRowSource:
    """A run's rows and extras, streamed with a server-side cursor on a connection of its own."""

    __slots__ = ("chunk", "conninfo", "display", "run_id", "schema")

    def __init__(
        self, conninfo: str, schema: str, run_id: int, *, chunk: int = 1000, display: str = ""
    ) -> None:
        self.conninfo = conninfo
        self.schema = schema
        self.run_id = run_id
        self.chunk = chunk
        self.display = display

    def _stream(self, query: str, name: str) -> Iterator[tuple[Any, ...]]:
        with psycopg.connect(self.conninfo, application_name="faktoora-async report") as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            with conn.cursor(name=name) as cur:
                cur.itersize = self.chunk
                cur.execute(query.encode(), (self.run_id,))
                yield from cur

    def iter_rows(self) -> Iterator[JournalRow]:
        query = f"SELECT {ROW_COLUMNS} FROM invoices WHERE run_id = %s ORDER BY number"
        for r in self._stream(query, "faktoora_rows"):
            yield JournalRow._from_db(r)

    def iter_extras(self) -> Iterator[tuple[str, str, str]]:
        query = "SELECT number, outcome, reason FROM run_extras WHERE run_id = %s ORDER BY id"
        for number, outcome, reason in self._stream(query, "faktoora_extras"):
            yield str(number), str(outcome), str(reason)
