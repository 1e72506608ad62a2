"""The outcome of a bulk run: counts, a row per invoice, request counts; ``report.json`` + ``report.csv``.

Memory: a :class:`RunReport` made by the runner holds only counts, request counts and timings.  Its
per-invoice rows stay in the journal: :meth:`RunReport.iter_rows` streams them from the journal in chunks of
:data:`CHUNK` rows, and :meth:`RunReport.write` streams them into temp files that are then renamed over
``report.json`` / ``report.csv``.  So writing the report of a 100,000-invoice run needs a few MB, not one
object per invoice.  ``rows`` and ``failed`` still return lists (read from the journal on each access,
never kept): handy for small runs and tests, but O(invoices) memory, so big runs use ``iter_rows()`` /
``iter_failed()`` or the files.  Rows read from the journal show its state when read (a later run over the
same journal takes its invoices over); ``report.json`` / ``report.csv`` are the snapshot at the end of the
run.  Reading rows is blocking file I/O: the runner writes the report in a worker thread.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import msgspec

from ..files import AtomicWriter, write_atomic
from .journal import JournalRow, RowSource, SQLiteRowSource

__all__ = ["ReportRow", "RunReport", "write_atomic"]

# Outcome of one invoice in a report row.
DONE = "done"  # every requested file is on disk (in this run or an earlier one)
FAILED = "failed"  # see ``reason``
CONFLICT = "conflict"  # a different payload was journalled under this number: nothing sent
PENDING = "pending"  # the run stopped (cancelled) before the invoice finished; a new run resumes it

CHUNK = 1000  # rows fetched from the journal at a time

_CSV_HEADER = (
    "invoice_number", "outcome", "state", "faktoora_id", "attempts", "pdf", "pdf_sha256", "xml",
    "xml_sha256", "rule_ids", "reason",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One invoice of the run."""

    number: str
    outcome: str
    state: str
    faktoora_id: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # format -> path relative to out_dir
    sha256: dict[str, str] = field(default_factory=dict)  # format -> hex digest
    reason: str | None = None
    rule_ids: tuple[str, ...] = ()
    attempts: int = 0


def report_row(r: JournalRow, interrupted: bool) -> ReportRow:
    """The report row of one journal row (``interrupted``: unfinished rows are ``pending``)."""
    if r.state == "downloaded":
        outcome, reason = DONE, None
    elif r.state == "failed":
        outcome, reason = FAILED, r.reason
    elif interrupted:
        outcome, reason = PENDING, "the run stopped before this invoice finished; run again to resume"
    else:
        outcome, reason = FAILED, f"did not finish (left in {r.state})"
    return ReportRow(
        number=r.number,
        outcome=outcome,
        state=r.state,
        faktoora_id=r.faktoora_id,
        files={k: str(v.get("path", "")) for k, v in r.files.items()},
        sha256={k: str(v.get("sha256", "")) for k, v in r.files.items()},
        reason=reason,
        rule_ids=r.rule_ids,
        attempts=r.attempts,
    )


def outcome_counts(
    state_counts: dict[str, int], extra_counts: dict[str, int], interrupted: bool
) -> dict[str, int]:
    """Outcome -> invoices from a run's per-state journal counts (the mapping of :func:`report_row`)."""
    counts: dict[str, int] = {}
    for state, n in state_counts.items():
        unfinished = state not in ("downloaded", "failed")
        outcome = DONE if state == "downloaded" else PENDING if interrupted and unfinished else FAILED
        counts[outcome] = counts.get(outcome, 0) + n
    for outcome, n in extra_counts.items():
        counts[outcome] = counts.get(outcome, 0) + n
    return counts


class JournalRows:
    """The rows of one run, streamed from its journal on every iteration (never held).

    ``source``: a SQLite journal file's path, or any journal's :meth:`~.journal.Journal.row_source`.
    """

    __slots__ = ("interrupted", "run_id", "source")

    def __init__(self, source: str | os.PathLike[str] | RowSource, run_id: int, *, interrupted: bool) -> None:
        if isinstance(source, (str, os.PathLike)):
            source = SQLiteRowSource(Path(source), run_id, chunk=CHUNK)
        self.source: RowSource = source
        self.run_id = run_id
        self.interrupted = interrupted

    def __iter__(self) -> Iterator[ReportRow]:
        for r in self.source.iter_rows():
            yield report_row(r, self.interrupted)
        for number, outcome, reason in self.source.iter_extras():
            yield ReportRow(number=number, outcome=outcome, state="not journalled", reason=reason)


class RunReport:
    """Everything a run did.  ``counts`` maps outcome -> number of invoices.

    ``rows`` is either a list (a report built by hand) or a re-iterable source such as :class:`JournalRows`
    (the runner's reports: rows stay in the journal).  See the module docstring for the memory trade-offs.
    """

    __slots__ = (
        "_rows", "already_done", "counts", "interrupted", "journal", "journal_stats", "out_dir",
        "polls_per_invoice", "requests", "run_id", "wait_stats", "wall_time",
    )  # fmt: skip

    def __init__(
        self,
        run_id: int,
        out_dir: Path,
        journal: Path | str,  # a SQLite file, or a database URL without its password
        counts: dict[str, int],
        rows: Sequence[ReportRow] | Iterable[ReportRow],
        requests: dict[str, int],
        polls_per_invoice: float,
        wall_time: float,
        interrupted: bool = False,
        already_done: int = 0,
        journal_stats: dict[str, float] | None = None,  # transactions, seconds in SQLite
        wait_stats: dict[str, int] | None = None,  # waited, first_poll_hits, webhook_ready
    ) -> None:
        self.run_id = run_id
        self.out_dir = out_dir
        self.journal = journal
        self.counts = counts
        self._rows: Iterable[ReportRow] = rows
        self.requests = requests
        self.polls_per_invoice = polls_per_invoice
        self.wall_time = wall_time
        self.interrupted = interrupted
        self.already_done = already_done
        self.journal_stats: dict[str, float] = journal_stats if journal_stats is not None else {}
        self.wait_stats: dict[str, int] = wait_stats if wait_stats is not None else {}

    def __repr__(self) -> str:
        return f"RunReport(run_id={self.run_id}, counts={self.counts!r}, interrupted={self.interrupted})"

    # -- rows --------------------------------------------------------------------------------------
    def iter_rows(self) -> Iterator[ReportRow]:
        """Every invoice of the run, streamed (invoice-number order, then the not-journalled ones)."""
        return iter(self._rows)

    def iter_failed(self) -> Iterator[ReportRow]:
        """The invoices that did not end ``done``, streamed."""
        return (r for r in self.iter_rows() if r.outcome != DONE)

    @property
    def rows(self) -> list[ReportRow]:
        """Every row as a list: O(invoices) memory, read anew on each access (prefer :meth:`iter_rows`)."""
        return list(self.iter_rows())

    @property
    def failed(self) -> list[ReportRow]:
        """The rows that did not end ``done`` (read anew on each access)."""
        return list(self.iter_failed())

    @property
    def ok(self) -> bool:
        """True when every invoice of the run ended done."""
        if self.interrupted:
            return False
        if isinstance(self._rows, Sequence):  # rows given in memory: judge them, as before
            return all(r.outcome == DONE for r in self._rows)
        return all(outcome == DONE for outcome, n in self.counts.items() if n)

    @property
    def total(self) -> int:
        """Invoices in the run (from ``counts`` when the rows stay in the journal)."""
        return len(self._rows) if isinstance(self._rows, Sequence) else sum(self.counts.values())

    # -- output ------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "total": self.total,
            "counts": dict(self.counts),
            "already_done": self.already_done,
            "requests": dict(self.requests),
            "polls_per_invoice": round(self.polls_per_invoice, 3),
            "wall_time_s": round(self.wall_time, 3),
            "interrupted": self.interrupted,
            "journal": dict(self.journal_stats),
            "waits": dict(self.wait_stats),
        }

    def write_json(self, fh: IO[str]) -> None:
        """Stream ``report.json`` into ``fh``: the summary, then ``invoices`` one row at a time."""
        self._write_both(fh, None)

    def write_csv(self, fh: IO[str]) -> None:
        """Stream ``report.csv`` into ``fh`` (cells protected against spreadsheet formulas)."""
        self._write_both(None, fh)

    def _json_head(self) -> str:
        head = {
            **self.summary(),
            "out_dir": str(self.out_dir),
            "journal_path": str(self.journal),
            "invoices": [],
        }
        text = json.dumps(head, ensure_ascii=False, indent=1)
        # Same layout as ``json.dumps(doc, indent=1)`` of the whole document: split at the empty list.
        assert text.endswith('"invoices": []\n}')
        return text[: -len("[]\n}")] + "["

    def _write_both(self, json_fh: IO[str] | None, csv_fh: IO[str] | None) -> None:
        """One pass over the rows (the journal is read once) feeding either file or both."""
        w = csv.writer(csv_fh, lineterminator="\n") if csv_fh is not None else None
        if json_fh is not None:
            json_fh.write(self._json_head())
        if w is not None:
            w.writerow(_CSV_HEADER)
        first = True
        for r in self.iter_rows():
            if json_fh is not None:
                # msgspec writes what ``json.dumps(..., ensure_ascii=False, indent=1)`` writes, ~10x faster
                item = _format(_ENCODE(_row_dict(r)), indent=1).decode("utf-8").replace("\n", "\n  ")
                json_fh.write(("\n  " if first else ",\n  ") + item)
            if w is not None:
                w.writerow(_csv_row(r))
            first = False
        if json_fh is not None:
            json_fh.write("]\n}" if first else "\n ]\n}")

    def to_json_bytes(self) -> bytes:
        """The whole ``report.json`` in memory (small runs; :meth:`write` streams)."""
        return _collect(self.write_json)

    def to_csv_bytes(self) -> bytes:
        """The whole ``report.csv`` in memory (small runs; :meth:`write` streams)."""
        return _collect(self.write_csv)

    def write(self, out_dir: Path | None = None) -> tuple[Path, Path]:
        """Stream ``report.json`` and ``report.csv`` to temp files in ``out_dir`` (one pass over the rows)
        and rename them: each name holds its old file or its complete new one, never a part."""
        target = Path(out_dir or self.out_dir)
        with (
            AtomicWriter(target / "report.json", text=True) as jw,
            AtomicWriter(target / "report.csv", text=True) as cw,
        ):
            assert jw.file is not None and cw.file is not None
            self._write_both(jw.file, cw.file)
            return jw.commit(), cw.commit()


def _csv_row(r: ReportRow) -> list[Any]:
    return [
        _csv_safe(r.number),
        r.outcome,
        r.state,
        r.faktoora_id or "",
        r.attempts,
        r.files.get("pdf", ""),
        r.sha256.get("pdf", ""),
        r.files.get("xml", ""),
        r.sha256.get("xml", ""),
        " ".join(r.rule_ids),
        _csv_safe(r.reason or ""),
    ]


_ENCODE = msgspec.json.Encoder().encode
_format = msgspec.json.format


def _collect(fill: Callable[[IO[str]], None]) -> bytes:
    import io

    buf = io.StringIO()
    fill(buf)
    return buf.getvalue().encode("utf-8")


def _row_dict(r: ReportRow) -> dict[str, Any]:
    # by hand, in field order: dataclasses.asdict() deep-copies every value (most of a report's time)
    return {
        "number": r.number,
        "outcome": r.outcome,
        "state": r.state,
        "faktoora_id": r.faktoora_id,
        "files": dict(r.files),
        "sha256": dict(r.sha256),
        "reason": r.reason,
        "rule_ids": list(r.rule_ids),
        "attempts": r.attempts,
    }


def _csv_safe(text: str) -> str:
    # Spreadsheet formula injection: a cell starting with these is treated as a formula by Excel & co.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def count_outcomes(rows: Iterable[ReportRow]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    return counts
