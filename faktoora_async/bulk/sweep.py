"""Stage 3's list sweep: one ``GET /invoices`` page tells which of a thousand invoices have their files.

A status poll (``GET /invoices/{id}/status``) answers for one invoice; under a rate limit, one poll per
invoice is a third of a month-end run's requests (create, poll, PDF, XML).  The invoice list answers for
a page of them: its items carry ``invoiceStatus``, which stays ``null`` while the file is generated
(API.md: the status object) and names the invoice's state once the file exists.  So once a run's wait
stage has taken :data:`SWEEP_MIN_INVOICES` invoices, a :class:`Sweeper` reads the newest invoices of
the account (``sort=createdAt&order=desc``) every :data:`MIN_INTERVAL` s while any of the run's invoices
waits, and an invoice seen with a status goes to its downloads without a poll of its own.

What the sweep cannot tell falls back to the waiter's status polls (:func:`..wait.wait_until_generated`),
which report a failed generation, a 404 and timeouts as before:

* an invoice not seen with a status for ``max(GIVE_UP_MIN, GIVE_UP_FACTOR x the slowest one seen)``
  seconds (a failed generation never gets a status), and every invoice once that happens before any
  invoice was seen with a status (a list whose items carry no ``invoiceStatus`` ends the sweeps);
* every waiting invoice once :data:`MAX_ERRORS` sweeps in a row failed, or when sweeping is off
  (``BulkRunner(sweep=False)``, webhook mode and a fed hub in auto mode, a run's first
  :data:`SWEEP_MIN_INVOICES` invoices, invoices of an earlier run).

A sweep pages on only while a page may still hold a waiting invoice: it stops at the last page, when
every waiting invoice was seen, at an invoice created :data:`CLOCK_SKEW` s before the run started, or
after :data:`MAX_PAGES` pages.  The downloads check each file against its invoice anyway, and a file the
server says is not ready sends that invoice back to status polls.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from .. import errors
from ..ratelimit.priority import background

if TYPE_CHECKING:
    from ..models import InvoiceListItem, Page
    from ._run import Item, Run

__all__ = ["SWEEP_MIN_INVOICES", "Sweeper"]

logger = logging.getLogger("faktoora_async.bulk")

SWEEP_MIN_INVOICES = 32  # runs with fewer invoices wait with status polls only
PER_PAGE = 1000  # asked for; the server may give fewer (its page says so)
MIN_INTERVAL = 0.5  # s between sweeps while they find files made ...
MAX_INTERVAL = 2.0  # s ... backing off (x2 a sweep) to this while they find none
GIVE_UP_MIN = 15.0  # s: an invoice the sweeps have not seen made for this long polls for itself ...
GIVE_UP_FACTOR = 4.0  # ... or for this many times the longest an invoice took to be seen made, if longer
MAX_PAGES = 20
MAX_ERRORS = 3  # sweeps failed in a row: the rest of the run waits with status polls
CLOCK_SKEW = 120.0  # s: an item created this long before the run started ends a sweep's paging
MAX_KNOWN = 200_000  # ids remembered as made before their invoice reaches the wait stage


@dataclass(slots=True)
class _Wait:
    since: float  # time.time() of the submission
    event: anyio.Event = field(default_factory=anyio.Event)
    made: bool = False


class Sweeper:
    """The run's list sweeps (one task, :meth:`run`) and the waits they end (:meth:`wait`)."""

    def __init__(self, run: Run, *, enabled: bool, after: int = SWEEP_MIN_INVOICES) -> None:
        self.run = run
        self.enabled = enabled
        self.after = after  # the first this many invoices of the stage wait with status polls
        self.offered = 0  # invoices the stage has taken so far (its dispatcher counts them)
        self.started = time.time()
        self.made: set[str] = set()  # seen with a status, not yet asked for by the wait stage
        self.waiting: dict[str, _Wait] = {}
        self.slowest = 0.0  # s: the longest a waiting invoice took to be seen made
        self.sweeps = 0
        self.hits = 0  # invoices seen made (waiting or not yet)
        self.pages = 0
        self.errors = 0
        self._wake = anyio.Event()

    async def wait(self, item: Item) -> bool:
        """True once a sweep saw ``item``'s file made; False: wait for it with status polls instead."""
        fid = item.faktoora_id
        if not self.enabled or item.resumed or item.submitted_at is None or fid is None:
            return False
        if self.offered <= self.after and fid not in self.made:
            return False
        if self.run.options.webhooks is None and self.run.client.events.active:
            return False  # webhook events end this wait (auto mode, the hub is fed)
        if fid in self.made:
            self.made.discard(fid)
            return True
        entry = self.waiting[fid] = _Wait(item.submitted_at)
        self._wake.set()
        try:
            await entry.event.wait()
        finally:
            self.waiting.pop(fid, None)
        return entry.made

    async def run_sweeps(self) -> None:
        """Sweep while anything waits, until the stage ends (the caller cancels this task)."""
        interval = MIN_INTERVAL
        while self.enabled:
            if not self.waiting:
                self._wake = anyio.Event()
                await self._wake.wait()
                continue
            await anyio.sleep(interval)
            found = await self.sweep()
            if found is None:
                self.errors += 1
                if self.errors >= MAX_ERRORS:
                    logger.warning("invoice list sweeps failed %d times: waiting with polls", MAX_ERRORS)
                    self.stop()
                    return
                continue
            self.errors = 0
            self.hits += found
            interval = MIN_INTERVAL if found else min(MAX_INTERVAL, 2 * interval)
            self._release_stale()

    def stop(self) -> None:
        """No more sweeps: every waiting invoice polls for itself."""
        self.enabled = False
        for entry in self.waiting.values():
            entry.event.set()

    async def sweep(self) -> int | None:
        """One sweep: how many invoices it saw made for the first time (None: a request failed)."""
        self.sweeps += 1
        unseen = set(self.waiting)
        found = 0
        pages = self.run.client.invoices.list(sort="createdAt", order="desc", per_page=PER_PAGE).pages()
        try:
            with background():
                async for page in pages:
                    self.pages += 1
                    self.run.count_request("list")
                    found += self._take(page, unseen)
                    if not unseen or self._past_run(page) or page.page >= MAX_PAGES:
                        break
        except errors.FaktooraError as exc:
            self.run.count_request("list")  # the page that failed
            logger.info("invoice list sweep failed: %s", exc)
            return None
        return found

    def _take(self, page: Page[InvoiceListItem], unseen: set[str]) -> int:
        found = 0
        now = time.time()
        for item in page.items:
            fid = item.faktoora_id
            if fid is None:
                continue
            unseen.discard(fid)
            if item.invoice_status is None:
                continue
            entry = self.waiting.get(fid)
            if entry is not None:
                if not entry.made:
                    entry.made = True
                    entry.event.set()
                    self.slowest = max(self.slowest, now - entry.since)
                    found += 1
            elif fid not in self.made and len(self.made) < MAX_KNOWN and self._in_run(item):
                self.made.add(fid)
                found += 1
        return found

    def _in_run(self, item: InvoiceListItem) -> bool:
        created = item.created_at
        return created is None or created.timestamp() >= self.started - CLOCK_SKEW

    def _past_run(self, page: Page[InvoiceListItem]) -> bool:
        """The page reached invoices created before the run (sorted newest first): none of ours follow."""
        return bool(page.items) and not self._in_run(page.items[-1])

    def _release_stale(self) -> None:
        limit = max(GIVE_UP_MIN, GIVE_UP_FACTOR * self.slowest)
        now = time.time()
        stale = [e for e in self.waiting.values() if not e.made and now - e.since > limit]
        if stale and not self.hits:
            # Not one invoice seen made in all this time: this server's list does not tell (no
            # invoiceStatus on its items); stop sweeping rather than make every invoice wait this long.
            logger.warning("the invoice list shows no finished invoice: waiting with status polls")
            self.stop()
            return
        for entry in stale:
            entry.event.set()  # made stays False: this one polls for itself
