"""``/import/outgoing``: import status, structured content parts, attachments.

Every field is optional and null-tolerant: an imported invoice may lack almost anything.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from ._base import ResponseBase, Timestamp, WireDate

__all__ = [
    "Attachment",
    "ContentAllowanceCharge",
    "ContentAttachmentRef",
    "ContentDelivery",
    "ContentDirectDebit",
    "ContentLineItem",
    "ContentParty",
    "ContentPaymentMeans",
    "ContentPaymentTerms",
    "ContentPeriod",
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
    """One element of ``GET /import/outgoing`` (every field optional: the id may come as ``faktooraId``,
    ``id`` or ``importId``)."""

    faktoora_id: str | None = None
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
    created_at: Timestamp | None = None


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


class ContentPeriod(ResponseBase, frozen=True):
    """An invoicing period (BG-14 for the document, BG-26 for a line)."""

    start_date: WireDate | None = None
    end_date: WireDate | None = None


class ContentAllowanceCharge(ResponseBase, frozen=True):
    """An allowance or a charge (BG-20/BG-21 on the document, BG-27/BG-28 on a line)."""

    amount: Decimal | None = None
    base_amount: Decimal | None = None
    percentage: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None
    category_code: str | None = None
    rate: Decimal | None = None


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
    product_id: str | None = None  # BT-155
    gross_price: Decimal | None = None  # BT-148
    price_discount: Decimal | None = None  # BT-147
    price_base_quantity: Decimal | None = None  # BT-149 (net_price is per this quantity)
    price_base_quantity_unit_code: str | None = None  # BT-150
    invoicing_period: ContentPeriod | None = None  # BG-26
    allowances: list[ContentAllowanceCharge] = msgspec.field(default_factory=list)  # BG-27
    charges: list[ContentAllowanceCharge] = msgspec.field(default_factory=list)  # BG-28


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
    tax_total_in_tax_currency: Decimal | None = None  # BT-111
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


class ContentDirectDebit(ResponseBase, frozen=True):
    """SEPA direct debit (BG-19): mandate BT-89, creditor id BT-90, debited account BT-91."""

    mandate_reference: str | None = None
    creditor_id: str | None = None
    debited_account: str | None = None


class ContentAttachmentRef(ResponseBase, frozen=True):
    """An attachment as the content lists it (BG-24; the file itself: ``attachment_file``)."""

    id: str | None = None
    description: str | None = None
    file_name: str | None = None
    mime_code: str | None = None
    uri: str | None = None


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
    specification_id: str | None = None  # BT-24
    project_reference: str | None = None  # BT-11
    contract_reference: str | None = None  # BT-12
    purchase_order_reference: str | None = None  # BT-13
    buyer_accounting_reference: str | None = None  # BT-19
    preceding_invoice_date: WireDate | None = None  # BT-26
    remittance_information: str | None = None  # BT-83
    tax_currency: str | None = None  # BT-6
    invoicing_period: ContentPeriod | None = None  # BG-14
    allowances: list[ContentAllowanceCharge] = msgspec.field(default_factory=list)  # BG-20
    charges: list[ContentAllowanceCharge] = msgspec.field(default_factory=list)  # BG-21
    direct_debit: ContentDirectDebit | None = None  # BG-19
    attachments: list[ContentAttachmentRef] = msgspec.field(default_factory=list)  # BG-24


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
    """An embedded attachment (BG-24) of an imported invoice (every field optional, as list items are)."""

    id: str | None = None
    filename: str | None = None
    mime_type: str | None = None
    description: str | None = None
    size: int | None = None
