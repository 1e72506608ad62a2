"""Stdlib contestant: ``dataclasses`` + ``json`` with hand-written converters (no validation library).

Same types as the other contestants: ``Decimal`` money and quantities, ``datetime.date`` for ``YYYYMMDD``
dates, camelCase on the wire, ``None`` fields left out when encoding.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

_D = Decimal


def _ymd(value: str | None) -> dt.date | None:
    if value is None:
        return None
    return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))


def _fmt_ymd(value: dt.date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@dataclass(slots=True)
class Address:
    name: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Address:
        return cls(d.get("name"), d.get("street"), d.get("postcode"), d.get("city"), d.get("country"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(
            {
                "name": self.name,
                "street": self.street,
                "postcode": self.postcode,
                "city": self.city,
                "country": self.country,
            }
        )


_PARTY_KEYS = (
    ("name", "name"),
    ("street", "street"),
    ("postcode", "postcode"),
    ("city", "city"),
    ("country", "country"),
    ("vat_id", "vatId"),
    ("tax_id", "taxId"),
    ("email", "email"),
    ("phone", "phone"),
    ("contact_name", "contactName"),
    ("electronic_address", "electronicAddress"),
    ("electronic_address_scheme", "electronicAddressScheme"),
    ("iban", "iban"),
    ("bic", "bic"),
    ("bank_name", "bankName"),
)


@dataclass(slots=True)
class Party:
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Party:
        return cls(**{attr: d.get(key) for attr, key in _PARTY_KEYS})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return _drop_none({key: getattr(self, attr) for attr, key in _PARTY_KEYS})


@dataclass(slots=True)
class Tax:
    category_code: str
    rate: Decimal
    type_code: str = "VAT"
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tax:
        return cls(
            d["categoryCode"],
            _D(str(d["rate"])),
            d.get("typeCode", "VAT"),
            d.get("exemptionReason"),
            d.get("exemptionReasonCode"),
        )

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(
            {
                "typeCode": self.type_code,
                "categoryCode": self.category_code,
                "rate": str(self.rate),
                "exemptionReason": self.exemption_reason,
                "exemptionReasonCode": self.exemption_reason_code,
            }
        )


@dataclass(slots=True)
class Product:
    name: str
    quantity: Decimal
    price: Decimal
    product_id: str | None = None
    description: str | None = None
    unit_code: str = "C62"
    taxes: list[Tax] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Product:
        return cls(
            d["name"],
            _D(str(d["quantity"])),
            _D(str(d["price"])),
            d.get("productId"),
            d.get("description"),
            d.get("unitCode", "C62"),
            [Tax.from_dict(t) for t in d.get("taxes", ())],
        )

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(
            {
                "productId": self.product_id,
                "name": self.name,
                "description": self.description,
                "quantity": str(self.quantity),
                "unitCode": self.unit_code,
                "price": str(self.price),
                "taxes": [t.to_dict() for t in self.taxes],
            }
        )


@dataclass(slots=True)
class Item:
    id: str
    product: Product

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Item:
        return cls(d["id"], Product.from_dict(d["product"]))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "product": self.product.to_dict()}


@dataclass(slots=True)
class Delivery:
    recipient: str
    type: str = "email"
    carbon_copy: str | None = None
    blind_carbon_copy: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Delivery:
        return cls(d["recipient"], d.get("type", "email"), d.get("carbonCopy"), d.get("blindCarbonCopy"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(
            {
                "type": self.type,
                "recipient": self.recipient,
                "carbonCopy": self.carbon_copy,
                "blindCarbonCopy": self.blind_carbon_copy,
            }
        )


_INVOICE_STR = (
    ("format", "format"),
    ("invoice_number", "invoiceNumber"),
    ("currency", "currency"),
    ("invoice_type_code", "invoiceTypeCode"),
    ("buyer_reference", "buyerReference"),
    ("payment_terms", "paymentTerms"),
    ("note", "note"),
    ("preceding_invoice_number", "precedingInvoiceNumber"),
    ("payment_means_code", "paymentMeansCode"),
    ("draft_only", "draftOnly"),
    ("review_mode", "reviewMode"),
    ("validate", "validate"),
)
_INVOICE_DATES = (("issue_date", "issueDate"), ("due_date", "dueDate"), ("delivery_date", "deliveryDate"))


@dataclass(slots=True)
class Invoice:
    invoice_number: str
    issue_date: dt.date
    seller: Party
    buyer: Party
    invoice_items: list[Item]
    format: str = "xrechnung"
    currency: str = "EUR"
    invoice_type_code: str | int = "380"
    buyer_reference: str | None = None
    due_date: dt.date | None = None
    payment_terms: str | None = None
    note: str | None = None
    preceding_invoice_number: str | None = None
    payment_means_code: str | None = None
    delivery_date: dt.date | None = None
    ship_to: Address | None = None
    delivery: Delivery | None = None
    draft_only: bool | None = None
    review_mode: bool | None = None
    validate: bool | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Invoice:
        ship_to = d.get("shipTo")
        delivery = d.get("delivery")
        return cls(
            invoice_number=d["invoiceNumber"],
            issue_date=_ymd(d["issueDate"]),  # type: ignore[arg-type]
            seller=Party.from_dict(d["seller"]),
            buyer=Party.from_dict(d["buyer"]),
            invoice_items=[Item.from_dict(i) for i in d["invoiceItems"]],
            format=d.get("format", "xrechnung"),
            currency=d.get("currency", "EUR"),
            invoice_type_code=d.get("invoiceTypeCode", "380"),
            buyer_reference=d.get("buyerReference"),
            due_date=_ymd(d.get("dueDate")),
            payment_terms=d.get("paymentTerms"),
            note=d.get("note"),
            preceding_invoice_number=d.get("precedingInvoiceNumber"),
            payment_means_code=d.get("paymentMeansCode"),
            delivery_date=_ymd(d.get("deliveryDate")),
            ship_to=Address.from_dict(ship_to) if ship_to is not None else None,
            delivery=Delivery.from_dict(delivery) if delivery is not None else None,
            draft_only=d.get("draftOnly"),
            review_mode=d.get("reviewMode"),
            validate=d.get("validate"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {key: getattr(self, attr) for attr, key in _INVOICE_STR}
        for attr, key in _INVOICE_DATES:
            value = getattr(self, attr)
            out[key] = _fmt_ymd(value) if value is not None else None
        out["shipTo"] = self.ship_to.to_dict() if self.ship_to is not None else None
        out["seller"] = self.seller.to_dict()
        out["buyer"] = self.buyer.to_dict()
        out["invoiceItems"] = [i.to_dict() for i in self.invoice_items]
        out["delivery"] = self.delivery.to_dict() if self.delivery is not None else None
        return _drop_none(out)


@dataclass(slots=True)
class Validation:
    status: str
    validity: bool | None = None
    created_at: dt.datetime | None = None


@dataclass(slots=True)
class DeliveryTarget:
    type: str | None = None
    recipient: str | None = None
    carbon_copy: str | None = None
    blind_carbon_copy: str | None = None


@dataclass(slots=True)
class Status:
    invoice_status: str | None = None
    job_status: str | None = None
    authority: list[Any] = field(default_factory=list)
    delivery: list[DeliveryTarget] = field(default_factory=list)
    validation: Validation | None = None
    error: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Status:
        v = d.get("validation")
        validation = None
        if v is not None:
            created = v.get("createdAt")
            validation = Validation(
                v["status"], v.get("validity"), dt.datetime.fromisoformat(created) if created else None
            )
        return cls(
            d.get("invoiceStatus"),
            d.get("jobStatus"),
            list(d.get("authority") or ()),
            [
                DeliveryTarget(
                    x.get("type"), x.get("recipient"), x.get("carbonCopy"), x.get("blindCarbonCopy")
                )
                for x in d.get("delivery") or ()
            ],
            validation,
            d.get("error"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "invoiceStatus": self.invoice_status,
            "jobStatus": self.job_status,
            "authority": self.authority,
            "delivery": [
                _drop_none(
                    {
                        "type": x.type,
                        "recipient": x.recipient,
                        "carbonCopy": x.carbon_copy,
                        "blindCarbonCopy": x.blind_carbon_copy,
                    }
                )
                for x in self.delivery
            ],
        }
        if self.validation is not None:
            v = self.validation
            out["validation"] = _drop_none(
                {
                    "status": v.status,
                    "validity": v.validity,
                    "createdAt": v.created_at.isoformat().replace("+00:00", "Z") if v.created_at else None,
                }
            )
        if self.error is not None:
            out["error"] = self.error
        return _drop_none(out)


def encode_invoice(inv: Invoice) -> bytes:
    return json.dumps(inv.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()


def decode_invoice(raw: bytes) -> Invoice:
    return Invoice.from_dict(json.loads(raw))


def encode_status(st: Status) -> bytes:
    return json.dumps(st.to_dict(), separators=(",", ":")).encode()


def decode_status(raw: bytes) -> Status:
    return Status.from_dict(json.loads(raw))
