"""``client.invoices``: create, pre-flight, list, status, wait, download, validation report, numbers."""

from __future__ import annotations

import builtins
import datetime
import logging
import time
from collections.abc import Callable, Sequence
from typing import Literal, overload

from .. import errors
from .. import preflight as _preflight
from .._raw import raw_method
from ..files import DownloadResult
from ..models import CreatedInvoice, InvoiceListItem, InvoiceStatus, NextNumber, Succeeded
from ..models.responses import WAIT_TARGETS
from ..pagination import AsyncPaginator
from ..protocol import MAX_INVOICES_PER_REQUEST, APIRequest, InvoiceInput, WireInvoice, prepare_invoices
from ..protocol import invoices as proto
from ..waiting import Waiter
from ._base import DEFAULT_PER_PAGE, PathLike, Requester, Resource, namer

__all__ = ["Invoices", "InvoicesWithRawResponse"]

logger = logging.getLogger("faktoora_async")

#: Status requests remembered per client (ids being polled); beyond that the memory starts afresh.
_STATUS_REQUESTS_KEPT = 1024

WaitTarget = Literal["draft", "review", "created", "sent", "generated"]


class Invoices(Resource):
    """Outgoing invoices (``/invoices``)."""

    def __init__(self, requester: Requester, waiter: Waiter) -> None:
        super().__init__(requester)
        self._waiter = waiter
        self._status_requests: dict[str, APIRequest] = {}  # faktoora id -> its (immutable) status GET

    @property
    def with_raw_response(self) -> InvoicesWithRawResponse:
        """The same calls, each returning a :class:`~faktoora_async.RawResponse` (status, headers, body)."""
        return InvoicesWithRawResponse(self)

    # ------------------------------------------------------------------ create and pre-flight

    def _prepare(
        self, invoices: InvoiceInput | Sequence[InvoiceInput], *, preflight: bool
    ) -> list[WireInvoice]:
        # the body is encoded before anything awaits: the wire forms may share the caller's plain lines
        items = self._preflighted(invoices, share_lines=True) if preflight else prepare_invoices(invoices)
        if not items:
            raise ValueError("create() needs at least one invoice")
        if len(items) > MAX_INVOICES_PER_REQUEST:
            raise ValueError(
                f"create() sends at most {MAX_INVOICES_PER_REQUEST} invoices per request, got {len(items)}; "
                "split the list (or use faktoora_async.bulk)"
            )
        return items

    async def create(
        self, invoices: InvoiceInput | Sequence[InvoiceInput], *, preflight: bool = True
    ) -> builtins.list[CreatedInvoice]:
        """Create 1 to 100 invoices in one request; returns one :class:`CreatedInvoice` per invoice.

        Each invoice is an :class:`~faktoora_async.Invoice`, a dict in faktoora's JSON shape (``date`` and
        ``Decimal`` values or strings) or a prepared :class:`~faktoora_async.protocol.WireInvoice`.  More
        than 100 raise ``ValueError`` (no silent chunking; the bulk engine batches).  Unless
        ``preflight=False``, the EN 16931 pre-flight runs first and every problem of every invoice is
        raised at once as :class:`~faktoora_async.errors.InvoiceValidationError`, before anything is sent.
        The result remembers each invoice's number and resting state, so ``wait(created)`` knows its target.
        """
        items = self._prepare(invoices, preflight=preflight)
        created = await self._r.request(proto.create(items), builtins.list[CreatedInvoice])
        if len(created) != len(items):
            raise errors.ResponseDecodeError(
                f"sent {len(items)} invoices but the server answered with {len(created)} ids"
            )
        logger.info("created %d invoice(s)", len(created))
        now = time.time()
        return [
            done.with_context(
                resting_status=wire.resting_status, invoice_number=wire.number, submitted_at=now
            )
            for wire, done in zip(items, created, strict=True)
        ]

    def preflight(self, invoices: InvoiceInput | Sequence[InvoiceInput]) -> builtins.list[WireInvoice]:
        """The pre-flight alone: the invoices' wire forms, or InvoiceValidationError naming every problem."""
        return self._preflighted(invoices, share_lines=False)

    def _preflighted(
        self, invoices: InvoiceInput | Sequence[InvoiceInput], *, share_lines: bool
    ) -> builtins.list[WireInvoice]:
        checked = self._check(invoices, share_lines=share_lines)
        problems = [p for c in checked for p in c.problems]
        if problems:
            raise errors.InvoiceValidationError(problems)
        return [c.wire for c in checked if c.wire is not None]

    def check(
        self, invoices: InvoiceInput | Sequence[InvoiceInput], *, start: int = 0
    ) -> builtins.list[_preflight.Checked]:
        """The pre-flight per invoice, without raising: ``[Checked(index, wire, problems)]``."""
        return self._check(invoices, start=start)

    def _check(
        self, invoices: InvoiceInput | Sequence[InvoiceInput], *, start: int = 0, share_lines: bool = False
    ) -> builtins.list[_preflight.Checked]:
        if isinstance(invoices, (str, bytes)):
            raise TypeError("an invoice must be a faktoora_async.Invoice or a dict, got a string")
        items = [invoices] if not isinstance(invoices, Sequence) else list(invoices)
        return _preflight.check(items, start=start, share_lines=share_lines)

    # ------------------------------------------------------------------ list

    def list(
        self,
        *,
        keyword: str | None = None,
        invoice_number: str | None = None,
        issue_date_from: datetime.date | str | None = None,
        issue_date_to: datetime.date | str | None = None,
        sort: Literal["issueDate", "invoiceNumber", "createdAt"] | str | None = None,
        order: Literal["asc", "desc"] | None = None,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> AsyncPaginator[InvoiceListItem]:
        """Matching invoices: ``await`` it for one page, ``async for`` it for every item, ``.pages()``."""
        params = proto.filters(
            keyword=keyword,
            invoice_number=invoice_number,
            issue_date_from=issue_date_from,
            issue_date_to=issue_date_to,
            sort=sort,
            order=order,
        )
        return self._paginate(
            lambda n, size: proto.list_page(params, n, size), InvoiceListItem, page, per_page
        )

    async def find(self, invoice_number: str) -> InvoiceListItem | None:
        """The invoice with exactly this number, or None (one list request, filtered by number)."""
        first = await self.list(invoice_number=invoice_number, per_page=DEFAULT_PER_PAGE)
        for item in first.items:
            if item.invoice_number == invoice_number and item.faktoora_id:
                return item
        return None

    # ------------------------------------------------------------------ status and wait

    async def status(self, faktoora_id: str) -> InvoiceStatus:
        """``GET /api/v2/invoices/{id}/status``.

        The request of an id is described once and reused (waiting polls the same ids again and again).
        """
        req = self._status_requests.get(faktoora_id) if type(faktoora_id) is str else None
        if req is None:
            req = proto.status(faktoora_id)
            if type(faktoora_id) is str:
                if len(self._status_requests) >= _STATUS_REQUESTS_KEPT:
                    self._status_requests.clear()
                self._status_requests[faktoora_id] = req
        return await self._r.request(req, InvoiceStatus)

    async def wait(
        self,
        invoice: str | CreatedInvoice,
        *,
        until: WaitTarget | None = None,
        timeout: float = 300.0,
        submitted_at: float | None = None,
        confirm: bool = True,
        webhooks: bool | None = None,
    ) -> InvoiceStatus:
        """Wait until the invoice rests (or reaches ``until``); return its status.

        ``invoice`` is a faktooraId or what ``create()`` returned.  The target is ``until`` when given
        (``"generated"``: its file exists), else the resting state ``create()`` recorded (draft / review /
        created / sent when it has a delivery), else derived from the status itself (``created`` with a
        delivery waits for ``sent``).  Waits on webhook events fed to ``client.events`` when there are any,
        else polls on the client's learned schedule (see :mod:`faktoora_async.waiting`).
        ``submitted_at`` (``time.time()`` of the create) lets the schedule time the first poll; without it
        (and without a CreatedInvoice) the first poll is sent at once.  ``confirm=False`` trusts an event
        without a confirming GET.  Raises GenerationFailedError, WaitTimeoutError after ``timeout`` s, or
        NotFoundError for an id the server does not know.
        """
        if until is not None and until not in WAIT_TARGETS:
            raise ValueError(f"until must be one of {', '.join(WAIT_TARGETS)}")
        if isinstance(invoice, CreatedInvoice):
            faktoora_id, target = invoice.faktoora_id, until or invoice.resting_status
            if submitted_at is None:
                submitted_at = invoice.submitted_at
        else:
            faktoora_id, target = invoice, until
        reached: Callable[[InvoiceStatus], bool]
        if target is None:
            reached = InvoiceStatus.rests  # no expectation: judged by the status itself
        else:
            goal = target
            reached = lambda status: status.reached(goal)  # noqa: E731

        return await self._waiter.wait(
            faktoora_id,
            lambda: self.status(faktoora_id),
            reached,
            target or "created",
            timeout=timeout,
            submitted_at=submitted_at,
            confirm=confirm,
            webhooks=webhooks,
        )

    # ------------------------------------------------------------------ files

    @overload
    async def download(
        self,
        faktoora_id: str | None = None,
        *,
        invoice_number: str | None = None,
        format: Literal["pdf", "xml"] = "pdf",
        to: None = None,
    ) -> bytes: ...
    @overload
    async def download(
        self,
        faktoora_id: str | None = None,
        *,
        invoice_number: str | None = None,
        format: Literal["pdf", "xml"] = "pdf",
        to: PathLike,
    ) -> DownloadResult: ...
    async def download(
        self,
        faktoora_id: str | None = None,
        *,
        invoice_number: str | None = None,
        format: Literal["pdf", "xml"] = "pdf",
        to: PathLike | None = None,
    ) -> bytes | DownloadResult:
        """The invoice file (``format="pdf"`` or ``"xml"``) by faktooraId or by invoice number.

        Without ``to``: the bytes.  With ``to``: streamed atomically to that file, or into that folder
        (named after the server's proposal or the id/number, sanitised); returns a
        :class:`~faktoora_async.files.DownloadResult` (path, size, sha256, content type).
        """
        req = proto.file(faktoora_id, invoice_number, format)
        stem = faktoora_id if faktoora_id is not None else str(invoice_number)
        return await self._r.download(
            req, to=to, default_name=namer(stem, format, prefer_header=faktoora_id is not None)
        )

    @overload
    async def validation_report(self, faktoora_id: str, to: None = None) -> bytes: ...
    @overload
    async def validation_report(self, faktoora_id: str, to: PathLike) -> DownloadResult: ...
    async def validation_report(self, faktoora_id: str, to: PathLike | None = None) -> bytes | DownloadResult:
        """The PDF validation report (NotFoundError while none exists)."""
        return await self._r.download(
            proto.validation_report(faktoora_id),
            to=to,
            default_name=namer(f"{faktoora_id}-validation-report", "pdf", prefer_header=False),
        )

    # ------------------------------------------------------------------ delete, numbers

    async def delete(self, faktoora_id: str) -> None:
        """Delete an invoice (the account needs ``invoiceDeleteMode``, else PermissionDeniedError)."""
        await self._r.request_none(proto.delete(faktoora_id))

    async def next_number(self, template: str | None = None) -> NextNumber:
        """Preview the next invoice number (nothing is allocated), from ``template`` or the account's."""
        return await self._r.request(proto.next_number(template), NextNumber)

    async def verify_number(self, invoice_number: str) -> bool:
        """True when ``invoice_number`` is free in the account, False when an invoice already has it."""
        result = await self._r.request(proto.verify_number(invoice_number), Succeeded)
        return result.succeed


class InvoicesWithRawResponse:
    """``client.invoices.with_raw_response``: every call returns a RawResponse around its usual result."""

    def __init__(self, invoices: Invoices) -> None:
        self.create = raw_method(invoices.create)
        self.list = raw_method(invoices.list)
        self.find = raw_method(invoices.find)
        self.status = raw_method(invoices.status)
        self.wait = raw_method(invoices.wait)
        self.download = raw_method(invoices.download)
        self.validation_report = raw_method(invoices.validation_report)
        self.delete = raw_method(invoices.delete)
        self.next_number = raw_method(invoices.next_number)
        self.verify_number = raw_method(invoices.verify_number)
