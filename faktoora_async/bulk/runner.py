"""Month-end bulk runs: plan -> pre-flight -> batched submit -> wait -> streamed download -> done.

The runner sits on top of :class:`~faktoora_async.client.FaktooraClient` and uses nothing below it.
Stages are anyio tasks joined by bounded memory streams, so the input is consumed lazily and a run of
100,000 invoices holds at most a few batches in memory: the journal, not RAM, holds the state.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import math
import os
import re
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
import msgspec
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .. import errors
from ..webhooks import WebhookHub
from .journal import Journal, Planned
from .progress import ProgressCallback, ProgressEvent
from .report import FAILED, JournalRows, RunReport, outcome_counts

if TYPE_CHECKING:
    from ..client import FaktooraClient

__all__ = ["BulkRunner", "file_stem", "payload_hash"]

logger = logging.getLogger("faktoora_async.bulk")

T = TypeVar("T")

_FORMATS = ("pdf", "xml")
_READY_STATUSES = frozenset({"draft", "review", "created", "sent"})
_NAME_OK = re.compile(r"[^A-Za-z0-9._-]")

# Polling schedule (see BulkRunner.__init__).
_PROBES = 8  # invoices measuring the time to ready at a time
_PROBE_EVERY = 64  # after the first probes, one invoice in this many probes again
_PROBE_FIRST = 0.1  # a probe's first pause (s), growing by _PROBE_GROWTH per miss
_PROBE_GROWTH = 1.25
_SAMPLE_WINDOW = 32  # measurements the estimate is taken from (the latest)
_MIN_SAMPLES = 4
_FIRST_POLL_QUANTILE = 0.85
_RECHECK = 0.25  # s between looks at the estimate while an invoice waits for its first poll


def _enc_hook(obj: Any) -> Any:
    # Invoice structs carry dates as a date subclass; on the wire (and for the rules) they are YYYYMMDD.
    if isinstance(obj, datetime.date):
        return obj.strftime("%Y%m%d")
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_json_encoder = msgspec.json.Encoder(order="sorted", enc_hook=_enc_hook)


def _builtins(payload: Any) -> Any:
    """A payload as plain data: dicts as given, Invoice structs in their wire shape (camelCase, YYYYMMDD)."""
    if isinstance(payload, Mapping):
        return payload
    return msgspec.to_builtins(payload, order="sorted", enc_hook=_enc_hook)


def payload_hash(payload: Any) -> str:
    """sha256 of the payload's canonical JSON (sorted keys; Decimals as strings)."""
    return hashlib.sha256(_json_encoder.encode(_builtins(payload))).hexdigest()


def _invoice_number(payload: Any) -> str | None:
    if isinstance(payload, Mapping):
        value = payload.get("invoiceNumber")
    else:
        value = getattr(payload, "invoice_number", None)
    return value if isinstance(value, str) and value else None


def file_stem(number: str) -> str:
    """A file name stem for an invoice number that can never leave its folder.

    Characters outside ``[A-Za-z0-9._-]`` become ``_``; when anything had to change, a short hash of the
    real number is appended so that ``A/1`` and ``A_1`` never share a file.
    """
    stem = _NAME_OK.sub("_", number).lstrip(".")[:100] or "invoice"
    if stem != number:
        stem += "-" + hashlib.sha256(number.encode("utf-8")).hexdigest()[:8]
    return stem


def _attr(obj: Any, name: str, wire: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(wire, obj.get(name))
    return getattr(obj, name, None)


@dataclass(slots=True)
class _Item:
    number: str
    payload: Any = None
    faktoora_id: str | None = None
    attempts: int = 0  # POSTs of this invoice that may have reached the server (journal: all POSTs)
    lookup_first: bool = False  # the POST may have arrived: look the number up before sending again
    submitted_at: float | None = None  # wall clock
    resumed: bool = False  # submitted by an earlier run
    problem: str = "no status yet"  # why the last status poll did not find it ready


@dataclass(frozen=True, slots=True)
class _Violation:
    rule_id: str
    message: str


@dataclass(slots=True)
class _Prepared:
    position: int
    number: str | None
    payload: Any
    planned: Planned | None
    error: str | None = None


@dataclass(slots=True)
class _Counters:
    totals: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    waited: int = 0
    first_poll_hits: int = 0
    webhook_ready: int = 0
    not_ready_downloads: int = 0  # downloads answered 409 NOT_READY (then waited for by polling)


class BulkRunner:
    """Run a month-end batch of invoices through faktoora, resumably.

    ``concurrency`` caps the requests in flight (status polls, look-ups, downloads; up to 4 of them
    POSTs), ``batch_size`` (1-100) the invoices per POST, ``wait_timeout`` the seconds an invoice may take
    from its submission until its file exists.  ``progress`` is called with a :class:`ProgressEvent` on
    every step.  The journal file is created if missing and resumed if present.

    ``webhooks``: True when webhook events will be fed to ``client.events`` (e.g. a
    :class:`~faktoora_async.webhooks.WebhookReceiver` is subscribed): each invoice then waits on the hub
    first, for ``max(2 x expected time, hub_safety_poll)`` (the windows after that double), and a status
    GET is only a safety net after the window or at the deadline; a hub status of a resting state starts
    the downloads without any GET (a download answered 409 NOT_READY falls back to polling).  None (auto)
    switches to that mode once the hub has been fed its first event; False never listens to the hub.
    """

    def __init__(
        self,
        client: FaktooraClient,
        *,
        journal: str | os.PathLike[str],
        out_dir: str | os.PathLike[str],
        concurrency: int = 16,
        batch_size: int = 100,
        formats: Sequence[str] = ("pdf", "xml"),
        wait_timeout: float = 300.0,
        progress: ProgressCallback | None = None,
        preflight: bool = True,
        max_waiting: int | None = None,
        poll_cap: float = 5.0,
        max_submit_attempts: int = 8,
        max_download_attempts: int = 5,
        hub_safety_poll: float = 10.0,
        retry_backoff: float = 0.2,
        webhooks: bool | None = None,
    ) -> None:
        if not 1 <= batch_size <= 100:
            raise errors.ConfigurationError("batch_size must be between 1 and 100")
        if concurrency < 1:
            raise errors.ConfigurationError("concurrency must be >= 1")
        fmts = tuple(dict.fromkeys(f.strip().lower() for f in formats))
        if not fmts or any(f not in _FORMATS for f in fmts):
            raise errors.ConfigurationError("formats must be a non-empty subset of ('pdf', 'xml')")
        self.client = client
        self.journal_path = Path(journal)
        self.out_dir = Path(out_dir)
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.formats = fmts
        self.wait_timeout = wait_timeout
        self.progress = progress
        self.preflight = preflight
        self.max_waiting = max_waiting or max(4 * batch_size, 8 * concurrency)
        self.poll_cap = poll_cap
        self.max_submit_attempts = max_submit_attempts
        self.max_download_attempts = max_download_attempts
        self.hub_safety_poll = hub_safety_poll
        self.webhooks = webhooks
        self.retry_backoff = retry_backoff  # first pause (doubling) between the runner's own retries
        self._http = anyio.CapacityLimiter(concurrency)
        # Poll schedule (polling mode): a few "probe" invoices poll often from submission on and so measure
        # the time from submission to ready; every other invoice first polls at a high quantile of those
        # measurements (probes still under way count as longer than any), and a miss re-polls after a
        # short, growing pause.  A probe every ``_PROBE_EVERY`` invoices keeps the measurements current.
        self._samples: deque[float] = deque(maxlen=_SAMPLE_WINDOW)
        self._probing = 0
        self._waits_started = 0
        self._c = _Counters()
        self._journal: Journal | None = None
        self._run_id = 0
        self._fatal: errors.FaktooraError | None = None
        self._input_error: Exception | None = None
        self._client_stats_at_start: dict[str, int] = {}
        self.last_report: RunReport | None = None  # also set when run() was cancelled or failed
        self._scope: anyio.CancelScope | None = None

    # -- public ----------------------------------------------------------------------------------
    async def run(self, invoices: Iterable[Any] | AsyncIterable[Any]) -> RunReport:
        """Run every invoice of ``invoices`` (consumed lazily); write and return the report.

        Cancelling the run stops it cleanly: the journal stays consistent and a new run resumes it; the
        report written then lists unfinished invoices as ``pending``.
        """
        started = time.monotonic()
        self._c = _Counters()
        self._client_stats_at_start = self._client_stats()
        self._fatal = None
        self._input_error = None
        lock = _RunLock(self.journal_path)
        await anyio.to_thread.run_sync(lock.acquire)
        try:
            await anyio.to_thread.run_sync(self._prepare_out_dir)
            return await self._run_locked(invoices, started)
        finally:
            lock.release()

    async def _run_locked(self, invoices: Iterable[Any] | AsyncIterable[Any], started: float) -> RunReport:
        interrupted = True
        async with Journal(self.journal_path) as journal:
            self._journal = journal
            self._run_id = await journal.begin_run()
            logger.info("bulk run %d started (journal %s)", self._run_id, self.journal_path)
            try:
                await self._pipeline(invoices)
                if self._fatal is not None:
                    raise self._fatal
                if self._input_error is not None:
                    raise self._input_error
                interrupted = False
            finally:
                with anyio.CancelScope(shield=True):
                    report = await self._build_report(time.monotonic() - started, interrupted)
                    await anyio.to_thread.run_sync(report.write)
                    await journal.finish_run(self._run_id, "interrupted" if interrupted else "finished")
                    logger.info("bulk run %d %s: %s", self._run_id, "stopped" if interrupted else "done",
                                report.counts)  # fmt: skip
                    self.last_report = report
        return report

    def _client_stats(self) -> dict[str, int]:
        """The client's own HTTP counters (attempts incl. retries), if it exposes them."""
        stats = getattr(self.client, "stats", None)
        if not isinstance(stats, Mapping):
            return {}
        return {str(k): int(v) for k, v in stats.items() if isinstance(v, int)}

    def _prepare_out_dir(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # Temp files of a download or report write that a killed run left behind (never a final name).
        for stale in [*self.out_dir.glob(".*.part"), *self.out_dir.glob(".report.*.tmp")]:
            logger.info("removing stale temp file %s", stale.name)
            stale.unlink(missing_ok=True)

    # -- plumbing --------------------------------------------------------------------------------
    @property
    def _j(self) -> Journal:
        assert self._journal is not None
        return self._journal

    def _emit(self, kind: str, count: int = 1) -> None:
        totals = self._c.totals
        totals[kind] = totals.get(kind, 0) + count
        if self.progress is not None:
            self.progress(ProgressEvent(kind, count, dict(totals)))

    def _abort(self, exc: errors.FaktooraError) -> None:
        """Stop the whole run (e.g. the API key was revoked): nothing else can succeed."""
        if self._fatal is None:
            logger.error("bulk run stopped: %s", exc)
            self._fatal = exc
        if self._scope is not None:
            self._scope.cancel()

    def _count_request(self, kind: str) -> None:
        self._c.requests[kind] = self._c.requests.get(kind, 0) + 1

    async def _pipeline(self, invoices: Iterable[Any] | AsyncIterable[Any]) -> None:
        submit_send, submit_recv = anyio.create_memory_object_stream[list[_Item]](2)
        wait_send, wait_recv = anyio.create_memory_object_stream[_Item](self.batch_size)
        dl_send, dl_recv = anyio.create_memory_object_stream[_Item](self.batch_size)
        n_submitters = max(1, min(4, self.concurrency // 4))
        async with anyio.create_task_group() as tg:
            self._scope = tg.cancel_scope
            tg.start_soon(self._produce, invoices, submit_send, wait_send.clone(), dl_send.clone())
            for _ in range(n_submitters):
                tg.start_soon(self._submit_worker, submit_recv.clone(), wait_send.clone())
            tg.start_soon(self._wait_dispatcher, wait_recv, dl_send.clone())
            for _ in range(self.concurrency):
                tg.start_soon(self._download_worker, dl_recv.clone())
            # The originals were cloned; close them so each stream ends when its last sender is done.
            submit_recv.close()
            wait_send.close()
            dl_send.close()
            dl_recv.close()

    # -- stage 1: read, pre-flight, plan ---------------------------------------------------------
    async def _chunks(self, invoices: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[list[Any]]:
        if isinstance(invoices, AsyncIterable):
            chunk: list[Any] = []
            async for payload in invoices:
                chunk.append(payload)
                if len(chunk) >= self.batch_size:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk
            return
        iterator = iter(invoices)
        while True:
            # The source may read files or generate payloads: keep that off the event loop.
            chunk = await anyio.to_thread.run_sync(lambda: list(islice(iterator, self.batch_size)))
            if not chunk:
                return
            yield chunk

    def _prepare(self, chunk: list[Any], first_position: int) -> list[_Prepared]:
        check = _load_preflight() if self.preflight else None
        out: list[_Prepared] = []
        for offset, payload in enumerate(chunk):
            position = first_position + offset
            number = _invoice_number(payload)
            if number is None:
                out.append(_Prepared(position, None, None, None, "input has no invoiceNumber"))
                continue
            try:
                digest = payload_hash(payload)
            except (TypeError, ValueError, msgspec.EncodeError) as exc:
                out.append(_Prepared(position, number, None, None, f"payload is not JSON-encodable: {exc}"))
                continue
            violations: tuple[tuple[str, str], ...] = ()
            if check is not None:
                try:
                    found = check(_builtins(payload))
                except Exception as exc:  # a payload so malformed that the rules cannot read it
                    found = [_Violation("PREFLIGHT", f"unreadable payload: {type(exc).__name__}: {exc}")]
                violations = tuple(
                    (str(getattr(v, "rule_id", "?")), str(getattr(v, "message", v))) for v in found
                )
            out.append(_Prepared(position, number, payload, Planned(number, digest, violations)))
        return out

    async def _produce(
        self,
        invoices: Iterable[Any] | AsyncIterable[Any],
        submit_send: MemoryObjectSendStream[list[_Item]],
        wait_send: MemoryObjectSendStream[_Item],
        dl_send: MemoryObjectSendStream[_Item],
    ) -> None:
        async with submit_send, wait_send, dl_send:
            try:
                await self._produce_chunks(invoices, submit_send, wait_send, dl_send)
            except Exception as exc:
                # The input itself broke (unreadable file, a generator raising): stop reading, let the
                # invoices already under way finish, then raise it from run().
                logger.error("reading the input failed: %s: %s", type(exc).__name__, exc)
                self._input_error = exc

    async def _produce_chunks(
        self,
        invoices: Iterable[Any] | AsyncIterable[Any],
        submit_send: MemoryObjectSendStream[list[_Item]],
        wait_send: MemoryObjectSendStream[_Item],
        dl_send: MemoryObjectSendStream[_Item],
    ) -> None:
        position = 0
        async for chunk in self._chunks(invoices):
            prepared = await anyio.to_thread.run_sync(self._prepare, chunk, position)
            position += len(chunk)
            for p in prepared:
                if p.error is not None:
                    label = p.number or f"#{p.position}"
                    await self._j.add_extra(self._run_id, label, FAILED, p.error)
                    self._emit("failed")
            plans = [p for p in prepared if p.planned is not None]
            results = await self._j.plan(self._run_id, [p.planned for p in plans if p.planned])
            self._emit("planned", len(plans))
            to_submit: list[_Item] = []
            for p, res in zip(plans, results, strict=True):
                row = res.row
                if res.kind == "conflict":
                    logger.warning("invoice %s: payload differs from the journalled one; not sent", p.number)
                    self._emit("conflict")
                elif res.kind == "repeat":
                    logger.warning("invoice %s appears twice in the input; sent once", p.number)
                    await self._j.add_extra(
                        self._run_id,
                        row.number,
                        "duplicate",
                        "appears more than once in the input; sent once",
                    )
                    self._emit("failed")
                elif row.state == "downloaded":
                    self._emit("skipped")
                elif row.state == "failed" and row.final:
                    self._emit("failed")
                elif row.state in ("planned", "submitting") or row.faktoora_id is None:
                    to_submit.append(
                        _Item(row.number, p.payload, attempts=row.attempts, lookup_first=row.attempts > 0)
                    )
                elif row.state == "ready":
                    self._emit("submitted")
                    self._emit("ready")
                    await dl_send.send(_Item(row.number, faktoora_id=row.faktoora_id))
                else:  # submitted, or a retryable failure after the faktooraId was known
                    self._emit("submitted")
                    await wait_send.send(
                        _Item(
                            row.number,
                            faktoora_id=row.faktoora_id,
                            submitted_at=row.submitted_at,
                            resumed=True,
                        )
                    )
            if to_submit:
                await submit_send.send(to_submit)

    # -- stage 2: submit -------------------------------------------------------------------------
    async def _submit_worker(
        self, recv: MemoryObjectReceiveStream[list[_Item]], wait_send: MemoryObjectSendStream[_Item]
    ) -> None:
        async with recv, wait_send:
            async for items in recv:
                await self._submit_batch(items, wait_send)

    async def _submit_batch(self, items: list[_Item], wait_send: MemoryObjectSendStream[_Item]) -> None:
        fresh = [i for i in items if not i.lookup_first]
        pending = await self._reconcile([i for i in items if i.lookup_first], wait_send) + fresh
        last_error = ""
        pause = False  # after a transport/server failure; a 400/409 answer is acted on at once
        for attempt in range(self.max_submit_attempts):
            if not pending:
                return
            if pause:
                await anyio.sleep(min(self.retry_backoff * 2**attempt, 5.0))
            pause = True
            await self._j.mark_submitting([i.number for i in pending])
            self._emit("submitting", len(pending))
            try:
                async with self._http:
                    self._count_request("create")
                    created = await self.client.invoices.create([i.payload for i in pending], preflight=False)
            except errors.BadRequestError as exc:
                pending = await self._drop_rejected(pending, exc)
                last_error, pause = str(exc), False
                continue
            except errors.DuplicateInvoiceNumberError as exc:
                pending = await self._handle_duplicates(pending, exc, wait_send)
                last_error, pause = str(exc), False
                continue
            except (
                errors.AuthenticationError,
                errors.PermissionDeniedError,
                errors.ConfigurationError,
            ) as exc:
                self._abort(exc)
                return
            except (errors.ConnectError, errors.RateLimitError) as exc:  # never processed: plain resend
                last_error = str(exc)
                continue
            except (errors.TransportError, errors.ServerError, errors.ResponseDecodeError,
                    errors.ConflictError) as exc:  # fmt: skip
                # The POST may have been acted on: look every number up before anything is re-sent.
                last_error = str(exc)
                logger.info(
                    "POST of %d invoices is ambiguous (%s); reconciling", len(pending), type(exc).__name__
                )
                for i in pending:
                    i.attempts += 1
                pending = await self._reconcile(pending, wait_send)
                continue
            except errors.APIStatusError as exc:
                await self._fail(pending, f"rejected by the server: {exc}", final=True)
                return
            self._emit("posted", len(pending))
            if len(created) != len(pending):
                # Contract breach: we cannot pair ids with numbers, so find each number instead.
                logger.warning(
                    "POST answered %d items for %d invoices; reconciling", len(created), len(pending)
                )
                for i in pending:
                    i.attempts += 1
                pending = await self._reconcile(pending, wait_send)
                continue
            pairs = [
                (i.number, str(_attr(c, "faktoora_id", "faktooraId")))
                for i, c in zip(pending, created, strict=True)
            ]
            await self._accept(pending, pairs, wait_send)
            return
        if pending:
            await self._fail(
                pending, f"submit failed after {self.max_submit_attempts} attempts: {last_error}"
            )

    async def _accept(
        self, items: list[_Item], pairs: list[tuple[str, str]], wait_send: MemoryObjectSendStream[_Item]
    ) -> None:
        await self._j.mark_submitted(pairs)
        self._emit("submitted", len(items))
        now = time.time()
        for item, (_, fid) in zip(items, pairs, strict=True):
            item.faktoora_id = fid
            item.payload = None  # the journal has what is needed from here on
            item.submitted_at = item.submitted_at or now
            await wait_send.send(item)

    async def _drop_rejected(self, pending: list[_Item], exc: errors.BadRequestError) -> list[_Item]:
        by_index: dict[int, list[str]] = {}
        for e in exc.errors:
            if e.index is not None and 0 <= e.index < len(pending):
                by_index.setdefault(e.index, []).append(f"{e.field or '-'}: {e.message}")
        if not by_index:
            await self._fail(pending, f"rejected by the server: {exc.message}", final=True)
            return []
        for index, problems in by_index.items():
            await self._fail([pending[index]], "rejected by the server: " + "; ".join(problems), final=True)
        # A 400 fails the whole request: the others were not created and go again.
        return [item for k, item in enumerate(pending) if k not in by_index]

    async def _handle_duplicates(
        self,
        pending: list[_Item],
        exc: errors.DuplicateInvoiceNumberError,
        wait_send: MemoryObjectSendStream[_Item],
    ) -> list[_Item]:
        indexes = [k for k in exc.indexes if 0 <= k < len(pending)] or list(range(len(pending)))
        clashing = [pending[k] for k in indexes]
        rest = [item for k, item in enumerate(pending) if k not in set(indexes)]
        ours = [i for i in clashing if i.attempts > 0]  # journal had it in submitting before this POST
        foreign = [i for i in clashing if i.attempts == 0]
        if foreign:
            await self._fail(
                foreign, "duplicate invoice number: the account already has it (not sent by this journal)",
                final=True,
            )  # fmt: skip
        if ours:
            still = await self._reconcile(ours, wait_send)
            if still:
                await self._fail(still, "server reports a duplicate number but the look-up does not find it")
        return rest

    async def _lookup(self, number: str) -> str | None:
        """faktooraId of ``number`` on the server, or None when the server does not have it."""
        found: str | None = None
        async with self._http:
            self._count_request("lookup")
            # Read to the end (one short page) so the iterator finishes and closes itself.
            async for listed in self.client.invoices.list(invoice_number=number):
                if found is None and _attr(listed, "invoice_number", "invoiceNumber") == number:
                    fid = _attr(listed, "faktoora_id", "faktooraId")
                    found = str(fid) if fid else None
        return found

    async def _reconcile(self, items: list[_Item], wait_send: MemoryObjectSendStream[_Item]) -> list[_Item]:
        """Look each number up; journal and forward the found ones, return the ones to send again."""
        if not items:
            return []
        found: list[tuple[_Item, str]] = []
        missing: list[_Item] = []
        unknown: list[tuple[_Item, str]] = []

        async def one(item: _Item) -> None:
            last = ""
            for attempt in range(4):
                try:
                    fid = await self._lookup(item.number)
                except (errors.AuthenticationError, errors.PermissionDeniedError) as exc:
                    self._abort(exc)
                    return
                except errors.FaktooraError as exc:
                    last = str(exc)
                    await anyio.sleep(self.retry_backoff * 2**attempt)
                    continue
                if fid is None:
                    missing.append(item)
                else:
                    found.append((item, fid))
                return
            unknown.append((item, last))

        async with anyio.create_task_group() as tg:
            for item in items:
                tg.start_soon(one, item)
        if found:
            logger.info("reconciled %d invoice(s) by number: already on the server", len(found))
            await self._accept([i for i, _ in found], [(i.number, fid) for i, fid in found], wait_send)
        for item, reason in unknown:
            # Cannot tell whether the POST arrived: never re-send blindly; the next run looks it up again.
            await self._fail([item], f"could not look the invoice up after an ambiguous POST: {reason}")
        for item in missing:
            item.lookup_first = False
        return missing

    async def _fail(self, items: Sequence[_Item], reason: str, *, final: bool = False) -> None:
        if not items:
            return
        for item in items:
            logger.warning("invoice %s failed: %s", item.number, reason)
        await self._j.mark_failed([i.number for i in items], reason, final=final)
        self._emit("failed", len(items))

    # -- stage 3: wait ---------------------------------------------------------------------------
    async def _wait_dispatcher(
        self, recv: MemoryObjectReceiveStream[_Item], dl_send: MemoryObjectSendStream[_Item]
    ) -> None:
        slots = anyio.Semaphore(self.max_waiting)
        async with recv, dl_send, anyio.create_task_group() as tg:
            async for item in recv:
                await slots.acquire()
                tg.start_soon(self._wait_slot, item, slots, dl_send)

    async def _wait_slot(
        self, item: _Item, slots: anyio.Semaphore, dl_send: MemoryObjectSendStream[_Item]
    ) -> None:
        try:
            if await self._wait_one(item):
                await self._j.mark_ready(item.number)
                self._emit("ready")
                await dl_send.send(item)
        finally:
            slots.release()

    async def _poll(self, faktoora_id: str) -> Any:
        async with self._http:
            self._count_request("status")
            return await self.client.invoices.status(faktoora_id)

    def _estimate(self) -> float | None:
        """Seconds from submission by which ``_FIRST_POLL_QUANTILE`` of invoices are ready, or None while
        too few probes have finished to tell (a probe still under way counts as slower than all others).
        """
        n = len(self._samples) + self._probing
        k = math.ceil(_FIRST_POLL_QUANTILE * n) - 1
        if len(self._samples) < _MIN_SAMPLES or k >= len(self._samples):
            return None
        return sorted(self._samples)[max(0, k)]

    def _expected_wait(self, item: _Item) -> float:
        est = self._estimate()
        if est is None:
            return max(self._samples, default=1.0)
        return est

    async def _wait_one(self, item: _Item) -> bool:
        """Wait until the invoice's file exists; journal a failure and return False otherwise."""
        return await self._wait_inner(item)

    def _hub(self) -> WebhookHub | None:
        """The hub to wait on in webhook mode, or None while the runner waits by polling.

        ``webhooks=True``: always (the caller feeds ``client.events``); ``False``: never; ``None`` (auto):
        once the hub has been fed an event, which may happen in the middle of a wait.
        """
        hub = getattr(self.client, "events", None)
        if not isinstance(hub, WebhookHub) or self.webhooks is False:
            return None
        return hub if self.webhooks or hub.active else None

    async def _pause(self, faktoora_id: str, seconds: float) -> bool:
        """Sleep ``seconds``; wake early and return True when a webhook says the invoice is ready.

        In auto mode the hub is listened to even before its first event, so that a wait which started
        before webhooks arrived ends with them instead of with a poll.
        """
        hub = getattr(self.client, "events", None)
        if not isinstance(hub, WebhookHub) or self.webhooks is False:
            await anyio.sleep(seconds)
            return False
        return await self._listen(hub, faktoora_id, seconds)

    @staticmethod
    async def _listen(hub: WebhookHub, faktoora_id: str, seconds: float) -> bool:
        """Wait up to ``seconds`` for the hub to report a resting status; True when it did."""
        end = time.monotonic() + seconds
        while True:
            seen = hub.latest(faktoora_id)
            if seen in _READY_STATUSES:
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            # A status that is not a resting one (unknown to the runner) must not end the wait early.
            if await hub.wait_for_change(faktoora_id, seen, left) is None:
                return False

    def _deadline(self, item: _Item) -> float:
        submitted = item.submitted_at or time.time()
        # An invoice submitted by an earlier run gets a fresh wait_timeout from now.
        return (time.time() if item.resumed else submitted) + self.wait_timeout

    async def _wait_inner(self, item: _Item) -> bool:
        assert item.faktoora_id is not None
        fid = item.faktoora_id
        self._c.waited += 1
        submitted = item.submitted_at or time.time()
        deadline = self._deadline(item)
        expected = self._expected_wait(item)
        hub = self._hub()
        if hub is not None:
            return await self._wait_on_hub(item, hub, deadline, expected, poll_first=item.resumed)
        # Polling.  In auto mode, once webhook events start arriving the wait moves over to the hub.
        self._waits_started += 1
        if item.resumed:  # submitted by an earlier run: it may well be ready; ask at once
            return await self._poll_loop(item, deadline, self._repoll_interval(), timed=False)
        refresh = self._waits_started % _PROBE_EVERY == 0
        # First poll at the estimate; until there is one, look again every ``_RECHECK`` seconds (and take
        # over as a probe when one ended without a measurement).
        timed = False
        while True:
            if self._probing < _PROBES and (len(self._samples) < _PROBES or refresh):
                return await self._probe(item, submitted, deadline)
            now = time.time()
            est = self._estimate()
            due = deadline if est is None else min(submitted + est, deadline)
            timed = est is not None  # a first poll at the estimate: its hit is counted
            if now >= due:
                break
            if await self._pause(fid, min(due - now, _RECHECK)):
                self._c.webhook_ready += 1
                return True
            hub = self._hub()
            if hub is not None:
                return await self._wait_on_hub(item, hub, deadline, expected, poll_first=False)
        return await self._poll_loop(item, deadline, self._repoll_interval(), timed=timed)

    def _repoll_interval(self) -> float:
        """The first pause after a miss: short (a tenth of the typical time to ready), then growing."""
        est = self._estimate()
        base = 0.1 * est if est is not None else 0.25
        return min(max(0.05, base), self.poll_cap)

    async def _probe(self, item: _Item, submitted: float, deadline: float) -> bool:
        """Poll from submission on with short pauses; record the time to ready it measures."""
        self._probing += 1
        try:
            last_miss = submitted
            interval = _PROBE_FIRST
            while True:
                now = time.time()
                if now >= deadline:
                    await self._fail([item], f"not ready after {self.wait_timeout:g} s ({item.problem})")
                    return False
                assert item.faktoora_id is not None
                if await self._pause(item.faktoora_id, min(interval, deadline - now)):
                    self._c.webhook_ready += 1
                    return True
                hub = self._hub()
                if hub is not None:
                    return await self._wait_on_hub(
                        item, hub, deadline, self._expected_wait(item), poll_first=False
                    )
                asked = time.time()
                polled = await self._poll_once(item)
                if polled == "ready":
                    # Ready somewhere between the last miss and this poll: a measurement when that is a
                    # narrow window (not so for a probe that started long after its submission).
                    if asked - last_miss <= max(0.2, 0.5 * (asked - submitted)):
                        self._samples.append(max(0.0, (last_miss + asked) / 2 - submitted))
                    return True
                if polled == "failed":
                    return False
                if polled == "pending":
                    last_miss = asked
                interval = min(interval * _PROBE_GROWTH, self.poll_cap)
        finally:
            self._probing -= 1

    async def _wait_on_hub(
        self, item: _Item, hub: WebhookHub, deadline: float, expected: float, *, poll_first: bool
    ) -> bool:
        """Webhook mode: wait on the hub for a generous window; poll only as a safety net.

        A status of the resting states already known to the hub is enough (no GET at all); a download that
        then meets 409 NOT_READY falls back to polling (see :meth:`_download_one`).  The safety poll comes
        ``max(2 x expected, hub_safety_poll)`` after submission, the windows after it double, and the last
        one ends at the deadline.  ``poll_first``: ask the server before listening (an invoice submitted by
        an earlier run, whose events went to that run's receiver).
        """
        assert item.faktoora_id is not None
        fid = item.faktoora_id
        window = max(2.0 * expected, self.hub_safety_poll)
        cap = 4.0 * window
        start = time.time() if item.resumed or item.submitted_at is None else item.submitted_at
        due = time.time() if poll_first else start + window
        while True:
            if await self._listen(hub, fid, min(due, deadline) - time.time()):
                self._c.webhook_ready += 1
                return True
            polled = await self._poll_once(item)
            if polled in ("ready", "failed"):
                return polled == "ready"
            if time.time() >= deadline:
                await self._fail([item], f"not ready after {self.wait_timeout:g} s ({item.problem})")
                return False
            window = min(2.0 * window, cap)
            due = time.time() + window

    async def _poll_once(self, item: _Item) -> str:
        """One status GET: ``ready`` (the file exists), ``failed`` (journalled, or the run was aborted),
        ``pending`` (not yet) or ``error`` (the poll itself failed); the reason is left in ``item.problem``.
        """
        assert item.faktoora_id is not None
        try:
            status = await self._poll(item.faktoora_id)
        except errors.NotFoundError:
            item.problem = "status: 404 not found"
            return "error"
        except (errors.AuthenticationError, errors.PermissionDeniedError) as exc:
            self._abort(exc)
            return "failed"
        except errors.FaktooraError as exc:
            item.problem = f"status poll failed: {exc}"
            return "error"
        job = _attr(status, "job_status", "jobStatus")
        inv = _attr(status, "invoice_status", "invoiceStatus")
        if job == "failed":
            err = _attr(status, "error", "error") or "no reason given"
            await self._fail([item], f"generation failed: {err}", final=True)
            return "failed"
        if inv is not None and job not in ("queued", "processing"):
            return "ready"
        item.problem = f"still {job or 'processing'}"
        return "pending"

    async def _poll_loop(
        self, item: _Item, deadline: float, interval: float, *, timed: bool, listen: bool = True
    ) -> bool:
        """Poll with growing pauses until ready, failed or past ``deadline``.

        ``listen=False``: ignore webhook events (the server contradicted them: a download met NOT_READY).
        """
        assert item.faktoora_id is not None
        fid = item.faktoora_id
        first = True
        while True:
            polled = await self._poll_once(item)
            if first and timed and polled == "ready":
                self._c.first_poll_hits += 1
            if polled in ("ready", "failed"):
                return polled == "ready"
            first = False
            now = time.time()
            if now >= deadline:
                await self._fail([item], f"not ready after {self.wait_timeout:g} s ({item.problem})")
                return False
            pause = interval
            interval = min(interval * 1.5, self.poll_cap)
            if not listen:
                await anyio.sleep(min(pause, deadline - now))
                continue
            if await self._pause(fid, min(pause, deadline - now)):
                self._c.webhook_ready += 1
                return True
            hub = self._hub()
            if hub is not None:  # auto mode: webhook events started arriving
                return await self._wait_on_hub(
                    item, hub, deadline, self._expected_wait(item), poll_first=False
                )

    async def _poll_until_ready(self, item: _Item) -> bool:
        """Polling only (no webhooks), with a fresh ``wait_timeout``: used when a download met NOT_READY."""
        interval = min(max(0.05, self._expected_wait(item) * 0.25), self.poll_cap)
        return await self._poll_loop(
            item, time.time() + self.wait_timeout, interval, timed=False, listen=False
        )

    # -- stage 4: download -----------------------------------------------------------------------
    async def _download_worker(self, recv: MemoryObjectReceiveStream[_Item]) -> None:
        async with recv:
            async for item in recv:
                await self._download_one(item)

    async def _download_one(self, item: _Item) -> None:
        assert item.faktoora_id is not None
        stem = file_stem(item.number)
        files: dict[str, dict[str, Any]] = {}
        polled_for_file = False
        for fmt in self.formats:
            name = f"{stem}.{fmt}"
            target = self.out_dir / name
            last = ""
            for attempt in range(self.max_download_attempts):
                if attempt:
                    await anyio.sleep(min(self.retry_backoff * 2**attempt, 5.0))
                try:
                    async with self._http:
                        self._count_request("download")
                        result = await self.client.invoices.download_to(
                            item.faktoora_id, format=fmt, to=target
                        )
                except (errors.AuthenticationError, errors.PermissionDeniedError) as exc:
                    self._abort(exc)
                    return
                except errors.NotReadyError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                    if polled_for_file:
                        continue
                    # Readiness came from a webhook (early, stray or about another state) and the server
                    # disagrees: wait for the file by polling, as without webhooks, then try again.
                    polled_for_file = True
                    self._c.not_ready_downloads += 1
                    logger.info("invoice %s: download found no file yet; polling for it", item.number)
                    if not await self._poll_until_ready(item):
                        return
                    continue
                except (errors.FaktooraError, OSError) as exc:
                    last = f"{type(exc).__name__}: {exc}"
                    continue
                digest = _attr(result, "sha256", "sha256")
                size = _attr(result, "size", "size")
                if not isinstance(digest, str):
                    digest, size = await anyio.to_thread.run_sync(_sha256_file, target)
                files[fmt] = {"path": name, "sha256": digest, "size": size}
                break
            else:
                await self._fail(
                    [item], f"download of {fmt} failed after {self.max_download_attempts} tries: {last}"
                )
                return
        await self._j.mark_downloaded(item.number, files)
        self._emit("downloaded")

    # -- report ----------------------------------------------------------------------------------
    async def _build_report(self, wall_time: float, interrupted: bool) -> RunReport:
        # Counts only: the per-invoice rows stay in the journal and are streamed when the report is written.
        counts = outcome_counts(
            await self._j.counts(self._run_id), await self._j.extra_counts(self._run_id), interrupted
        )
        requests = dict(self._c.requests)
        requests["total"] = sum(self._c.requests.values())
        # HTTP attempts the client made for them, retries included (when the client counts them).
        before = self._client_stats_at_start
        for key, value in self._client_stats().items():
            requests[f"http_{key}"] = value - before.get(key, 0)
        polls = self._c.requests.get("status", 0)
        return RunReport(
            run_id=self._run_id,
            out_dir=self.out_dir,
            journal=self.journal_path,
            counts=counts,
            rows=JournalRows(self.journal_path, self._run_id, interrupted=interrupted),
            requests=requests,
            polls_per_invoice=polls / self._c.waited if self._c.waited else 0.0,
            wall_time=wall_time,
            interrupted=interrupted,
            already_done=self._c.totals.get("skipped", 0),
            wait_stats={
                "waited": self._c.waited,
                "first_poll_hits": self._c.first_poll_hits,
                "webhook_ready": self._c.webhook_ready,
                "not_ready_downloads": self._c.not_ready_downloads,
            },
            journal_stats={
                "transactions": float(self._j.transactions),
                "seconds": round(self._j.busy_seconds, 3),
            },
        )


class _RunLock:
    """An exclusive lock file beside the journal: one run per journal at a time.

    Uses ``flock`` (released by the OS when the process dies, even by SIGKILL); where that is unavailable
    the lock is a no-op.
    """

    def __init__(self, journal: Path) -> None:
        self.path = journal.with_name(journal.name + ".lock")
        self._fh: Any = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+b")  # noqa: SIM115 - held open for the whole run
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            self._fh = fh
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise errors.ConfigurationError(
                f"the journal {self.path.name[:-5]} is in use by another running bulk run"
            ) from None
        self._fh = fh

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()


def _sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 16):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def _load_preflight() -> Any:
    try:
        from ..einvoice.rules import check_invoice
    except ImportError:  # pragma: no cover - the rules module ships with the package
        logger.warning("faktoora_async.einvoice.rules is unavailable: pre-flight checks skipped")
        return None
    return check_invoice
