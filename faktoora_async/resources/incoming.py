"""``client.incoming``: invoices the account receives (``/import/incoming``).

Upload (streamed multipart), list, get and update the invoice record; the status, validation, validation
report, content parts, source file and attachments are the routes every imported document shares
(:class:`~faktoora_async.resources.imports.ImportedDocuments`), here under ``/import/incoming``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from .. import errors
from .._raw import raw_method
from ..models._checks import patch_fields, snake
from ..models.incoming import INCOMING_READ_ONLY, IncomingCreated, IncomingInvoice, IncomingUpdate
from ..pagination import AsyncPaginator
from ..protocol import incoming as proto
from ..protocol.records import struct_body
from ._base import DEFAULT_PER_PAGE, Requester
from .imports import ImportedDocuments

__all__ = ["Incoming", "IncomingWithRawResponse"]

_READ_ONLY = set(INCOMING_READ_ONLY) | {snake(name) for name in INCOMING_READ_ONLY}


class Incoming(ImportedDocuments[IncomingCreated, IncomingInvoice]):
    """Incoming invoices: ``upload()`` answers ``IncomingCreated(import_id)``; every other call takes
    that ``import_id``."""

    prefix = proto.PREFIX

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester, created_type=IncomingCreated, item_type=IncomingInvoice)

    @property
    def with_raw_response(self) -> IncomingWithRawResponse:
        return IncomingWithRawResponse(self)

    def list(
        self,
        *,
        keyword: str | None = None,
        status: Sequence[str] | str | None = None,
        invoice_number: str | None = None,
        issue_date_from: datetime.date | str | None = None,
        issue_date_to: datetime.date | str | None = None,
        sort: str | None = None,
        order: str | None = None,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> AsyncPaginator[IncomingInvoice]:
        """Matching incoming invoices (``status``: pending, accepted or failed, one or several; ``keyword``
        searches the invoice number and seller name; dates inclusive)."""
        params = proto.filters(
            keyword=keyword,
            status=status,
            invoice_number=invoice_number,
            issue_date_from=issue_date_from,
            issue_date_to=issue_date_to,
            sort=sort,
            order=order,
        )
        return self._list(params, page, per_page)

    async def get(self, import_id: str) -> IncomingInvoice:
        """The invoice record (number, dates, seller, totals, status, and any field set by ``update``)."""
        return await self._r.request(proto.get(import_id), IncomingInvoice)

    async def update(self, import_id: str, /, **fields: Any) -> IncomingInvoice:
        """Correct the invoice data after import: only the fields given are sent (``None`` clears one).

        Fields: invoice_number, issue_date, due_date (dates), seller_name, seller_vat_id, currency,
        total_net, total_tax, total_gross (decimals), buyer_reference, order_reference, note; a bad value
        or a read-only field (import_id, status, filename, created_at) raises FieldValidationError first.
        """
        read_only = [name for name in fields if name in _READ_ONLY]
        if read_only:
            raise errors.FieldValidationError(
                "incoming invoice",
                [errors.FieldError(None, name, f"{name}: is read-only") for name in read_only],
            )
        checked, send, nulls = patch_fields(IncomingUpdate, fields, "incoming invoice")
        return await self._r.request(
            proto.update(import_id, struct_body(checked, only=send, nulls=nulls)), IncomingInvoice
        )


class IncomingWithRawResponse:
    """``client.incoming.with_raw_response``."""

    def __init__(self, incoming: Incoming) -> None:
        self.list = raw_method(incoming.list)
        self.get = raw_method(incoming.get)
        self.update = raw_method(incoming.update)
        self.upload = raw_method(incoming.upload)
        self.status = raw_method(incoming.status)
        self.content = raw_method(incoming.content)
        self.summary = raw_method(incoming.summary)
        self.line_items = raw_method(incoming.line_items)
        self.taxes = raw_method(incoming.taxes)
        self.payment_terms = raw_method(incoming.payment_terms)
        self.payment_means = raw_method(incoming.payment_means)
        self.seller = raw_method(incoming.seller)
        self.buyer = raw_method(incoming.buyer)
        self.delivery = raw_method(incoming.delivery)
        self.validation = raw_method(incoming.validation)
        self.pdf = raw_method(incoming.pdf)
        self.source = raw_method(incoming.source)
        self.validation_pdf = raw_method(incoming.validation_pdf)
        self.attachments = raw_method(incoming.attachments)
        self.attachment = raw_method(incoming.attachment)
        self.attachment_file = raw_method(incoming.attachment_file)
