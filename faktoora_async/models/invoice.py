"""The invoice payload of ``POST /invoices`` (docs/PAYLOAD.md), as frozen msgspec Structs."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from ._base import FrozenBase, WireDate, coerce_dates

__all__ = [
    "Address",
    "Delivery",
    "Invoice",
    "InvoiceItem",
    "Party",
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
    """What a line sells: ``quantity`` x ``price`` (net unit price), both decimals."""

    name: str
    quantity: Decimal
    price: Decimal
    product_id: str | None = None
    description: str | None = None
    unit_code: str | None = None
    taxes: list[Tax] = msgspec.field(default_factory=list)


class InvoiceItem(FrozenBase, frozen=True):
    """One line: ``{"id": "1", "product": {...}}``."""

    id: str
    product: Product


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
    ``seller`` is optional: without it faktoora uses the account's company profile.  ``format`` is
    ``xrechnung`` (default), ``zf:2`` or ``zf:1``; ``schema`` (``"CII"``, the default, or ``"UBL"``) picks the
    XRechnung syntax.
    Creation flags: ``draft_only`` (status draft), ``review_mode`` (status review), neither: direct
    (created, then sent when ``delivery`` is set); ``validate`` starts an XRechnung/ZUGFeRD validation.
    """

    invoice_number: str
    issue_date: WireDate
    buyer: Party
    invoice_items: list[InvoiceItem]
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

    def __post_init__(self) -> None:
        coerce_dates(self, "issue_date", "due_date", "delivery_date")

    @property
    def resting_status(self) -> str:
        """The status this invoice settles in: draft, review, sent (with delivery) or created."""
        if self.draft_only:
            return "draft"
        if self.review_mode:
            return "review"
        return "sent" if self.delivery is not None else "created"
