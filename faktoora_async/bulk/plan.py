"""Stage 1 of a bulk run: read the input lazily, pre-flight it, journal it, send each invoice on its way.

The pre-flight is the client's own (``client.invoices.check``): the same wire form, the same rules as
``client.invoices.create()``; the payload hash journalled is that wire form's digest.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from itertools import islice
from typing import Any

import anyio
import anyio.to_thread
import msgspec
from anyio.streams.memory import MemoryObjectSendStream

from ..preflight import Checked, Problem, check
from ..protocol import WireInvoice, prepare_invoice
from ._run import Item, Run
from .journal import JournalRow, Planned
from .report import FAILED

__all__ = ["decode_payload", "plan_input", "route_row"]

# The wire JSON journalled for a shared run (Decimals stay strings; decoded again by decode_payload).
_PAYLOAD = msgspec.json.Encoder(order="sorted")

logger = logging.getLogger("faktoora_async.bulk")


async def _chunks(invoices: Iterable[Any] | AsyncIterable[Any], size: int) -> AsyncIterator[list[Any]]:
    if isinstance(invoices, AsyncIterable):
        chunk: list[Any] = []
        async for payload in invoices:
            chunk.append(payload)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
        return
    iterator = iter(invoices)
    while True:
        # The source may read files or generate payloads: keep that off the event loop.
        chunk = await anyio.to_thread.run_sync(lambda: list(islice(iterator, size)))
        if not chunk:
            return
        yield chunk


def _relative(path: str, index: int) -> str:
    """``invoices[7].seller.name`` -> ``seller.name`` (the field within the invoice)."""
    prefix = f"invoices[{index}]"
    rest = path[len(prefix) :] if path.startswith(prefix) else path
    return rest.lstrip(".") or "(the invoice)"


def _checked(chunk: list[Any], start: int, preflight: bool) -> list[Checked]:
    """Wire forms and problems of a chunk (runs in a worker thread)."""
    if preflight:
        return check(chunk, start=start)
    out: list[Checked] = []
    for offset, payload in enumerate(chunk):
        try:
            out.append(Checked(start + offset, prepare_invoice(payload), ()))
        except (TypeError, ValueError) as exc:
            out.append(
                Checked(
                    start + offset, None, (Problem("FAKTOORA-TYPE", f"invoices[{start + offset}]", str(exc)),)
                )
            )
    return out


def _label(position: int) -> str:
    return f"input item {position + 1}"


async def plan_input(
    run: Run,
    invoices: Iterable[Any] | AsyncIterable[Any],
    submit_send: MemoryObjectSendStream[list[Item]],
    wait_send: MemoryObjectSendStream[Item],
    dl_send: MemoryObjectSendStream[Item],
    *,
    route: bool = True,
    journal_payloads: bool = False,
) -> None:
    """Read, check and journal every input invoice; route each to submit, wait or download.

    ``route=False`` only journals them (a shared run: the workers claim them from the journal);
    ``journal_payloads`` journals each invoice's wire JSON too, so that any worker can send it.
    """
    async with submit_send, wait_send, dl_send:
        try:
            await _plan(run, invoices, submit_send, wait_send, dl_send, route, journal_payloads)
        except Exception as exc:
            # The input itself broke (unreadable file, a generator raising): stop reading, let the invoices
            # already under way finish, then raise it from run().
            logger.error("reading the input failed: %s: %s", type(exc).__name__, exc)
            run.input_error = exc


async def _plan(
    run: Run,
    invoices: Iterable[Any] | AsyncIterable[Any],
    submit_send: MemoryObjectSendStream[list[Item]],
    wait_send: MemoryObjectSendStream[Item],
    dl_send: MemoryObjectSendStream[Item],
    route: bool,
    journal_payloads: bool,
) -> None:
    position = 0
    async for chunk in _chunks(invoices, run.options.batch_size):
        checked = await anyio.to_thread.run_sync(_checked, chunk, position, run.options.preflight)
        position += len(chunk)
        plans: list[tuple[Checked, Planned]] = []
        for c in checked:
            if c.wire is None:
                await run.journal.add_extra(run.run_id, _label(c.index), FAILED, str(c.problems[0]))
                run.emit("failed")
                continue
            number = c.wire.number
            if number is None:
                reason = "has no invoiceNumber (a bulk run needs one per invoice to stay exactly-once)"
                await run.journal.add_extra(run.run_id, _label(c.index), FAILED, reason)
                run.emit("failed")
                continue
            first = run.positions.setdefault(number, c.index)
            if first != c.index:
                reason = (
                    f"duplicate invoice number in the input: {_label(first)} and {_label(c.index)} are both "
                    f"{number!r}; only the first is sent"
                )
                logger.warning("invoice %s: %s", number, reason)
                await run.journal.add_extra(run.run_id, number, "duplicate", reason)
                run.emit("failed")
                continue
            violations = tuple((p.rule_id, f"{_relative(p.path, c.index)}: {p.message}") for p in c.problems)
            payload = _PAYLOAD.encode(c.wire.payload) if journal_payloads else None
            plans.append((c, Planned(number, c.wire.digest, violations, payload=payload)))
        results = await run.journal.plan(run.run_id, [p for _, p in plans])
        run.emit("planned", len(plans))
        if not route:
            continue
        to_submit: list[Item] = []
        for (c, _), res in zip(plans, results, strict=True):
            assert c.wire is not None
            if res.kind == "conflict":
                logger.warning("invoice %s: payload differs from the journalled one; not sent", c.wire.number)
                run.emit("conflict")
            elif res.kind == "repeat":  # cannot happen (duplicates are caught above); kept for safety
                run.emit("failed")
            else:
                await route_row(run, res.row, c.wire, to_submit, wait_send, dl_send)
        if to_submit:
            await submit_send.send(to_submit)


async def route_row(
    run: Run,
    row: JournalRow,
    wire: WireInvoice | None,
    to_submit: list[Item],
    wait_send: MemoryObjectSendStream[Item],
    dl_send: MemoryObjectSendStream[Item],
) -> None:
    """Send one journalled invoice on from where its row stands (``to_submit`` collects a batch)."""
    if row.state == "downloaded":
        run.emit("skipped")
    elif row.state == "failed" and row.final:
        run.emit("failed")
    elif row.state in ("planned", "submitting") or row.faktoora_id is None:
        if wire is None:  # a worker cannot send what was never journalled (claims never hand these out)
            await run.journal.mark_failed([row.number], "no payload journalled: plan it again", final=False)
            run.emit("failed")
            return
        to_submit.append(Item(row.number, wire, attempts=row.attempts, lookup_first=row.attempts > 0))
    elif row.state == "ready":
        run.emit("submitted")
        run.emit("ready")
        await dl_send.send(Item(row.number, wire, faktoora_id=row.faktoora_id, resumed=True))
    else:  # submitted, or a retryable failure after the faktooraId was known
        run.emit("submitted")
        await wait_send.send(
            Item(row.number, wire, faktoora_id=row.faktoora_id, submitted_at=row.submitted_at, resumed=True)
        )


def decode_payload(row: JournalRow, payload: bytes | None) -> WireInvoice | None:
    """The wire form journalled for ``row`` (None without one); a payload whose digest differs from the
    journalled hash is refused (ValueError): it is not the invoice that was planned."""
    if payload is None:
        return None
    wire = WireInvoice(msgspec.json.decode(payload))
    if wire.digest != row.payload_hash:
        raise ValueError(f"invoice {row.number}: the journalled payload does not match its hash")
    return wire
