"""The invoice payload of ``POST /invoices`` (docs/PAYLOAD.md), as frozen msgspec Structs."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from ._base import FrozenBase, WireDate, coerce_dates

__all__ = [
    "Address",
    "AllowanceCharge",
    "Delivery",
    "DirectDebit",
    "DocumentAllowanceCharge",
    "Invoice",
    "InvoiceAttachment",
    "InvoiceItem",
    "Party",
    "Period",
    "Product",
    "Tax",
]


class Tax(FrozenBase, frozen=True):
    """One tax of a product: UNCL 5305 ``category_code`` and the ``rate`` in percent.

    ``rate`` may be omitted only for category ``O`` (not subject to VAT, BR-O-05).
    """

    category_code: str
    rate: Decimal | None = None
    # default_factory (not a plain default) so that "VAT" is always sent despite omit_defaults
    type_code: str = msgspec.field(default_factory=lambda: "VAT")
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


class Product(FrozenBase, frozen=True):
    """What a line sells: ``quantity`` x ``price`` / ``price_base_quantity`` (BT-149, default 1).

    ``price`` is the net price (BT-146); ``gross_price`` (BT-148) and ``price_discount`` (BT-147) may say how
    it came about (net = gross - discount); ``price_base_quantity_unit_code`` is BT-150.
    """

    name: str
    quantity: Decimal
    price: Decimal
    product_id: str | None = None
    description: str | None = None
    unit_code: str | None = None
    taxes: list[Tax] = msgspec.field(default_factory=list)
    gross_price: Decimal | None = None
    price_discount: Decimal | None = None
    price_base_quantity: Decimal | None = None
    price_base_quantity_unit_code: str | None = None


class Period(FrozenBase, frozen=True):
    """An invoicing period: BG-14 (invoice, BT-73/74) or BG-26 (line, BT-134/135)."""

    start_date: WireDate | None = None
    end_date: WireDate | None = None

    def __post_init__(self) -> None:
        coerce_dates(self, "start_date", "end_date")


class AllowanceCharge(FrozenBase, frozen=True):
    """A line allowance (BG-27) or charge (BG-28): ``amount``, or ``base_amount`` and ``percentage``."""

    amount: Decimal | None = None
    base_amount: Decimal | None = None
    percentage: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None


class DocumentAllowanceCharge(FrozenBase, frozen=True):
    """A document allowance (BG-20) or charge (BG-21) with VAT category and rate (BT-95/96, BT-102/103)."""

    category_code: str
    amount: Decimal | None = None
    base_amount: Decimal | None = None
    percentage: Decimal | None = None
    rate: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None


class DirectDebit(FrozenBase, frozen=True):
    """SEPA direct debit (BG-19): mandate reference (BT-89), creditor id (BT-90), debited IBAN (BT-91)."""

    mandate_reference: str | None = None
    creditor_id: str | None = None
    debited_account: str | None = None


class InvoiceAttachment(FrozenBase, frozen=True):
    """An additional supporting document (BG-24): an embedded file (``content`` base64) or a ``uri``.

    Caps (docs/PAYLOAD.md): at most 10 per invoice, each at most 2 MiB decoded, 5 MiB per invoice.
    """

    id: str
    description: str | None = None
    file_name: str | None = None
    mime_code: str | None = None
    content: str | None = msgspec.field(default=None)
    uri: str | None = None

    def __repr__(self) -> str:  # the base64 content would flood logs and tracebacks
        size = len(self.content or "")
        name = self.file_name
        return f"InvoiceAttachment(id={self.id!r}, file_name={name!r}, content=<{size} base64 chars>)"


class InvoiceItem(FrozenBase, frozen=True):
    """One line: ``{"id": "1", "product": {...}}``, with its allowances, charges and period."""

    id: str
    product: Product
    allowances: list[AllowanceCharge] | None = None
    charges: list[AllowanceCharge] | None = None
    invoicing_period: Period | None = None


class Party(FrozenBase, frozen=True):
    """Seller (BG-4) or buyer (BG-7); ``iban``/``bic``/``bank_name`` are for the seller only."""

    name: str
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    vat_id: str | None = None
    tax_id: str | None = None
    legal_registration_id: str | None = None
    email: str | None = None
    phone: str | None = None
    contact_name: str | None = None
    electronic_address: str | None = None
    electronic_address_scheme: str | None = None
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None


class Address(FrozenBase, frozen=True):
    """A deliver-to address (``shipTo``, BG-13/BG-15)."""

    name: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None


class Delivery(FrozenBase, frozen=True):
    """How faktoora sends the invoice (e-mail), not the goods' delivery."""

    recipient: str
    type: str = msgspec.field(default_factory=lambda: "email")
    carbon_copy: str | list[str] | None = None
    blind_carbon_copy: str | list[str] | None = None


class Invoice(FrozenBase, frozen=True):
    """One invoice of ``{"invoices": [...]}``.

    Dates are ``datetime.date`` (sent as ``YYYYMMDD``), money and quantities ``Decimal``.
    ``seller`` is optional: without it faktoora uses the account's company profile; so is
    ``invoice_number``: without it the invoice gets the next number of the account's template.  ``format`` is
    ``xrechnung`` (default), ``zf:2`` or ``zf:1``; ``schema`` (``"CII"``, the default, or ``"UBL"``) picks the
    XRechnung syntax.
    Creation flags: ``draft_only`` (status draft), ``review_mode`` (status review), neither: direct
    (created, then sent when ``delivery`` is set); ``validate`` starts an XRechnung/ZUGFeRD validation.
    """

    issue_date: WireDate
    buyer: Party
    invoice_items: list[InvoiceItem]
    invoice_number: str | None = None  # None: the account's next number, allocated at creation
    seller: Party | None = None
    format: str | None = None
    schema: str | None = None
    currency: str | None = None
    invoice_type_code: str | int | None = None
    buyer_reference: str | None = None
    due_date: WireDate | None = None
    payment_terms: str | None = None
    note: str | None = None
    preceding_invoice_number: str | None = None
    payment_means_code: str | None = None
    delivery_date: WireDate | None = None
    ship_to: Address | None = None
    delivery: Delivery | None = None
    draft_only: bool | None = None
    review_mode: bool | None = None
    validate: bool | None = None
    project_reference: str | None = None  # BT-11
    contract_reference: str | None = None  # BT-12
    purchase_order_reference: str | None = None  # BT-13
    buyer_accounting_reference: str | None = None  # BT-19
    preceding_invoice_date: WireDate | None = None  # BT-26
    remittance_information: str | None = None  # BT-83
    invoicing_period: Period | None = None  # BG-14
    allowances: list[DocumentAllowanceCharge] | None = None  # BG-20
    charges: list[DocumentAllowanceCharge] | None = None  # BG-21
    prepaid_amount: Decimal | None = None  # BT-113
    rounding_amount: Decimal | None = None  # BT-114
    direct_debit: DirectDebit | None = None  # BG-19
    tax_currency: str | None = None  # BT-6
    tax_total_in_tax_currency: Decimal | None = None  # BT-111
    attachments: list[InvoiceAttachment] | None = None  # BG-24

    def __post_init__(self) -> None:
        coerce_dates(self, "issue_date", "due_date", "delivery_date", "preceding_invoice_date")

    @property
    def resting_status(self) -> str:
        """The status this invoice settles in: draft, review, sent (with delivery) or created."""
        if self.draft_only:
            return "draft"
        if self.review_mode:
            return "review"
        return "sent" if self.delivery is not None else "created"
