"""``/import/outgoing``: import status, structured content parts, attachments.

Every field is optional and null-tolerant: an imported invoice may lack almost anything.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import msgspec

from ._base import ResponseBase, WireDate

__all__ = [
    "Attachment",
    "ContentDelivery",
    "ContentLineItem",
    "ContentParty",
    "ContentPaymentMeans",
    "ContentPaymentTerms",
    "ContentSummary",
    "ContentTax",
    "ContentTotals",
    "ImportCreated",
    "ImportListItem",
    "ImportStatus",
    "ImportValidation",
    "InvoiceContent",
]


class ImportCreated(ResponseBase, frozen=True):
    """202 answer of ``POST /import/outgoing``."""

    faktoora_id: str


class ImportStatus(ResponseBase, frozen=True):
    """``validationStatus``, ``visualizationStatus``, ``overallStatus``: accepted, failed or pending."""

    validation_status: str | None = None
    visualization_status: str | None = None
    overall_status: str | None = None


class ImportValidation(ResponseBase, frozen=True):
    """``{"status": "accepted"}`` or ``{"status": "rejected"}``."""

    status: str | None = None


class ImportListItem(ResponseBase, frozen=True):
    """One element of ``GET /import/outgoing``."""

    faktoora_id: str
    invoice_number: str | None = None
    issue_date: WireDate | None = None
    currency: str | None = None
    seller_name: str | None = None
    buyer_name: str | None = None
    grand_total: Decimal | None = None
    format: str | None = None
    syntax: str | None = None
    source_kind: str | None = None
    filename: str | None = None
    overall_status: str | None = None
    created_at: datetime.datetime | None = None


class ContentParty(ResponseBase, frozen=True):
    name: str | None = None
    legal_registration_id: str | None = None
    vat_id: str | None = None
    tax_id: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    contact_name: str | None = None
    phone: str | None = None
    email: str | None = None
    electronic_address: str | None = None
    electronic_address_scheme: str | None = None


class ContentDelivery(ResponseBase, frozen=True):
    name: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    date: WireDate | None = None


class ContentLineItem(ResponseBase, frozen=True):
    line_id: str | None = None
    name: str | None = None
    description: str | None = None
    quantity: Decimal | None = None
    unit_code: str | None = None
    net_price: Decimal | None = None
    net_amount: Decimal | None = None
    vat_category: str | None = None
    vat_rate: Decimal | None = None


class ContentTax(ResponseBase, frozen=True):
    category: str | None = None
    rate: Decimal | None = None
    basis_amount: Decimal | None = None
    tax_amount: Decimal | None = None
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


class ContentTotals(ResponseBase, frozen=True):
    line_total: Decimal | None = None
    allowance_total: Decimal | None = None
    charge_total: Decimal | None = None
    tax_basis_total: Decimal | None = None
    tax_total: Decimal | None = None
    grand_total: Decimal | None = None
    paid_amount: Decimal | None = None
    rounding_amount: Decimal | None = None
    due_payable: Decimal | None = None


class ContentPaymentTerms(ResponseBase, frozen=True):
    description: str | None = None
    due_date: WireDate | None = None


class ContentPaymentMeans(ResponseBase, frozen=True):
    type_code: str | None = None
    information: str | None = None
    iban: str | None = None
    bic: str | None = None
    account_name: str | None = None


class InvoiceContent(ResponseBase, frozen=True):
    """``GET /import/outgoing/{id}/content``: everything merged."""

    invoice_number: str | None = None
    issue_date: WireDate | None = None
    due_date: WireDate | None = None
    invoice_type_code: str | int | None = None
    currency: str | None = None
    buyer_reference: str | None = None
    note: str | None = None
    preceding_invoice_number: str | None = None
    seller: ContentParty | None = None
    buyer: ContentParty | None = None
    delivery: ContentDelivery | None = None
    line_items: list[ContentLineItem] = msgspec.field(default_factory=list)
    taxes: list[ContentTax] = msgspec.field(default_factory=list)
    totals: ContentTotals | None = None
    payment_terms: ContentPaymentTerms | None = None
    payment_means: list[ContentPaymentMeans] = msgspec.field(default_factory=list)


class ContentSummary(ResponseBase, frozen=True):
    """``GET /import/outgoing/{id}/content/summary``: key attributes."""

    invoice_number: str | None = None
    issue_date: WireDate | None = None
    due_date: WireDate | None = None
    invoice_type_code: str | int | None = None
    currency: str | None = None
    buyer_reference: str | None = None
    seller_name: str | None = None
    buyer_name: str | None = None
    line_count: int | None = None
    syntax: str | None = None
    net_total: Decimal | None = None
    tax_basis_total: Decimal | None = None
    tax_total: Decimal | None = None
    grand_total: Decimal | None = None
    due_payable: Decimal | None = None
    totals: ContentTotals | None = None


class Attachment(ResponseBase, frozen=True):
    """An embedded attachment (BG-24) of an imported invoice."""

    id: str
    filename: str | None = None
    mime_type: str | None = None
    description: str | None = None
    size: int | None = None
