"""Diagnosis only: msgspec structs shaped like ``faktoora_async.models`` but declared with ``gc=False``.

Same fields, same ``YYYYMMDD`` date handling (the SDK's own ``WireDate`` and hooks), same ``Decimal`` money,
same frozen/camelCase/omit-defaults options; the only difference is ``gc=False``, which tells msgspec that
these structs never take part in reference cycles, so the cyclic garbage collector does not track them.
B3 keeps this row to show what that single option is worth; it is not used by the SDK.
"""

# mypy: disable-error-code="misc"
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import msgspec

from faktoora_async.models._base import WireDate, coerce_dates, dec_hook, enc_hook


class _Base(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True, frozen=True, gc=False):
    pass


class Tax(_Base):
    category_code: str
    rate: Decimal
    type_code: str = msgspec.field(default_factory=lambda: "VAT")
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


class Product(_Base):
    name: str
    quantity: Decimal
    price: Decimal
    product_id: str | None = None
    description: str | None = None
    unit_code: str | None = None
    taxes: list[Tax] = []


class InvoiceItem(_Base):
    id: str
    product: Product


class Party(_Base):
    name: str
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    vat_id: str | None = None
    tax_id: str | None = None
    email: str | None = None
    phone: str | None = None
    contact_name: str | None = None
    electronic_address: str | None = None
    electronic_address_scheme: str | None = None
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None


class Address(_Base):
    name: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None


class Delivery(_Base):
    recipient: str
    type: str = msgspec.field(default_factory=lambda: "email")
    carbon_copy: str | list[str] | None = None
    blind_carbon_copy: str | list[str] | None = None


class Invoice(_Base):
    invoice_number: str
    issue_date: WireDate
    seller: Party
    buyer: Party
    invoice_items: list[InvoiceItem]
    format: str | None = None
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


class DeliveryStatus(_Base):
    type: str | None = None
    recipient: str | None = None
    carbon_copy: str | list[str] | None = None
    blind_carbon_copy: str | list[str] | None = None


class ValidationStatus(_Base):
    status: str | None = None
    validity: bool | None = None
    created_at: datetime.datetime | None = None


class InvoiceStatus(_Base):
    invoice_status: str | None = None
    job_status: str | None = None
    authority: list[Any] = []
    delivery: list[DeliveryStatus] = []
    validation: ValidationStatus | None = None
    error: str | None = None


_ENC = msgspec.json.Encoder(enc_hook=enc_hook, decimal_format="string")
_DEC_INVOICE = msgspec.json.Decoder(Invoice, dec_hook=dec_hook)
_DEC_STATUS = msgspec.json.Decoder(InvoiceStatus, dec_hook=dec_hook)


def decode_invoice(raw: bytes) -> Invoice:
    return _DEC_INVOICE.decode(raw)


def encode_invoice(inv: Invoice) -> bytes:
    return _ENC.encode(inv)


def decode_status(raw: bytes) -> InvoiceStatus:
    return _DEC_STATUS.decode(raw)


def encode_status(st: InvoiceStatus) -> bytes:
    return _ENC.encode(st)
