"""Stage 4 of a bulk run: stream each invoice's files to disk with ``client.invoices.download()``, verified.

Each file goes through the client's atomic writer (temp file, fsync, rename; the transport retries a
truncated body).  Before an invoice is journalled as done, each document is checked to be that invoice
(:mod:`.verify`): a document holding another invoice number is deleted, reported (``wrong document``) and
the invoice is looked up again by its number.  A 409 NOT_READY (a webhook said ready too early) waits by
polling and tries once more; a 404 looks the invoice up by number.  An unwritable folder, a full disk, a
bad key or an unreachable host stop the run (one reason, the journal consistent).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream

from .. import errors
from ..files import DownloadResult, safe_filename
from ._run import Item, Run
from .submit import relocate
from .verify import UNKNOWN, document_number
from .wait import wait_until_generated

__all__ = ["download_one", "download_worker"]

logger = logging.getLogger("faktoora_async.bulk")

# Documents up to this size are checked on the event loop: reading back a small file from the page cache and
# parsing it (0.1 ms for an invoice XML, 0.4 ms for a 55 KB PDF) costs less than the thread hop around it
# (0.1-0.2 ms of CPU), and the parsing is pure Python, which holds the GIL in a thread too.  Bigger ones
# (a PDF with large attachments) are checked in a worker thread, so the loop never stalls for long.
_VERIFY_ON_LOOP = 256 * 1024


async def download_worker(run: Run, recv: MemoryObjectReceiveStream[Item]) -> None:
    async with recv:
        async for item in recv:
            if not run.stopping:
                await download_one(run, item)


async def download_one(run: Run, item: Item) -> None:
    """Every requested format of ``item``, then journal it as downloaded."""
    item.pack()
    stem = safe_filename(item.number)
    while not run.stopping:
        files: dict[str, dict[str, Any]] = {}
        verified_id = False  # an XML of this faktooraId named the right invoice
        # XML first: once it names the right invoice, a PDF of the same faktooraId needs no look-up
        for fmt in sorted(run.options.formats, key=lambda f: f != "xml"):
            name = f"{stem}.{fmt}"
            result = await _fetch(run, item, fmt, run.options.out_dir / name)
            if result is None:
                return
            if not isinstance(result, DownloadResult):  # relocated: start over with the new faktooraId
                break
            verdict = await _verify(run, item, fmt, result, verified_id)
            if verdict == "vouched":  # the server confirmed this faktooraId is this number: once is enough
                verified_id, verdict = True, "ok"
            if verdict == "relocated":
                break
            if verdict is None:
                return
            verified_id = verified_id or (fmt == "xml")
            files[fmt] = {"path": name, "sha256": result.sha256, "size": result.size}
        else:
            await run.journal.mark_downloaded(item.number, files)
            run.emit("downloaded")
            return


async def _fetch(run: Run, item: Item, fmt: str, target: Path) -> DownloadResult | str | None:
    """One file; ``"relocated"`` when the invoice got a new faktooraId (start over), None when failed."""
    polled = False
    while not run.stopping:
        assert item.faktoora_id is not None
        run.count_request("download")
        try:
            return await run.client.invoices.download(
                item.faktoora_id, format="xml" if fmt == "xml" else "pdf", to=target
            )
        except errors.NotReadyError:
            if polled:
                await run.fail(
                    [item], f"download of {fmt}: the server still has no file after it reported one"
                )
                return None
            # Readiness came from a webhook (early, stray or about another state) and the server disagrees:
            # wait for the file by polling, as without webhooks, then try again.
            polled = True
            run.counters.not_ready_downloads += 1
            logger.info("invoice %s: download found no file yet; polling for it", item.number)
            if not await wait_until_generated(run, item, poll_only=True):
                return None
        except errors.NotFoundError:
            if not await relocate(run, item, "the server does not know its faktooraId (404)"):
                return None
            return "relocated" if await wait_until_generated(run, item) else None
        except errors.FaktooraError as exc:
            await run.fail_or_abort([item], exc, f"download of {fmt} failed")
            return None
    return None


async def _verify(run: Run, item: Item, fmt: str, result: DownloadResult, verified_id: bool) -> str | None:
    """``"ok"``, ``"vouched"`` (unreadable, but the server confirmed the id by number), ``"relocated"`` (it
    was another invoice's document: start over), or None (failed)."""
    if not run.options.verify_documents:
        return "ok"
    try:
        if result.size <= _VERIFY_ON_LOOP:
            found = document_number(result.path, fmt)
        else:
            found = await anyio.to_thread.run_sync(document_number, result.path, fmt)
    except OSError as exc:
        await run.fail_or_abort(
            [item], errors.DownloadError(f"cannot read back {result.path}: {exc}"), "verify"
        )
        return None
    if found == UNKNOWN:
        if verified_id:
            return "ok"  # the XML of the same faktooraId named this invoice
        return await _confirm_by_number(run, item)
    if found == item.number:
        return "ok"
    run.counters.wrong_documents += 1
    await anyio.to_thread.run_sync(lambda: result.path.unlink(missing_ok=True))
    why = (
        f"wrong document: {fmt} of faktooraId {item.faktoora_id} holds invoice {found!r}, not {item.number!r}"
    )
    logger.warning("invoice %s: %s; the file was not kept", item.number, why)
    if await relocate(run, item, why) and await wait_until_generated(run, item):
        return "relocated"
    return None


async def _confirm_by_number(run: Run, item: Item) -> str | None:
    """The document cannot tell its number: ask the server whether this faktooraId is this number."""
    run.count_request("lookup")
    try:
        hit = await run.client.invoices.find(item.number)
    except errors.FaktooraError as exc:
        await run.fail_or_abort([item], exc, "could not confirm the document by number")
        return None
    if hit is not None and hit.faktoora_id == item.faktoora_id:
        return "vouched"
    if await relocate(
        run, item, "the server lists this number under another faktooraId"
    ) and await wait_until_generated(run, item):
        return "relocated"
    return None
