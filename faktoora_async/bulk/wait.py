"""Stage 3 of a bulk run: wait until each invoice's file exists, with the client's own waiter.

``client.invoices.wait(..., until="generated")`` is the same waiter ``invoices.wait()`` users call: one
learned polling schedule per client, or webhook events when the client's hub is fed.  This stage adds the
run's bookkeeping: the deadline (``wait_timeout`` from submission, or from now for an invoice submitted by
an earlier run), journalling, and what to do when the server no longer knows the faktooraId (look the
invoice up by number again).
"""

from __future__ import annotations

import time

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .. import errors
from ._run import Item, Run
from .submit import relocate
from .sweep import SWEEP_MIN_INVOICES, Sweeper

__all__ = ["wait_dispatcher", "wait_until_generated"]


async def wait_dispatcher(
    run: Run, recv: MemoryObjectReceiveStream[Item], dl_send: MemoryObjectSendStream[Item]
) -> None:
    slots = anyio.Semaphore(run.options.max_waiting)
    sweeper = Sweeper(run, enabled=sweeping(run), after=0 if run.options.sweep else SWEEP_MIN_INVOICES)
    async with recv, dl_send, anyio.create_task_group() as tg:
        async with anyio.create_task_group() as waits:
            tg.start_soon(sweeper.run_sweeps)
            async for item in recv:
                await slots.acquire()
                sweeper.offered += 1
                waits.start_soon(_wait_slot, run, sweeper, item, slots, dl_send)
        tg.cancel_scope.cancel()  # every wait ended: no more sweeps


def sweeping(run: Run) -> bool:
    """Whether this run's waits may end by list sweeps (:mod:`.sweep`)."""
    return run.options.sweep is not False and not run.options.webhooks


async def _wait_slot(
    run: Run, sweeper: Sweeper, item: Item, slots: anyio.Semaphore, dl_send: MemoryObjectSendStream[Item]
) -> None:
    item.pack()  # waiting may take minutes: keep the payload compact meanwhile
    try:
        if run.stopping:
            return
        if await sweeper.wait(item):
            run.counters.waited += 1
        elif not await wait_until_generated(run, item):
            return
        if not run.stopping:
            await run.journal.mark_ready(item.number)
            run.emit("ready")
            await dl_send.send(item)
    finally:
        slots.release()


async def wait_until_generated(run: Run, item: Item, *, poll_only: bool = False) -> bool:
    """Until the file exists; journal a failure and return False otherwise.

    ``poll_only``: ask the server, ignoring webhook events (a download contradicted them).
    """
    run.counters.waited += 1
    while not run.stopping:
        assert item.faktoora_id is not None
        start = time.time() if item.resumed or poll_only or item.submitted_at is None else item.submitted_at
        timeout = max(0.0, start + run.options.wait_timeout - time.time())
        try:
            await run.client.invoices.wait(
                item.faktoora_id,
                until="generated",
                timeout=timeout,
                submitted_at=None if item.resumed or poll_only else item.submitted_at,
                confirm=poll_only,
                webhooks=False if poll_only else run.options.webhooks,
            )
            return True
        except errors.GenerationFailedError as exc:
            await run.fail(
                [item], f"generation failed: {exc.status.error if exc.status else exc}", final=True
            )
        except errors.WaitTimeoutError as exc:
            await run.fail([item], f"not ready after {run.options.wait_timeout:g} s ({exc})")
        except errors.NotFoundError:
            if await relocate(run, item, "the server does not know its faktooraId (404)"):
                continue
        except errors.FaktooraError as exc:
            await run.fail_or_abort([item], exc, "status poll failed")
        return False
    return False
