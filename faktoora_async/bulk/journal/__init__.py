"""The bulk run journal: one row per invoice, written before every network step.

The journal is what makes a killed run resumable without duplicates, and what lets several worker
processes share one run.  Two backends behind one interface (:class:`Journal`):

* SQLite (the default): ``Journal("march.sqlite")``, a file on this host (see :mod:`.sqlite`);
* PostgreSQL: ``Journal("postgresql://user@host/db")``, shared by workers on any host (see :mod:`.postgres`,
  extra ``[postgres]``).

``open_journal(spec)`` is the same choice as a function.  States, claims and the exactly-once rules are
described in :mod:`._base`.
"""

from __future__ import annotations

import os

from ._base import (
    DEFAULT_LEASE,
    PLANNED,
    STATES,
    TERMINAL,
    Claim,
    Journal,
    JournalError,
    JournalRow,
    Planned,
    PlanResult,
    RowSource,
    RunInfo,
    State,
    Worker,
    WorkerInfo,
    backend_class,
    is_url,
    redact_spec,
)
from .sqlite import SQLiteJournal, SQLiteRowSource, iter_run_rows, read_rows, sqlite_path

__all__ = [
    "DEFAULT_LEASE", "PLANNED", "STATES", "TERMINAL", "Claim", "Journal", "JournalError", "JournalRow",
    "PlanResult", "Planned", "RowSource", "RunInfo", "SQLiteJournal", "SQLiteRowSource", "State", "Worker",
    "WorkerInfo", "backend_class", "is_url", "iter_run_rows", "open_journal", "read_rows", "redact_spec",
    "sqlite_path",
]  # fmt: skip


def open_journal(spec: str | os.PathLike[str], **options: object) -> Journal:
    """The journal for ``spec``, not yet opened: use ``async with open_journal(spec) as journal:``.

    ``spec``: a SQLite file path (or ``sqlite:///path``), or a ``postgresql://`` / ``postgres://`` URL
    (``?schema=name`` picks the PostgreSQL schema, default ``faktoora``).  ``options`` go to the backend
    (PostgreSQL: ``pool_size``, ``connect_timeout``).  An unknown URL scheme is a
    :class:`~faktoora_async.errors.ConfigurationError`; a missing ``[postgres]`` extra too.
    """
    return backend_class(spec)(spec, **options)
