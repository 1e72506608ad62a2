"""Stage 1 of a worker in a shared run: invoices claimed from the journal instead of read from an input.

A shared run lives in a journal that several processes use at once (PostgreSQL, or one SQLite file on one
host).  ``BulkRunner.run(invoices)`` on such a journal plans the whole input into a new run (journalling
each wire payload) and then works on it like any other worker; ``BulkRunner.work(run_id)`` joins a run.
Each worker claims batches of rows under its lease (:meth:`~.journal.Worker.batches`) and sends every row
on from where it stands, exactly as a resumed run does: a row left in ``submitting`` is looked up by
number before anything is sent again.  The rows of a worker that dies come back to the others once its
lease has expired.
"""

from __future__ import annotations

import logging

from anyio.streams.memory import MemoryObjectSendStream

from ._run import Item, Run
from .journal import Journal, Worker
from .plan import decode_payload, route_row

__all__ = ["claimed_input", "run_with_work"]

logger = logging.getLogger("faktoora_async.bulk")

#: Once work is under way a worker claims at least this many rows at a time (not one row per finished
#: one, each of which would be a POST of its own); small enough that a POST of them keeps the server's
#: event loop free (a 4-worker run with POSTs of 50-100 invoices saw 429s jump to 6 % on a sandbox whose
#: burst is 20: the server's stalls on big POSTs turned the clients' pacing into bursts).
MIN_CLAIM = 10


async def claimed_input(
    run: Run,
    worker: Worker,
    submit_send: MemoryObjectSendStream[list[Item]],
    wait_send: MemoryObjectSendStream[Item],
    dl_send: MemoryObjectSendStream[Item],
) -> None:
    """Claim the run's rows batch by batch and route each to submit, wait or download, until the run has
    nothing left that this worker could take (see :meth:`Worker.batches`)."""
    async with submit_send, wait_send, dl_send:
        size = run.options.batch_size
        held = max(2 * size, run.options.concurrency * 4)
        async for batch in worker.batches(size, max_held=held, min_batch=min(size, MIN_CLAIM)):
            if run.stopping:
                return
            to_submit: list[Item] = []
            for claim in batch:
                try:
                    wire = decode_payload(claim.row, claim.payload)
                except ValueError as exc:
                    logger.error("%s", exc)
                    await run.journal.mark_failed([claim.row.number], str(exc), final=True)
                    run.emit("failed")
                    continue
                await route_row(run, claim.row, wire, to_submit, wait_send, dl_send)
            if to_submit:
                await submit_send.send(to_submit)
        if worker.lost.is_set():
            logger.error(
                "worker %s lost its lease: stopped claiming; its rows go to the other workers", worker.id
            )


async def run_with_work(journal: Journal) -> int | None:
    """The newest run of the journal that still has unfinished rows (what ``work`` joins by default)."""
    for info in await journal.runs(limit=100):
        if info.pending:
            return info.id
    return None
