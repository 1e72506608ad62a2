"""Incoming invoices (``/import/incoming``): the upload answer, the invoice record and its update.

The content parts, status, validation and attachments of an incoming invoice have the same shapes as
those of imported outgoing invoices (:mod:`faktoora_async.models.imports`).
"""

from __future__ import annotations

import re
from decimal import Decimal

from ._base import FrozenBase, ResponseBase, Timestamp, WireDate
from ._checks import Problems

__all__ = [
    "INCOMING_READ_ONLY",
    "INCOMING_SORT_FIELDS",
    "IncomingCreated",
    "IncomingInvoice",
    "IncomingStatusValue",
    "IncomingUpdate",
]

INCOMING_SORT_FIELDS: tuple[str, ...] = (
    "issueDate",
    "invoiceNumber",
    "createdAt",
    "totalGross",
    "sellerName",
)
INCOMING_READ_ONLY: tuple[str, ...] = ("importId", "status", "filename", "createdAt", "updatedAt")
_CURRENCY = re.compile(r"[A-Z]{3}")


class IncomingStatusValue:
    """Values of an incoming invoice's ``status`` (its overall status; unknown values stay strings)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    FAILED = "failed"


class IncomingCreated(ResponseBase, frozen=True):
    """202 answer of ``POST /import/incoming``: ``{"importId": "IMP456789"}``."""

    import_id: str


class IncomingInvoice(ResponseBase, frozen=True):
    """An incoming invoice record (``GET /import/incoming/{importId}`` and the list's items).

    Every field but the id is optional; fields set by ``update()`` that the SDK does not name are in ``raw``.
    """

    import_id: str
    invoice_number: str | None = None
    issue_date: WireDate | None = None
    due_date: WireDate | None = None
    seller_name: str | None = None
    seller_vat_id: str | None = None
    currency: str | None = None
    total_net: Decimal | None = None
    total_tax: Decimal | None = None
    total_gross: Decimal | None = None
    buyer_reference: str | None = None
    order_reference: str | None = None
    note: str | None = None
    status: str | None = None
    filename: str | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class IncomingUpdate(FrozenBase, frozen=True):
    """The fields ``PATCH /import/incoming/{importId}`` changes (only those given are sent).

    Dates are ``datetime.date`` (or ``YYYYMMDD``), amounts ``Decimal`` (ints and decimal strings are
    converted), ``currency`` an ISO 4217 code.
    """

    invoice_number: str | None = None
    issue_date: WireDate | None = None
    due_date: WireDate | None = None
    seller_name: str | None = None
    seller_vat_id: str | None = None
    currency: str | None = None
    total_net: Decimal | None = None
    total_tax: Decimal | None = None
    total_gross: Decimal | None = None
    buyer_reference: str | None = None
    order_reference: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        p = Problems(self, "incoming invoice")
        p.text("invoice_number")
        for attr in ("seller_name", "seller_vat_id", "buyer_reference", "order_reference", "note"):
            p.text(attr)
        p.date("issue_date")
        p.date("due_date")
        p.pattern("currency", _CURRENCY, "an ISO 4217 code such as EUR")
        for attr in ("total_net", "total_tax", "total_gross"):
            p.decimal(attr)
        p.raise_if_any()
