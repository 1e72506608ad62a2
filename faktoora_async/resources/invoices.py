"""``client.invoices``: create, list, status, wait, download, validation report, delete, next number."""

from __future__ import annotations

import builtins
import datetime
import logging
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, overload

import anyio
import msgspec

from .. import errors, protocol
from ..files import DownloadResult
from ..models import CreatedInvoice, Invoice, InvoiceListItem, InvoiceStatus, NextNumber, Page
from ..models._base import dec_hook
from ..protocol import APIRequest
from ._base import DEFAULT_PER_PAGE, PathLike, Resource, segment

__all__ = ["RESTING_ORDER", "InvoiceInput", "Invoices"]

logger = logging.getLogger("faktoora_async")

InvoiceInput = Invoice | Mapping[str, Any]
RESTING_ORDER: dict[str, int] = {"draft": 1, "review": 2, "created": 3, "sent": 4}
_ACCEPT = {"pdf": "application/pdf", "xml": "application/xml"}
_MEMO_LIMIT = 100_000


def _structure_errors(index: int, payload: Mapping[str, Any]) -> list[errors.FieldError]:
    """Type/shape problems of a dict invoice, given as wire data (msgspec's message names the path)."""
    try:
        msgspec.convert(payload, Invoice, dec_hook=dec_hook, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = None
        if "at `$" in text:
            field = text.rsplit("at `$", 1)[1].rstrip("`").lstrip(".")
        return [
            errors.FieldError(
                index=index, field=f"invoices[{index}].{field}" if field else None, message=text
            )
        ]
    return []


class _Violation(msgspec.Struct, frozen=True):
    rule_id: str
    path: str
    message: str


class Invoices(Resource):
    """Outgoing invoices (``/invoices``)."""

    # ------------------------------------------------------------------ create

    async def create(
        self, invoices: InvoiceInput | Sequence[InvoiceInput], *, preflight: bool = True
    ) -> builtins.list[CreatedInvoice]:
        """Create 1 to 100 invoices in one request; returns ``[CreatedInvoice(faktoora_id, details_page)]``.

        ``invoices`` is one invoice or a list, each an :class:`~faktoora_async.Invoice` or a dict in
        faktoora's own JSON shape.  More than 100 raise ``ValueError`` (no silent chunking: a partial
        success would be hard to reason about; the bulk runner batches).  Unless ``preflight=False``, the
        EN 16931 pre-flight rules run first and every problem of every invoice is raised at once as
        :class:`~faktoora_async.errors.InvoiceValidationError`, before anything is sent.
        """
        items: builtins.list[InvoiceInput] = (
            [invoices] if isinstance(invoices, (Invoice, Mapping)) else list(invoices)
        )
        if not items:
            raise ValueError("create() needs at least one invoice")
        if len(items) > protocol.MAX_INVOICES_PER_REQUEST:
            raise ValueError(
                f"create() sends at most {protocol.MAX_INVOICES_PER_REQUEST} invoices per request, got "
                f"{len(items)}; split the list (or use faktoora_async.bulk)"
            )
        for item in items:
            if not isinstance(item, (Invoice, Mapping)):
                raise TypeError(
                    f"an invoice must be a faktoora_async.Invoice or a dict, got {type(item).__name__}"
                )
        if preflight:
            # the wire form made for the checks is what gets sent: converted once
            body = protocol.encode_payloads(self._preflight(items))
        else:
            body = protocol.encode_invoices(items)
        req = APIRequest("POST", "/invoices", body=body, content_type=protocol.JSON)
        resp = await self._transport.request(req)
        created: builtins.list[CreatedInvoice] = protocol.decode_json(
            list[CreatedInvoice], resp.body, status=resp.status, content_type=resp.content_type
        )
        if len(created) != len(items):
            raise errors.ResponseDecodeError(
                f"sent {len(items)} invoices but the server answered with {len(created)} ids",
                status=resp.status,
                body=resp.body[:2000].decode("utf-8", "replace"),
            )
        memo = self._client._resting
        for inv, done in zip(items, created, strict=True):
            memo[done.faktoora_id] = protocol.invoice_resting_status(inv)
        while len(memo) > _MEMO_LIMIT:
            memo.pop(next(iter(memo)))
        logger.info("created %d invoice(s)", len(created))
        return created

    def preflight(self, invoices: InvoiceInput | Sequence[InvoiceInput]) -> None:
        """Run the pre-flight checks only; raise InvoiceValidationError listing every problem."""
        self._preflight([invoices] if isinstance(invoices, (Invoice, Mapping)) else list(invoices))

    def _preflight(self, items: Sequence[InvoiceInput]) -> builtins.list[dict[str, Any]]:
        from ..einvoice import rules  # lazy: pure domain code, only needed here

        payloads = [protocol.invoice_to_builtins(inv) for inv in items]
        violations: builtins.list[Any] = []
        for index, (inv, payload) in enumerate(zip(items, payloads, strict=True)):
            if isinstance(inv, Invoice):
                continue  # a struct is well-typed by construction
            for fe in _structure_errors(index, payload):
                violations.append(_Violation("STRUCTURE", fe.field or f"invoices[{index}]", fe.message))
        try:
            found = list(rules.check_invoices(payloads))
        except Exception as exc:  # a malformed dict can trip a rule; the structure errors already say why
            if not violations:
                raise
            logger.debug("pre-flight rules failed on malformed input: %r", exc)
            found = []
        violations.extend(found)
        if violations:
            raise errors.InvoiceValidationError(violations)
        return payloads

    # ------------------------------------------------------------------ list

    def _filters(
        self,
        keyword: str | None,
        invoice_number: str | None,
        issue_date_from: datetime.date | str | None,
        issue_date_to: datetime.date | str | None,
        sort: str | None,
        order: str | None,
    ) -> tuple[tuple[str, str], ...]:
        return protocol.query(
            keyword=keyword,
            invoice_number=invoice_number,
            issue_date_from=issue_date_from,
            issue_date_to=issue_date_to,
            sort=sort,
            order=order,
        )

    def list(
        self,
        *,
        keyword: str | None = None,
        invoice_number: str | None = None,
        issue_date_from: datetime.date | str | None = None,
        issue_date_to: datetime.date | str | None = None,
        sort: str | None = None,
        order: Literal["asc", "desc"] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
        start_page: int = 1,
    ) -> AsyncIterator[InvoiceListItem]:
        """Every matching invoice across all pages: ``async for item in client.invoices.list(...)``."""
        params = self._filters(keyword, invoice_number, issue_date_from, issue_date_to, sort, order)
        return self._items(InvoiceListItem, "/invoices", params, start_page, per_page)

    def list_pages(
        self,
        *,
        keyword: str | None = None,
        invoice_number: str | None = None,
        issue_date_from: datetime.date | str | None = None,
        issue_date_to: datetime.date | str | None = None,
        sort: str | None = None,
        order: Literal["asc", "desc"] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
        start_page: int = 1,
    ) -> AsyncIterator[Page[InvoiceListItem]]:
        """The pages themselves (``page.items``, ``page.meta``), one request each."""
        params = self._filters(keyword, invoice_number, issue_date_from, issue_date_to, sort, order)
        return self._pages(InvoiceListItem, "/invoices", params, start_page, per_page)

    async def page(
        self,
        page: int = 1,
        *,
        keyword: str | None = None,
        invoice_number: str | None = None,
        issue_date_from: datetime.date | str | None = None,
        issue_date_to: datetime.date | str | None = None,
        sort: str | None = None,
        order: Literal["asc", "desc"] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> Page[InvoiceListItem]:
        """One page with its meta."""
        params = self._filters(keyword, invoice_number, issue_date_from, issue_date_to, sort, order)
        return await self._page(InvoiceListItem, "/invoices", params, page, per_page)

    # ------------------------------------------------------------------ status and wait

    async def status(self, faktoora_id: str) -> InvoiceStatus:
        """``GET /api/v2/invoices/{id}/status``."""
        result: InvoiceStatus = await self._get(
            InvoiceStatus, f"/invoices/{segment(faktoora_id)}/status", api_version="v2"
        )
        return result

    @staticmethod
    def _settled(status: str | None, delivery: bool, until: str | None) -> bool:
        if status is None:
            return False
        if status not in RESTING_ORDER:
            return True  # an unknown status: hand it to the caller rather than wait forever
        if until is not None:
            return RESTING_ORDER[status] >= RESTING_ORDER.get(until, 0)
        if status == "created":
            return not delivery
        return True

    async def wait(
        self,
        faktoora_id: str,
        *,
        timeout: float = 300.0,
        until: str | None = None,
        poll_interval: float = 0.25,
        max_poll_interval: float = 5.0,
        event_poll_interval: float = 15.0,
    ) -> InvoiceStatus:
        """Wait until the invoice rests; return its final status.

        The resting state is ``until`` when given, else what the client remembers from ``create()``
        (draft / review / created / sent when it has a delivery), else derived from the status itself
        (``created`` with a delivery waits for ``sent``).  Polls with growing intervals; when
        ``client.events`` has been fed webhooks, waits on events and only polls every
        ``event_poll_interval`` seconds to fill gaps, confirming the result with one status GET.
        Raises :class:`~faktoora_async.errors.GenerationFailedError` when generation fails and
        :class:`~faktoora_async.errors.WaitTimeoutError` after ``timeout`` seconds.
        """
        if until is not None and until not in RESTING_ORDER:
            raise ValueError(f"until must be one of {', '.join(RESTING_ORDER)}")
        expected = until or self._client._resting.get(faktoora_id)
        hub = self._client.events
        last: InvoiceStatus | None = None

        def check(st: InvoiceStatus) -> bool:
            if st.failed:
                raise errors.GenerationFailedError(
                    f"invoice {faktoora_id} could not be generated: {st.error or 'no reason given'}",
                    faktoora_id=faktoora_id,
                    status=st,
                )
            return self._settled(st.invoice_status, bool(st.delivery), expected)

        with anyio.move_on_after(timeout if math.isfinite(timeout) else None) as scope:
            last = await self.status(faktoora_id)
            if check(last):
                return last
            interval = poll_interval
            seen = hub.latest(faktoora_id)
            while True:
                if hub.active:
                    listen = event_poll_interval
                    if seen is not None and self._settled(seen, bool(last.delivery), expected):
                        # an event already said "done" but the server did not agree yet: re-check soon
                        listen = interval
                        interval = min(interval * 1.6, max_poll_interval)
                    event = await hub.wait_for_change(faktoora_id, seen, listen)
                    if event is not None:
                        seen = event
                        if not self._settled(event, bool(last.delivery), expected):
                            continue
                    # an event says we are done (confirm it) or nothing came (fill the gap)
                    last = await self.status(faktoora_id)
                else:
                    await anyio.sleep(interval)
                    interval = min(interval * 1.6, max_poll_interval)
                    last = await self.status(faktoora_id)
                if check(last):
                    return last
        assert scope.cancelled_caught
        state = last.invoice_status or last.job_status if last is not None else None
        raise errors.WaitTimeoutError(
            f"invoice {faktoora_id} did not reach its resting state within {timeout}s (last: {state})",
            faktoora_id=faktoora_id,
            last_status=last,
        )

    # ------------------------------------------------------------------ files

    def _file_request(
        self, faktoora_id: str | None, invoice_number: str | None, format: str
    ) -> tuple[str, tuple[tuple[str, str], ...], str, str, bool]:
        if format not in _ACCEPT:
            raise ValueError("format must be 'pdf' or 'xml'")
        if (faktoora_id is None) == (invoice_number is None):
            raise ValueError("give exactly one of faktoora_id or invoice_number")
        if faktoora_id is not None:
            return f"/invoices/{segment(faktoora_id)}", (), _ACCEPT[format], faktoora_id, True
        assert invoice_number is not None
        return "/invoices", (("invoiceNumber", invoice_number),), _ACCEPT[format], invoice_number, False

    @overload
    async def download(
        self,
        faktoora_id: str | None = None,
        *,
        invoice_number: str | None = None,
        format: str = "pdf",
        to: None = None,
    ) -> bytes: ...
    @overload
    async def download(
        self,
        faktoora_id: str | None = None,
        *,
        invoice_number: str | None = None,
        format: str = "pdf",
        to: PathLike,
    ) -> Path: ...
    async def download(
        self,
        faktoora_id: str | None = None,
        *,
        invoice_number: str | None = None,
        format: str = "pdf",
        to: PathLike | None = None,
    ) -> bytes | Path:
        """The invoice file (``format="pdf"`` or ``"xml"``) by faktooraId or invoice number.

        Without ``to``: the bytes.  With ``to``: streamed atomically to that file, or into that folder
        (named after the invoice number, sanitised); returns the final Path.
        """
        result = await self.download_to(faktoora_id, invoice_number=invoice_number, format=format, to=to)
        return self._as_path(result)

    async def download_to(
        self,
        faktoora_id: str | None = None,
        *,
        invoice_number: str | None = None,
        format: str = "pdf",
        to: PathLike | None,
    ) -> bytes | DownloadResult:
        """Like :meth:`download` but returns a :class:`~faktoora_async.files.DownloadResult`
        (path, size, sha256) when ``to`` is given."""
        path, params, accept, stem, by_id = self._file_request(faktoora_id, invoice_number, format)
        return await self._file(
            path,
            accept=accept,
            params=params,
            to=to,
            default_name=self._namer(stem, format, prefer_header=by_id),
        )

    @overload
    async def validation_report(self, faktoora_id: str, to: None = None) -> bytes: ...
    @overload
    async def validation_report(self, faktoora_id: str, to: PathLike) -> Path: ...
    async def validation_report(self, faktoora_id: str, to: PathLike | None = None) -> bytes | Path:
        """The PDF validation report (404 while none exists)."""
        result = await self._file(
            f"/invoices/{segment(faktoora_id)}/validation-report",
            accept="application/pdf",
            to=to,
            default_name=self._namer(f"{faktoora_id}-validation-report", "pdf", prefer_header=False),
        )
        return self._as_path(result)

    # ------------------------------------------------------------------ delete, next number

    async def delete(self, faktoora_id: str) -> None:
        """Delete an invoice (the account needs ``invoiceDeleteMode``, else PermissionDeniedError)."""
        await self._transport.request(APIRequest("DELETE", f"/invoices/{segment(faktoora_id)}"))
        self._client._resting.pop(faktoora_id, None)

    async def next_number(self, template: str | None = None) -> NextNumber:
        """Preview the next invoice number (nothing is reserved)."""
        result: NextNumber = await self._get(
            NextNumber, "/invoices/next-number", params=protocol.query(template=template)
        )
        return result
