"""The journal schemas of both backends, as numbered migrations (applied in order, each exactly once).

Each backend records the versions it applied in a ``journal_schema`` table and, when it opens a journal,
applies the missing ones in one transaction (SQLite: under its write lock; PostgreSQL: under an advisory
lock), so processes opening the same journal together never race.  A journal at a version newer than
the last one here is refused.  To change the schema, append a version; never edit a released one.

SQLite's version 1 is the schema of the first release, whose files carry no version table: they are
migrated in place.  PostgreSQL's version 1 already has everything SQLite's version 2 adds.
"""

from __future__ import annotations

__all__ = ["POSTGRES_MIGRATIONS", "SQLITE_MIGRATIONS", "Migrations"]

Migrations = tuple[tuple[int, tuple[str, ...]], ...]

# Version 1: the schema of the first release (files made by it carry no version table).
_SQLITE_V1 = (
    """CREATE TABLE IF NOT EXISTS invoices (
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
    )""",
    "CREATE INDEX IF NOT EXISTS invoices_run ON invoices (run_id, state)",
    """CREATE TABLE IF NOT EXISTS runs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at  REAL NOT NULL,
        finished_at REAL,
        outcome     TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS run_extras (
        run_id       INTEGER NOT NULL,
        number       TEXT NOT NULL,
        outcome      TEXT NOT NULL,
        reason       TEXT NOT NULL,
        payload_hash TEXT
    )""",
)
# Version 2: journalled payloads, run names, workers and claims.
_SQLITE_V2 = (
    "ALTER TABLE invoices ADD COLUMN payload BLOB",
    "ALTER TABLE invoices ADD COLUMN claimed_by TEXT",
    "ALTER TABLE invoices ADD COLUMN claims INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE runs ADD COLUMN name TEXT",
    "CREATE INDEX invoices_claimed ON invoices (claimed_by) WHERE claimed_by IS NOT NULL",
    "CREATE INDEX run_extras_run ON run_extras (run_id)",
    """CREATE TABLE workers (
        id           TEXT PRIMARY KEY,
        run_id       INTEGER NOT NULL,
        name         TEXT NOT NULL,
        host         TEXT NOT NULL,
        pid          INTEGER NOT NULL,
        started_at   REAL NOT NULL,
        heartbeat_at REAL NOT NULL,
        lease_until  REAL NOT NULL,
        stopped_at   REAL
    )""",
    "CREATE INDEX workers_run ON workers (run_id)",
)
SQLITE_MIGRATIONS: Migrations = ((1, _SQLITE_V1), (2, _SQLITE_V2))

_STATES = "'planned', 'submitting', 'submitted', 'ready', 'downloaded', 'failed'"
_PG_V1 = (
    """CREATE TABLE runs (
        id          BIGSERIAL PRIMARY KEY,
        name        TEXT,
        started_at  DOUBLE PRECISION NOT NULL,
        finished_at DOUBLE PRECISION,
        outcome     TEXT
    )""",
    f"""CREATE TABLE invoices (
        number       TEXT PRIMARY KEY,
        payload_hash TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ({_STATES})),
        faktoora_id  TEXT,
        attempts     INTEGER NOT NULL DEFAULT 0,
        final        BOOLEAN NOT NULL DEFAULT FALSE,
        reason       TEXT,
        rule_ids     TEXT,
        files        TEXT,
        run_id       BIGINT REFERENCES runs (id),
        payload      BYTEA,
        claimed_by   TEXT,
        claims       INTEGER NOT NULL DEFAULT 0,
        created_at   DOUBLE PRECISION NOT NULL,
        updated_at   DOUBLE PRECISION NOT NULL,
        submitted_at DOUBLE PRECISION,
        ready_at     DOUBLE PRECISION,
        done_at      DOUBLE PRECISION
    )""",
    "CREATE INDEX invoices_run ON invoices (run_id, state, number)",
    "CREATE INDEX invoices_claimed ON invoices (claimed_by) WHERE claimed_by IS NOT NULL",
    """CREATE TABLE run_extras (
        id           BIGSERIAL PRIMARY KEY,
        run_id       BIGINT NOT NULL,
        number       TEXT NOT NULL,
        outcome      TEXT NOT NULL,
        reason       TEXT NOT NULL,
        payload_hash TEXT
    )""",
    "CREATE INDEX run_extras_run ON run_extras (run_id, id)",
    """CREATE TABLE workers (
        id           TEXT PRIMARY KEY,
        run_id       BIGINT NOT NULL REFERENCES runs (id),
        name         TEXT NOT NULL,
        host         TEXT NOT NULL,
        pid          INTEGER NOT NULL,
        started_at   DOUBLE PRECISION NOT NULL,
        heartbeat_at DOUBLE PRECISION NOT NULL,
        lease_until  DOUBLE PRECISION NOT NULL,
        stopped_at   DOUBLE PRECISION
    )""",
    "CREATE INDEX workers_run ON workers (run_id)",
)
POSTGRES_MIGRATIONS: Migrations = ((1, _PG_V1),)
