"""Responses of the outgoing-invoice endpoints: created invoices, status, list items, pages, next number.

Every response type ignores unknown fields, and status-like values are plain ``str`` so that an enum value
the SDK does not know yet is kept as it is (compare with the constants in :class:`InvoiceStatusValue`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

import msgspec

from ._base import FrozenBase, WireDate

__all__ = [
    "CreatedInvoice",
    "DeliveryStatus",
    "InvoiceListItem",
    "InvoiceStatus",
    "InvoiceStatusValue",
    "JobStatusValue",
    "NextNumber",
    "Page",
    "PageMeta",
    "ValidationStatus",
]

T = TypeVar("T")


class InvoiceStatusValue:
    """Known values of ``invoiceStatus`` (the field itself is a plain string)."""

    DRAFT = "draft"
    REVIEW = "review"
    CREATED = "created"
    SENT = "sent"
    ORDER: tuple[str, ...] = ("draft", "review", "created", "sent")


class JobStatusValue:
    """Known values of ``jobStatus``."""

    QUEUED = "queued"
    PROCESSING = "processing"
    FAILED = "failed"


class CreatedInvoice(FrozenBase, frozen=True):
    """One element of the 202 answer to ``POST /invoices``."""

    faktoora_id: str
    details_page: str | None = None


class DeliveryStatus(FrozenBase, frozen=True):
    type: str | None = None
    recipient: str | None = None
    carbon_copy: str | list[str] | None = None
    blind_carbon_copy: str | list[str] | None = None


class ValidationStatus(FrozenBase, frozen=True):
    """``validation`` of the status object: status ``processing|success|error``, ``validity``."""

    status: str | None = None
    validity: bool | None = None
    created_at: datetime.datetime | None = None


class InvoiceStatus(FrozenBase, frozen=True):
    """``GET /api/v2/invoices/{id}/status``."""

    invoice_status: str | None = None
    job_status: str | None = None
    authority: list[Any] = msgspec.field(default_factory=list)
    delivery: list[DeliveryStatus] = msgspec.field(default_factory=list)
    validation: ValidationStatus | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.job_status == JobStatusValue.FAILED

    @property
    def generating(self) -> bool:
        """True while the file is being generated (no ``invoiceStatus`` yet, job queued/processing)."""
        return self.invoice_status is None and not self.failed


class InvoiceListItem(FrozenBase, frozen=True):
    """One element of ``GET /invoices``."""

    faktoora_id: str
    invoice_number: str | None = None
    issue_date: WireDate | None = None
    invoice_status: str | None = None
    format: str | None = None
    currency: str | None = None
    buyer_name: str | None = None
    total_gross: Decimal | None = None
    created_at: datetime.datetime | None = None


class PageMeta(FrozenBase, frozen=True):
    page: int = 1
    per_page: int | None = None
    total: int | None = None
    total_pages: int | None = None


class NextNumber(FrozenBase, frozen=True):
    """``GET /invoices/next-number``: a preview, nothing is reserved."""

    invoice_number: str
    counter: int | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list endpoint; ``meta`` is None when the server sent a bare array."""

    items: Sequence[T]
    page: int
    per_page: int
    meta: PageMeta | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        if self.meta is not None and self.meta.total_pages is not None:
            return self.page < self.meta.total_pages
        if self.meta is not None and self.meta.total is not None and self.meta.per_page:
            return self.page * self.meta.per_page < self.meta.total
        return len(self.items) >= self.per_page > 0

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
