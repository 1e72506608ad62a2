"""Bulk month-end runs: a resumable, journalled pipeline on top of the client.

::

    async with FaktooraClient(api_key) as client:
        runner = BulkRunner(client, journal="march.sqlite", out_dir="out/march")
        report = await runner.run(invoices)  # any iterable or async iterable of payloads
"""

from __future__ import annotations

from .journal import Journal, JournalRow, read_rows
from .progress import ProgressCallback, ProgressEvent
from .report import ReportRow, RunReport
from .runner import BulkRunner, file_stem, payload_hash

__all__ = [
    "BulkRunner",
    "Journal",
    "JournalRow",
    "ProgressCallback",
    "ProgressEvent",
    "ReportRow",
    "RunReport",
    "file_stem",
    "payload_hash",
    "read_rows",
]
