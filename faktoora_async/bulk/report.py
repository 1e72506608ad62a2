"""The outcome of a bulk run: counts, a row per invoice, request counts; ``report.json`` + ``report.csv``."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ReportRow", "RunReport", "write_atomic"]

# Outcome of one invoice in a report row.
DONE = "done"  # every requested file is on disk (in this run or an earlier one)
FAILED = "failed"  # see ``reason``
CONFLICT = "conflict"  # a different payload was journalled under this number: nothing sent
PENDING = "pending"  # the run stopped (cancelled) before the invoice finished; a new run resumes it


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


@dataclass(slots=True)
class RunReport:
    """Everything a run did.  ``counts`` maps outcome -> number of invoices."""

    run_id: int
    out_dir: Path
    journal: Path
    counts: dict[str, int]
    rows: list[ReportRow]
    requests: dict[str, int]
    polls_per_invoice: float
    wall_time: float
    interrupted: bool = False
    already_done: int = 0
    journal_stats: dict[str, float] = field(default_factory=dict)  # transactions, seconds in SQLite
    wait_stats: dict[str, int] = field(default_factory=dict)  # waited, first_poll_hits, webhook_ready

    @property
    def ok(self) -> bool:
        """True when every invoice of the run ended done."""
        return not self.interrupted and all(r.outcome == DONE for r in self.rows)

    @property
    def failed(self) -> list[ReportRow]:
        return [r for r in self.rows if r.outcome != DONE]

    @property
    def total(self) -> int:
        return len(self.rows)

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

    def to_json_bytes(self) -> bytes:
        doc = {
            **self.summary(),
            "out_dir": str(self.out_dir),
            "journal_path": str(self.journal),
            "invoices": [_row_dict(r) for r in self.rows],
        }
        return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")

    def to_csv_bytes(self) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(
            ["invoice_number", "outcome", "state", "faktoora_id", "attempts", "pdf", "pdf_sha256", "xml",
             "xml_sha256", "rule_ids", "reason"]
        )  # fmt: skip
        for r in self.rows:
            w.writerow(
                [
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
            )
        return buf.getvalue().encode("utf-8")

    def write(self, out_dir: Path | None = None) -> tuple[Path, Path]:
        """Write ``report.json`` and ``report.csv`` atomically into ``out_dir``; return both paths."""
        target = Path(out_dir or self.out_dir)
        json_path = write_atomic(target / "report.json", self.to_json_bytes())
        csv_path = write_atomic(target / "report.csv", self.to_csv_bytes())
        return json_path, csv_path


def _row_dict(r: ReportRow) -> dict[str, Any]:
    d = asdict(r)
    d["rule_ids"] = list(r.rule_ids)
    return d


def _csv_safe(text: str) -> str:
    # Spreadsheet formula injection: a cell starting with these is treated as a formula by Excel & co.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temp file beside ``path``, fsync, rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def count_outcomes(rows: Iterable[ReportRow]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    return counts
