"""Stage 2 of a bulk run: POST batches with ``client.invoices.create()``, exactly once.

No HTTP is retried here (the transport alone retries, and never a POST that may have arrived).  What
this stage adds is the exactly-once protocol around ``create()``:

* before any invoice whose earlier POST may have arrived is sent again, its number is looked up
  (``client.invoices.find``): found means journal its faktooraId, not found means send it;
* a 400 names the invoices it rejects (final failures); the rest of the batch is sent without them;
* a 409 DUPLICATE_INVOICE_NUMBER for a number this journal sent before is reconciled by look-up, for a
  foreign one it is a final failure;
* an uncertain outcome (a reset or timeout after sending, a 5xx, an unreadable answer) is reconciled by
  look-up; the invoices the server does not have are sent again at most ``max_resends`` times, each
  resend paid for from the client's retry budget, so an outage cannot multiply the traffic;
* a permanent error (bad key, unreachable host) stops the run; the journal keeps every state for a resume.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .. import errors
from ..protocol.retry import RETRY_COST
from ._run import Item, Run, is_permanent

__all__ = ["reconcile", "relocate", "submit_batch", "submit_worker"]

logger = logging.getLogger("faktoora_async.bulk")

Forward = Callable[[Item], Awaitable[None]]
MAX_RELOCATIONS = 3  # a faktooraId found wrong this often: give up on the invoice for this run


async def submit_worker(
    run: Run, recv: MemoryObjectReceiveStream[list[Item]], wait_send: MemoryObjectSendStream[Item]
) -> None:
    async with recv, wait_send:
        async for items in recv:
            if not run.stopping:
                await submit_batch(run, items, wait_send.send)


async def submit_batch(run: Run, items: list[Item], forward: Forward) -> None:
    """Create ``items`` (one batch) exactly once; each created invoice is handed to ``forward``."""
    fresh = [i for i in items if not i.lookup_first]
    pending = await reconcile(run, [i for i in items if i.lookup_first], forward) + fresh
    resends = 0
    while pending and not run.stopping:
        marked = set(await run.journal.mark_submitting([i.number for i in pending]))
        pending = [i for i in pending if i.number in marked]  # a worker's lost rows: never POSTed
        if not pending:
            break
        run.emit("submitting", len(pending))
        run.count_request("create")
        try:
            created = await run.client.invoices.create(
                [i.wire for i in pending if i.wire is not None], preflight=False
            )
        except errors.BadRequestError as exc:
            pending = await _drop_rejected(run, pending, exc)
            continue
        except errors.DuplicateInvoiceNumberError as exc:
            pending = await _handle_duplicates(run, pending, exc, forward)
            continue
        except errors.FaktooraError as exc:
            if is_permanent(exc):
                run.abort(exc)
                return
            if isinstance(exc, errors.RateLimitError):  # provably not processed; the next run sends them
                await run.fail(pending, f"not sent, still rate-limited after the client's retries: {exc}")
                return
            # The POST may have been acted on: look every number up before anything is sent again.
            logger.info(
                "POST of %d invoices is uncertain (%s); reconciling", len(pending), type(exc).__name__
            )
            for i in pending:
                i.attempts += 1
            pending = await reconcile(run, pending, forward)
            if pending:
                resends += 1
                if resends > run.options.max_resends or not run.client.retry_budget.spend(RETRY_COST):
                    await run.fail(
                        pending, f"not created ({exc}); not on the server, a new run sends them again"
                    )
                    return
            continue
        run.emit("posted", len(pending))
        await _accept(
            run,
            pending,
            [(i.number, c.faktoora_id) for i, c in zip(pending, created, strict=True)],
            forward,
            time.time(),
        )
        return


async def _accept(
    run: Run, items: list[Item], pairs: list[tuple[str, str]], forward: Forward, submitted_at: float | None
) -> None:
    await run.journal.mark_submitted(pairs)
    run.emit("submitted", len(items))
    for item, (_, fid) in zip(items, pairs, strict=True):
        item.faktoora_id = fid
        item.submitted_at = submitted_at
        item.lookup_first = False
        item.pack()
        await forward(item)


async def _drop_rejected(run: Run, pending: list[Item], exc: errors.BadRequestError) -> list[Item]:
    by_index: dict[int, list[str]] = {}
    for e in exc.errors:
        if e.index is not None and 0 <= e.index < len(pending):
            by_index.setdefault(e.index, []).append(f"{e.field or '-'}: {e.message}")
    if not by_index:
        await run.fail(pending, f"rejected by the server: {exc.message}", final=True)
        return []
    for index, problems in by_index.items():
        await run.fail([pending[index]], "rejected by the server: " + "; ".join(problems), final=True)
    # A 400 fails the whole request: the others were not created and go again.
    return [item for k, item in enumerate(pending) if k not in by_index]


async def _handle_duplicates(
    run: Run, pending: list[Item], exc: errors.DuplicateInvoiceNumberError, forward: Forward
) -> list[Item]:
    indexes = [k for k in exc.indexes if 0 <= k < len(pending)] or list(range(len(pending)))
    clashing = [pending[k] for k in indexes]
    rest = [item for k, item in enumerate(pending) if k not in set(indexes)]
    ours = [i for i in clashing if i.attempts > 0]  # journalled as sent before this POST
    foreign = [i for i in clashing if i.attempts == 0]
    if foreign:
        await run.fail(
            foreign,
            "duplicate invoice number: the account already has it (not sent by this journal)",
            final=True,
        )
    if ours:
        still = await reconcile(run, ours, forward)
        if still:
            await run.fail(still, "the server reports a duplicate number but the look-up does not find it")
    return rest


async def reconcile(run: Run, items: list[Item], forward: Forward) -> list[Item]:
    """Look each number up; journal and forward the found ones, return the ones the server does not have."""
    if not items:
        return []
    found: list[tuple[Item, str]] = []
    missing: list[Item] = []
    limit = anyio.Semaphore(max(1, run.options.concurrency))

    async def one(item: Item) -> None:
        async with limit:
            run.count_request("lookup")
            try:
                hit = await run.client.invoices.find(item.number)
            except errors.FaktooraError as exc:
                if is_permanent(exc):
                    run.abort(exc)
                else:  # cannot tell whether the POST arrived: never send blindly; the next run looks again
                    await run.fail([item], f"could not look the invoice up after an uncertain POST: {exc}")
                return
        if hit is not None and hit.faktoora_id:
            found.append((item, hit.faktoora_id))
        else:
            missing.append(item)

    async with anyio.create_task_group() as tg:
        for item in items:
            tg.start_soon(one, item)
    if found:
        logger.info("reconciled %d invoice(s) by number: already on the server", len(found))
        await _accept(run, [i for i, _ in found], [(i.number, fid) for i, fid in found], forward, None)
    for item in missing:
        item.lookup_first = False
    return missing


async def relocate(run: Run, item: Item, why: str) -> bool:
    """The invoice's faktooraId proved wrong (404, or another invoice's document): find it again by
    number, or create it again when the server does not have it.  True when ``item`` has a new id."""
    item.relocations += 1
    if item.relocations > MAX_RELOCATIONS:
        await run.fail([item], f"{why}; gave up after {MAX_RELOCATIONS} look-ups by number")
        return False
    run.counters.relocated += 1
    logger.info("invoice %s: %s; looking it up by number", item.number, why)
    run.count_request("lookup")
    try:
        hit = await run.client.invoices.find(item.number)
    except errors.FaktooraError as exc:
        await run.fail_or_abort([item], exc, f"{why}; the look-up by number failed")
        return False
    if hit is not None and hit.faktoora_id and hit.faktoora_id != item.faktoora_id:
        await _accept(run, [item], [(item.number, hit.faktoora_id)], _noop, None)
        return True
    if hit is not None:
        await run.fail([item], f"{why}; the server lists it under the same id")
        return False
    wire = item.wire_form()
    if wire is None:  # pragma: no cover - every item keeps its wire form until it is done
        await run.fail([item], f"{why}; not on the server, and its payload is not at hand")
        return False
    accepted: list[Item] = []

    async def keep(created: Item) -> None:
        accepted.append(created)

    again = Item(item.number, wire)
    await submit_batch(run, [again], keep)
    if not accepted:
        return False
    item.faktoora_id, item.submitted_at, item.resumed = again.faktoora_id, again.submitted_at, False
    return True


async def _noop(item: Item) -> None:
    return None
