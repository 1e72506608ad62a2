"""Pydantic v2 models of the invoice payload and the status object: the contestant's idiomatic models.

Written the way a careful pydantic user would: ``Decimal`` money and quantities, ``datetime.date`` for the
``YYYYMMDD`` wire dates (a fast ``BeforeValidator`` + ``PlainSerializer``), camelCase aliases, unknown fields
ignored, ``None`` fields left out when encoding.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel


def _parse_ymd(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 8 and value.isdigit():
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    return value


def _format_ymd(value: dt.date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


YmdDate = Annotated[dt.date, BeforeValidator(_parse_ymd), PlainSerializer(_format_ymd, return_type=str)]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Address(_Model):
    name: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None


class Party(_Model):
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


class Tax(_Model):
    type_code: str = "VAT"
    category_code: str
    rate: Decimal
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


class Product(_Model):
    product_id: str | None = None
    name: str
    description: str | None = None
    quantity: Decimal
    unit_code: str = "C62"
    price: Decimal
    taxes: list[Tax] = []


class Item(_Model):
    id: str
    product: Product


class Delivery(_Model):
    type: str = "email"
    recipient: str
    carbon_copy: str | None = None
    blind_carbon_copy: str | None = None


class Invoice(_Model):
    format: str = "xrechnung"
    invoice_number: str
    issue_date: YmdDate
    currency: str = "EUR"
    invoice_type_code: str | int = "380"
    buyer_reference: str | None = None
    due_date: YmdDate | None = None
    payment_terms: str | None = None
    note: str | None = None
    preceding_invoice_number: str | None = None
    payment_means_code: str | None = None
    delivery_date: YmdDate | None = None
    ship_to: Address | None = None
    seller: Party
    buyer: Party
    invoice_items: list[Item]
    delivery: Delivery | None = None
    draft_only: bool | None = None
    review_mode: bool | None = None
    validate_: bool | None = None  # "validate" would shadow BaseModel.validate

    model_config = ConfigDict(
        alias_generator=lambda n: "validate" if n == "validate_" else to_camel(n),
        populate_by_name=True,
        extra="ignore",
    )


class CreateRequest(_Model):
    invoices: list[Invoice]


class Created(_Model):
    faktoora_id: str
    details_page: str | None = None


class Validation(_Model):
    status: str
    validity: bool | None = None
    created_at: dt.datetime | None = None


class DeliveryTarget(_Model):
    type: str | None = None
    recipient: str | None = None
    carbon_copy: str | None = None
    blind_carbon_copy: str | None = None


class Status(_Model):
    invoice_status: str | None = None
    job_status: str | None = None
    authority: list[Any] = []
    delivery: list[DeliveryTarget] = []
    validation: Validation | None = None
    error: str | None = None


def encode_invoice(inv: Invoice) -> bytes:
    return inv.model_dump_json(by_alias=True, exclude_none=True).encode()


def decode_invoice(raw: bytes) -> Invoice:
    return Invoice.model_validate_json(raw)


def encode_status(st: Status) -> bytes:
    return st.model_dump_json(by_alias=True, exclude_none=True).encode()


def decode_status(raw: bytes) -> Status:
    return Status.model_validate_json(raw)
