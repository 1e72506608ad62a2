"""Responses of the outgoing-invoice endpoints: created invoices, status, list items, pages, next number.

Every response type ignores unknown fields, and status-like values are plain ``str`` so that an enum value
the SDK does not know yet is kept as it is (compare with the constants in :class:`InvoiceStatusValue`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

import msgspec

from ._base import ResponseBase, Timestamp, WireDate

__all__ = [
    "GENERATED",
    "STATUS_RANK",
    "WAIT_TARGETS",
    "CreatedInvoice",
    "DeliveryStatus",
    "InvoiceListItem",
    "InvoiceStatus",
    "InvoiceStatusValue",
    "JobStatusValue",
    "NextNumber",
    "Page",
    "PageMeta",
    "Succeeded",
    "ValidationStatus",
    "resting_status_of",
    "status_reached",
]

T = TypeVar("T")


class InvoiceStatusValue:
    """Known values of ``invoiceStatus`` (the field itself is a plain string), in lifecycle order."""

    DRAFT = "draft"
    REVIEW = "review"
    CREATED = "created"
    SENT = "sent"
    ORDER: tuple[str, ...] = ("draft", "review", "created", "sent")


# The domain facts of an invoice's lifecycle, stated once (waiting, the bulk engine and the webhook hub
# all use these).
STATUS_RANK: dict[str, int] = {name: rank for rank, name in enumerate(InvoiceStatusValue.ORDER, start=1)}
GENERATED = "generated"  # a wait target: the file exists (any invoiceStatus, no job running)
WAIT_TARGETS: tuple[str, ...] = (*InvoiceStatusValue.ORDER, GENERATED)


def resting_status_of(*, draft_only: bool, review_mode: bool, has_delivery: bool) -> str:
    """Where a new invoice settles: draft, review, sent (it has a delivery) or created."""
    if draft_only:
        return InvoiceStatusValue.DRAFT
    if review_mode:
        return InvoiceStatusValue.REVIEW
    return InvoiceStatusValue.SENT if has_delivery else InvoiceStatusValue.CREATED


def status_reached(invoice_status: str | None, target: str) -> bool:
    """Has an invoice in ``invoice_status`` reached ``target`` (a resting state)?  Unknown values count
    as reached, so a state the SDK does not know yet ends a wait instead of prolonging it forever."""
    if invoice_status is None:
        return False
    rank = STATUS_RANK.get(invoice_status)
    if rank is None:
        return True
    return rank >= STATUS_RANK.get(target, 0)


class JobStatusValue:
    """Known values of ``jobStatus``."""

    QUEUED = "queued"
    PROCESSING = "processing"
    FAILED = "failed"


class CreatedInvoice(ResponseBase, frozen=True):
    """One element of the 202 answer to ``POST /invoices``.

    ``create()`` also records, beside the wire fields, the invoice number it sent and the state the
    invoice will rest in (``resting_status``), so ``invoices.wait(created)`` knows what to wait for.
    """

    faktoora_id: str
    details_page: str | None = None

    @property
    def resting_status(self) -> str | None:
        value = self.__dict__.get("resting_status")
        return value if isinstance(value, str) else None

    @property
    def invoice_number(self) -> str | None:
        value = self.__dict__.get("invoice_number")
        return value if isinstance(value, str) else None

    @property
    def submitted_at(self) -> float | None:
        """``time.time()`` when the server accepted it (for the waiter's schedule)."""
        value = self.__dict__.get("submitted_at")
        return value if isinstance(value, float) else None

    def with_context(
        self, *, resting_status: str, invoice_number: str | None, submitted_at: float | None = None
    ) -> CreatedInvoice:
        """Record what was sent (returns ``self``)."""
        self.__dict__.update(
            resting_status=resting_status, invoice_number=invoice_number, submitted_at=submitted_at
        )
        return self


class Succeeded(ResponseBase, frozen=True):
    """``{"succeed": true|false}``, faktoora's answer to deletes and verify calls."""

    succeed: bool = False


class DeliveryStatus(ResponseBase, frozen=True):
    type: str | None = None
    recipient: str | None = None
    carbon_copy: str | list[str] | None = None
    blind_carbon_copy: str | list[str] | None = None


class ValidationStatus(ResponseBase, frozen=True):
    """``validation`` of the status object: status ``processing|success|error``, ``validity``."""

    status: str | None = None
    validity: bool | None = None
    created_at: Timestamp | None = None


class InvoiceStatus(ResponseBase, frozen=True):
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

    @property
    def file_ready(self) -> bool:
        """The invoice's file exists: it has an ``invoiceStatus`` and no generation job is running."""
        return self.invoice_status is not None and self.job_status not in (
            JobStatusValue.QUEUED,
            JobStatusValue.PROCESSING,
        )

    def reached(self, target: str) -> bool:
        """Has this status reached ``target`` (a resting state, or ``"generated"``)?"""
        if target == GENERATED:
            return self.file_ready
        return status_reached(self.invoice_status, target)

    def rests(self) -> bool:
        """Resting by the status alone (no expectation known): ``created`` with a delivery still moves."""
        if self.invoice_status == InvoiceStatusValue.CREATED:
            return not self.delivery
        return status_reached(self.invoice_status, InvoiceStatusValue.DRAFT)


class InvoiceListItem(ResponseBase, frozen=True):
    """One element of ``GET /invoices`` (every field optional: the id may come as ``faktooraId``/``id``)."""

    faktoora_id: str | None = None
    invoice_number: str | None = None
    issue_date: WireDate | None = None
    invoice_status: str | None = None
    format: str | None = None
    currency: str | None = None
    buyer_name: str | None = None
    total_gross: Decimal | None = None
    created_at: Timestamp | None = None


class PageMeta(ResponseBase, frozen=True):
    page: int = 1
    per_page: int | None = None
    total: int | None = None
    total_pages: int | None = None


class NextNumber(ResponseBase, frozen=True):
    """``GET /invoices/next-number``: a preview, nothing is reserved."""

    invoice_number: str
    counter: int | None = None
    template: str | None = None


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
