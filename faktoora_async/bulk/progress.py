"""Progress events of a bulk run (the CLI turns them into rich progress bars)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["EVENT_KINDS", "ProgressCallback", "ProgressEvent"]

# planned     an input invoice was read and journalled (also counts resumed/skipped ones)
# submitting  a batch is about to be POSTed (``count`` invoices; journal already says submitting)
# posted      the POST returned 202; the journal does not know the faktooraIds yet
# submitted   invoices have their faktooraId in the journal (also resumed ones that already had it)
# ready       an invoice's file exists on the server (journal says ready; downloads start; also resumed)
# downloaded  every requested file of an invoice is on disk and journalled
# failed      an invoice failed (reason in the report)
# skipped     an invoice was already done by an earlier run
# conflict    an invoice number was journalled with a different payload: not sent
EVENT_KINDS = (
    "planned", "submitting", "posted", "submitted", "ready", "downloaded", "failed", "skipped", "conflict",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """``count`` invoices just reached ``kind``; ``totals`` has the running totals of every kind."""

    kind: str
    count: int
    totals: Mapping[str, int]


ProgressCallback = Callable[[ProgressEvent], None]
