"""The state of one bulk run, shared by its stages (plan, submit, wait, download).

A :class:`Run` is created by :meth:`BulkRunner.run` for one run and dropped after it: the stages get it
as their first argument, record outcomes in the journal through it, and return nothing on the runner.
Errors that no invoice can survive (a bad API key, an unreachable host, an unwritable output folder)
stop the whole run through :meth:`Run.abort`: one reason, raised once from ``run()``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import msgspec

from .. import errors
from ..files import TruncatedDownloadError
from ..protocol import WireInvoice
from .journal import Journal
from .progress import ProgressCallback, ProgressEvent

if TYPE_CHECKING:
    from ..client import FaktooraClient

__all__ = ["Item", "Run", "RunOptions", "is_permanent", "with_hint"]

logger = logging.getLogger("faktoora_async.bulk")
_PACK = msgspec.json.Encoder()


@dataclass(slots=True)
class Item:
    """One invoice moving through the stages."""

    number: str
    wire: WireInvoice | None = None  # kept until the files are on disk: a lost invoice can be sent again
    faktoora_id: str | None = None
    attempts: int = 0  # POSTs of this invoice that may have reached the server (journal: all POSTs)
    lookup_first: bool = False  # an earlier POST may have arrived: look the number up before sending
    submitted_at: float | None = None  # time.time() of the 202 (or of the earlier run's)
    resumed: bool = False  # submitted by an earlier run
    relocations: int = 0  # times its faktooraId turned out wrong (404, another invoice's document)
    packed: bytes | None = None  # the wire payload as JSON once submitted: a fraction of the dict's memory

    def pack(self) -> None:
        """Keep the payload compactly while the invoice waits and downloads (only a relocation needs it)."""
        if self.wire is not None:
            self.packed = _PACK.encode(self.wire.payload)
            self.wire = None

    def wire_form(self) -> WireInvoice | None:
        """The wire form, unpacked again when needed."""
        if self.wire is None and self.packed is not None:
            return WireInvoice(msgspec.json.decode(self.packed))
        return self.wire


@dataclass(frozen=True, slots=True)
class RunOptions:
    out_dir: Path
    formats: tuple[str, ...]
    batch_size: int
    concurrency: int
    max_waiting: int
    wait_timeout: float
    preflight: bool
    webhooks: bool | None
    max_resends: int
    verify_documents: bool
    sweep: bool | None = None


@dataclass(slots=True)
class Counters:
    totals: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    waited: int = 0
    not_ready_downloads: int = 0
    wrong_documents: int = 0
    relocated: int = 0


def is_permanent(exc: BaseException) -> bool:
    """An error no other invoice of the run can escape: stop the run instead of failing each invoice."""
    if isinstance(exc, (errors.AuthenticationError, errors.PermissionDeniedError, errors.ConfigurationError)):
        return True
    if isinstance(exc, errors.ConnectError):  # refused, DNS, TLS: after the transport's own retries
        return True
    return isinstance(exc, errors.DownloadError) and not isinstance(exc, TruncatedDownloadError)


_RESUME = "nothing is lost: fix it and run the same command again to resume"


def with_hint(exc: errors.FaktooraError) -> errors.FaktooraError:
    """``exc`` with what to do appended to its message (one line for the CLI), for a stopped run."""
    if isinstance(exc, errors.AuthenticationError):
        hint = "the API key was refused: check FAKTOORA_API_KEY or --api-key"
    elif isinstance(exc, errors.PermissionDeniedError):
        hint = "the account may not do this: check its features and permissions"
    elif isinstance(exc, errors.ConnectError):
        hint = "the server cannot be reached: check the base URL and the network"
    elif isinstance(exc, errors.DownloadError):
        hint = "the files cannot be written: free disk space or make the output folder writable"
    else:
        hint = ""
    text = " ".join(str(exc).split())  # one line
    exc.args = (f"{text} ({hint}); {_RESUME}" if hint else f"{text}; {_RESUME}",)
    return exc


class Run:
    """One run: the client, the journal, the options, the counters and the stop switch."""

    def __init__(
        self,
        client: FaktooraClient,
        journal: Journal,
        run_id: int,
        options: RunOptions,
        progress: ProgressCallback | None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.run_id = run_id
        self.options = options
        self.progress = progress
        self.counters = Counters()
        self.fatal: errors.FaktooraError | None = None
        self.input_error: Exception | None = None
        self.scope: anyio.CancelScope | None = None
        self.positions: dict[str, int] = {}  # invoice number -> its first position in the input

    def emit(self, kind: str, count: int = 1) -> None:
        totals = self.counters.totals
        totals[kind] = totals.get(kind, 0) + count
        if self.progress is not None:
            self.progress(ProgressEvent(kind, count, dict(totals)))

    def count_request(self, kind: str) -> None:
        self.counters.requests[kind] = self.counters.requests.get(kind, 0) + 1

    def abort(self, exc: errors.FaktooraError) -> None:
        """Stop the whole run: nothing else can succeed (the journal keeps everything for a resume)."""
        if self.fatal is None:
            logger.error("bulk run stopped: %s", exc)
            self.fatal = exc
        if self.scope is not None:
            self.scope.cancel()

    @property
    def stopping(self) -> bool:
        return self.fatal is not None

    async def fail(self, items: Sequence[Item], reason: str, *, final: bool = False) -> None:
        if not items:
            return
        for item in items:
            logger.warning("invoice %s failed: %s", item.number, reason)
        await self.journal.mark_failed([i.number for i in items], reason, final=final)
        self.emit("failed", len(items))

    async def fail_or_abort(self, items: Sequence[Item], exc: errors.FaktooraError, what: str) -> None:
        """A permanent error stops the run; any other fails ``items`` (a new run tries them again)."""
        if is_permanent(exc):
            self.abort(exc)
        else:
            await self.fail(items, f"{what}: {exc}")
