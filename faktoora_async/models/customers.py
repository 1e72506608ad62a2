"""Customers (``/customers``, ``/customer/{id}``): the request body with faktoora's rules, and the record.

:class:`CustomerInput` is what ``client.customers.create()``/``update()`` send; it checks itself when built
(postcode per country: DE 5 digits, AT and CH 4; the required ``isCompany``, ``address``, ``postcode``,
``city``, ``extras``) and raises :class:`~faktoora_async.errors.FieldValidationError` naming the field.
:class:`Customer` is what the server answers: every field optional, unknown fields kept in ``raw``.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from ._base import FrozenBase, ResponseBase, Timestamp
from ._checks import Problems

__all__ = [
    "CUSTOMER_REQUIRED",
    "CUSTOMER_SORT_FIELDS",
    "POSTCODE_DIGITS",
    "Customer",
    "CustomerImport",
    "CustomerInput",
    "CustomerNumber",
    "check_postcode",
]

# Countries whose postcode format faktoora documents: the number of digits.
POSTCODE_DIGITS: dict[str, int] = {"DE": 5, "AT": 4, "CH": 4}
CUSTOMER_REQUIRED: tuple[str, ...] = ("isCompany", "address", "postcode", "city", "extras")
CUSTOMER_SORT_FIELDS: tuple[str, ...] = (
    "customerId", "name", "nameAuthorisedSignatory", "address", "phoneNo", "category", "isCompany",
    "email", "faktooraId", "vatId", "taxId", "invoiceProfile", "supplierNumber", "routeId", "peppolId",
    "createdAt", "updatedAt",
)  # fmt: skip

_COUNTRY = re.compile(r"[A-Z]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PEPPOL = re.compile(r"\d{4}:\S+")


def check_postcode(postcode: str, country: str) -> str | None:
    """The problem with ``postcode`` in ``country`` (None when fine): DE 5 digits, AT/CH 4."""
    digits = POSTCODE_DIGITS.get(country)
    if digits is None:
        return None if postcode.strip() else "must not be empty"
    if len(postcode) != digits or not postcode.isascii() or not postcode.isdigit():
        return f"must be {digits} digits for country {country}, got {postcode!r}"
    return None


class CustomerInput(FrozenBase, frozen=True):
    """The body of ``POST /customer`` and ``PATCH /customer/{id}`` (field names as faktoora's).

    Required: ``is_company``, ``address`` (street), ``postcode``, ``city``; ``extras`` defaults to ``{}``
    and is always sent.  ``country`` (ISO 3166 alpha-2) defaults to ``DE``.  ``customer_id`` is the
    customer *number* (see ``client.customers.generate_number()``), not the record id.
    """

    is_company: bool
    address: str
    postcode: str
    city: str
    extras: dict[str, Any] = msgspec.field(default_factory=lambda: {})
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone_no: str | None = None
    country: str | None = None
    vat_id: str | None = None
    tax_id: str | None = None
    customer_id: str | None = None
    category: str | None = None
    peppol_id: str | None = None
    route_id: str | None = None
    supplier_number: str | None = None
    invoice_profile: str | None = None

    def __post_init__(self) -> None:
        p = Problems(self, "customer")
        p.boolean("is_company", required=True)
        p.text("address", required=True)
        p.text("city", required=True)
        p.mapping("extras", required=True)
        p.pattern("country", _COUNTRY, "an ISO 3166 alpha-2 code such as DE")
        p.pattern("email", _EMAIL, "an e-mail address")
        p.pattern("peppol_id", _PEPPOL, "'<scheme>:<participant id>', e.g. 0204:04011000-12345-03")
        for attr in ("name", "first_name", "last_name", "phone_no", "vat_id", "tax_id", "customer_id",
                     "category", "route_id", "supplier_number", "invoice_profile"):  # fmt: skip
            p.text(attr)
        postcode = p.text("postcode", required=True)
        country = self.country if isinstance(self.country, str) else "DE"
        if postcode:
            problem = check_postcode(postcode, country)
            if problem:
                p.add("postcode", problem)
        p.raise_if_any()


class Customer(ResponseBase, frozen=True):
    """A customer as the server answers it (every field optional; ``raw`` has all of them)."""

    id: str | None = None
    is_company: bool | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    email: str | None = None
    phone_no: str | None = None
    vat_id: str | None = None
    tax_id: str | None = None
    customer_id: str | None = None
    category: str | None = None
    peppol_id: str | None = None
    route_id: str | None = None
    supplier_number: str | None = None
    invoice_profile: str | None = None
    name_authorised_signatory: str | None = None
    faktoora_id: str | None = None
    extras: dict[str, Any] = msgspec.field(default_factory=dict)
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class CustomerNumber(ResponseBase, frozen=True):
    """``GET /customers/generate-number``: ``{"value": "CUST-0042"}`` (a proposal; nothing is reserved)."""

    value: str


class CustomerImport(ResponseBase, frozen=True):
    """``POST /customers/import/upload``: the uploaded file's ``id`` (a UUID)."""

    id: str
