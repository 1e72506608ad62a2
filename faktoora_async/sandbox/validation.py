"""The sandbox's own request validation (it never reuses the SDK's models, so a shared bug cannot hide).

:func:`validate_invoice` checks one invoice of ``POST /invoices`` against ``docs/PAYLOAD.md`` and returns
one error dict ``{"index", "field", "message"}`` per problem, ``field`` being a full path such as
``invoices[0].buyer.postcode``.  Unknown fields are errors: the sandbox is exact.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from faktoora_async.einvoice.codes import EAS_CODES

from . import _payload_en16931 as _en16931

__all__ = [
    "FORMATS",
    "PROFILE_REQUIRED",
    "SCHEMAS",
    "parse_yyyymmdd",
    "syntax_of",
    "validate_invoice",
    "validate_profile",
]

FORMATS = frozenset({"xrechnung", "zf:2", "zf:1"})
SCHEMAS = frozenset({"CII", "UBL"})
"""XRechnung syntaxes selected by ``schema`` (default ``CII``); ZUGFeRD (``zf:*``) embeds CII only."""
TYPE_CODES = frozenset({"380", "381", "384", "389"}) | _en16931.TYPE_CODES
CATEGORY_CODES = frozenset({"S", "Z", "E", "AE", "K", "G", "O", "L", "M"})

_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_UNIT = re.compile(r"[A-Z0-9]{1,3}")
_DATE = re.compile(r"\d{8}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DE_POSTCODE = re.compile(r"\d{5}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?")
_MEANS = re.compile(r"\d{1,3}|ZZZ")
_PEPPOL = re.compile(r"\d{4}:[A-Za-z0-9][A-Za-z0-9._:+/-]{0,150}")
_LEITWEG = re.compile(r"\d{2,12}(-[A-Za-z0-9]{1,30})?-\d{2}")
# characters XML 1.0 cannot carry (C0 controls except tab/newline/return, surrogates, U+FFFE/U+FFFF)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_PARTY_FIELDS = frozenset(
    {
        "name",
        "street",
        "postcode",
        "city",
        "country",
        "vatId",
        "taxId",
        "email",
        "phone",
        "contactName",
        "electronicAddress",
        "electronicAddressScheme",
        "legalRegistrationId",
    }
)
_SELLER_FIELDS = _PARTY_FIELDS | {"iban", "bic", "bankName"}
_ADDRESS_FIELDS = frozenset({"name", "street", "postcode", "city", "country"})
_INVOICE_FIELDS = frozenset(
    {
        "format",
        "schema",
        "invoiceNumber",
        "issueDate",
        "currency",
        "invoiceTypeCode",
        "buyerReference",
        "dueDate",
        "paymentTerms",
        "note",
        "precedingInvoiceNumber",
        "paymentMeansCode",
        "deliveryDate",
        "shipTo",
        "seller",
        "buyer",
        "invoiceItems",
        "delivery",
        "draftOnly",
        "reviewMode",
        "validate",
    }
)
_INVOICE_FIELDS |= _en16931.INVOICE_FIELDS  # issue 13 terms, checked by _payload_en16931
_ITEM_FIELDS = frozenset({"id", "product"}) | _en16931.ITEM_FIELDS
_PRODUCT_FIELDS = frozenset({"productId", "name", "description", "quantity", "unitCode", "price", "taxes"})
_PRODUCT_FIELDS |= _en16931.PRODUCT_FIELDS
_TAX_FIELDS = frozenset({"typeCode", "categoryCode", "rate", "exemptionReason", "exemptionReasonCode"})
_DELIVERY_FIELDS = frozenset({"type", "recipient", "carbonCopy", "blindCarbonCopy"})
MAX_ITEMS = 1000
MAX_PLACES = 10


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def parse_yyyymmdd(value: str) -> _dt.date | None:
    """The date of a ``YYYYMMDD`` string, or None when it is not one."""
    if not _DATE.fullmatch(value):
        return None
    try:
        return _dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _decimal(value: Any) -> Decimal | None:
    """A finite Decimal of sane magnitude (|exponent| <= 30), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        if abs(value) >= 10**30:
            return None
        d = Decimal(value)
    elif isinstance(value, str) and 0 < len(value) <= 40:
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    if not d.is_finite() or (d and not -30 <= d.adjusted() <= 30):
        return None
    return d


class _Checker:
    def __init__(self, index: int) -> None:
        self.index = index
        self.errors: list[dict[str, Any]] = []

    def err(self, path: str, message: str) -> None:
        self.errors.append({"index": self.index, "field": path, "message": message})

    def obj(self, value: Any, path: str, allowed: frozenset[str]) -> Mapping[str, Any] | None:
        if not isinstance(value, dict):
            self.err(path, "must be an object")
            return None
        for key in value:
            if key not in allowed:
                self.err(f"{path}.{key}", "unknown field")
        return value

    def string(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        *,
        required: bool = False,
        max_len: int = 500,
        pattern: re.Pattern[str] | None = None,
        what: str = "",
        nullable: bool = True,
    ) -> str | None:
        p = f"{path}.{key}"
        if key not in data or (data[key] is None and nullable and not required):
            if required:
                self.err(p, "is required")
            return None
        value = data[key]
        if not isinstance(value, str):
            self.err(p, "must be a string")
            return None
        if required and not value.strip():
            self.err(p, "must not be empty")
            return None
        if len(value) > max_len:
            self.err(p, f"must be at most {max_len} characters")
            return None
        if _NOT_XML.search(value):
            self.err(p, "must not contain control characters")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.err(p, f"must be {what}")
            return None
        return value

    def date(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> None:
        value = self.string(data, key, path, required=required, max_len=8)
        if value is not None and parse_yyyymmdd(value) is None:
            self.err(f"{path}.{key}", "must be a date in YYYYMMDD form")

    def flag(self, data: Mapping[str, Any], key: str, path: str) -> bool:
        value = data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.err(f"{path}.{key}", "must be a boolean")
            return False
        return value


def _party(c: _Checker, value: Any, path: str, *, seller: bool) -> None:
    data = c.obj(value, path, _SELLER_FIELDS if seller else _PARTY_FIELDS)
    if data is None:
        return
    c.string(data, "name", path, required=True, max_len=200)
    for key in (
        "street",
        "city",
        "taxId",
        "phone",
        "contactName",
        "electronicAddress",
        "legalRegistrationId",
    ):
        c.string(data, key, path, max_len=200)
    c.string(
        data, "vatId", path, max_len=20, pattern=re.compile(r"[A-Z]{2}[A-Za-z0-9+*.]{2,18}"), what="a VAT id"
    )
    c.string(data, "electronicAddressScheme", path, max_len=10)
    country = c.string(data, "country", path, max_len=2, pattern=_COUNTRY, what="an ISO 3166-1 alpha-2 code")
    postcode = c.string(data, "postcode", path, max_len=20)
    if postcode is not None:
        if not postcode.strip():
            c.err(f"{path}.postcode", "must not be empty")
        elif country == "DE" and not _DE_POSTCODE.fullmatch(postcode):
            c.err(f"{path}.postcode", "must be five digits for country DE")
    c.string(data, "email", path, max_len=254, pattern=_EMAIL, what="an e-mail address")
    if seller:
        iban = c.string(data, "iban", path, max_len=34, pattern=_IBAN, what="an IBAN")
        if iban is not None and int("".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])) % 97 != 1:
            c.err(f"{path}.iban", "has a wrong check digit")
        c.string(data, "bic", path, max_len=11, pattern=_BIC, what="a BIC")
        c.string(data, "bankName", path, max_len=200)


def _address(c: _Checker, value: Any, path: str) -> None:
    data = c.obj(value, path, _ADDRESS_FIELDS)
    if data is None:
        return
    for key in ("name", "street", "postcode", "city"):
        c.string(data, key, path, max_len=200)
    c.string(data, "country", path, max_len=2, pattern=_COUNTRY, what="an ISO 3166-1 alpha-2 code")


def _tax(c: _Checker, value: Any, path: str) -> None:
    data = c.obj(value, path, _TAX_FIELDS)
    if data is None:
        return
    type_code = c.string(data, "typeCode", path, max_len=10)
    if type_code is not None and type_code != "VAT":
        c.err(f"{path}.typeCode", "must be VAT")
    category = c.string(data, "categoryCode", path, required=True, max_len=2)
    if category is not None and category not in CATEGORY_CODES:
        c.err(f"{path}.categoryCode", "must be a UNCL 5305 code (S, Z, E, AE, K, G, O, L, M)")
    if "rate" not in data or data["rate"] is None:
        if category != "O":  # "not subject to VAT" carries no rate (BR-O-05)
            c.err(f"{path}.rate", "is required")
    else:
        rate = _decimal(data["rate"])
        if rate is None:
            c.err(f"{path}.rate", "must be a decimal number")
        elif not Decimal(0) <= rate <= Decimal(100):
            c.err(f"{path}.rate", "must be between 0 and 100")
        elif _places(rate) > MAX_PLACES:
            c.err(f"{path}.rate", f"must have at most {MAX_PLACES} decimal places")
    c.string(data, "exemptionReason", path, max_len=500)
    c.string(data, "exemptionReasonCode", path, max_len=30)


def _product(c: _Checker, value: Any, path: str) -> None:
    data = c.obj(value, path, _PRODUCT_FIELDS)
    if data is None:
        return
    c.string(data, "name", path, required=True, max_len=500)
    c.string(data, "productId", path, max_len=100)
    c.string(data, "description", path, max_len=2000)
    c.string(data, "unitCode", path, max_len=3, pattern=_UNIT, what="a UN/ECE Rec 20 unit code")
    for key in ("quantity", "price"):
        if key not in data or data[key] is None:
            c.err(f"{path}.{key}", "is required")
            continue
        number = _decimal(data[key])
        if number is None:
            c.err(f"{path}.{key}", "must be a decimal number (string or JSON number)")
        elif abs(number) >= Decimal("1e15"):
            c.err(f"{path}.{key}", "is out of range")
        elif _places(number) > MAX_PLACES:
            c.err(f"{path}.{key}", f"must have at most {MAX_PLACES} decimal places")
        elif key == "price" and number < 0:
            c.err(f"{path}.{key}", "must not be negative (BR-27)")
    taxes = data.get("taxes")
    if taxes is None:
        c.err(f"{path}.taxes", "is required")
    elif not isinstance(taxes, list) or not taxes:
        c.err(f"{path}.taxes", "must be a non-empty list")
    else:
        for j, tax in enumerate(taxes[:10]):
            _tax(c, tax, f"{path}.taxes[{j}]")
        if len(taxes) > 10:
            c.err(f"{path}.taxes", "must have at most 10 entries")


def _peppol(c: _Checker, data: Mapping[str, Any], path: str) -> None:
    """A PEPPOL recipient ``<EAS scheme>:<participant id>``, e.g. ``0204:04011000-12345-03`` (Leitweg-ID)."""
    recipient = c.string(data, "recipient", path, required=True, max_len=160)
    if recipient is not None:
        scheme, _, participant = recipient.partition(":")
        if not _PEPPOL.fullmatch(recipient):
            c.err(f"{path}.recipient", "must be <scheme>:<participant id>, e.g. 0204:04011000-12345-03")
        elif scheme not in EAS_CODES:
            c.err(f"{path}.recipient", f"scheme {scheme} is not a CEF EAS code")
        elif scheme == "0204" and not _LEITWEG.fullmatch(participant):
            c.err(f"{path}.recipient", "must be a Leitweg-ID after 0204:, e.g. 0204:04011000-12345-03")
    for key in ("carbonCopy", "blindCarbonCopy"):
        if data.get(key) is not None:
            c.err(f"{path}.{key}", "must be null for PEPPOL delivery (e-mail only)")


def _delivery(c: _Checker, value: Any, path: str) -> None:
    data = c.obj(value, path, _DELIVERY_FIELDS)
    if data is None:
        return
    kind = c.string(data, "type", path, required=True, max_len=20)
    if kind == "peppol":
        _peppol(c, data, path)
        return
    if kind is not None and kind != "email":
        c.err(f"{path}.type", "must be email or peppol")
    c.string(data, "recipient", path, required=True, max_len=254, pattern=_EMAIL, what="an e-mail address")
    for key in ("carbonCopy", "blindCarbonCopy"):
        cc = data.get(key)
        if cc is None:
            continue
        values = cc if isinstance(cc, list) else [cc]
        if len(values) > 20 or not all(isinstance(v, str) and _EMAIL.fullmatch(v) for v in values):
            c.err(f"{path}.{key}", "must be null, an e-mail address or a list of them")


def syntax_of(invoice: Mapping[str, Any]) -> str:
    """``"ubl"`` or ``"cii"``: the XML syntax a valid invoice is rendered in."""
    if invoice.get("schema") == "UBL":
        return "ubl"
    return "cii"


def validate_invoice(value: Any, index: int) -> list[dict[str, Any]]:
    """All problems of invoice ``index`` (empty when it is valid)."""
    c = _Checker(index)
    path = f"invoices[{index}]"
    data = c.obj(value, path, _INVOICE_FIELDS)
    if data is None:
        return c.errors
    fmt = c.string(data, "format", path, max_len=20)
    if fmt == "xrechnung:ubl":
        c.err(f"{path}.format", 'xrechnung:ubl is not a format: use format xrechnung with schema "UBL"')
        fmt = None
    elif fmt is not None and fmt not in FORMATS:
        c.err(f"{path}.format", "must be one of xrechnung, zf:2, zf:1")
    elif fmt == "zf:1":  # faktoora's legacy format: the sandbox cannot make a real ZUGFeRD 1.0 document
        c.err(f"{path}.format", "ZUGFeRD 1.0 (zf:1) is not produced by the sandbox: send format zf:2")
    schema = c.string(data, "schema", path, max_len=10)
    if schema is not None:
        if schema not in SCHEMAS:
            c.err(f"{path}.schema", "must be CII or UBL")
        elif schema == "UBL" and (fmt or "xrechnung") != "xrechnung":
            c.err(f"{path}.schema", "UBL needs format xrechnung (ZUGFeRD embeds CII only)")
    number = c.string(data, "invoiceNumber", path, max_len=100)
    if number is not None and not number.strip():
        c.err(f"{path}.invoiceNumber", "must not be empty (leave it out to get the next number)")
    c.date(data, "issueDate", path, required=True)
    c.date(data, "dueDate", path)
    c.date(data, "deliveryDate", path)
    c.string(data, "currency", path, max_len=3, pattern=_CURRENCY, what="an ISO 4217 code")
    code = data.get("invoiceTypeCode")
    if code is not None and (
        isinstance(code, bool) or not isinstance(code, (str, int)) or str(code) not in TYPE_CODES
    ):
        c.err(f"{path}.invoiceTypeCode", "must be one of " + ", ".join(sorted(TYPE_CODES)))
    for key in ("buyerReference", "precedingInvoiceNumber"):
        c.string(data, key, path, max_len=200)
    for key in ("paymentTerms", "note"):
        c.string(data, key, path, max_len=5000)
    c.string(data, "paymentMeansCode", path, max_len=3, pattern=_MEANS, what="a UNCL 4461 code")
    if data.get("shipTo") is not None:
        _address(c, data["shipTo"], f"{path}.shipTo")
    if data.get("seller") is not None:  # no seller: the account's company profile is the seller
        _party(c, data["seller"], f"{path}.seller", seller=True)
    if data.get("buyer") is None:
        c.err(f"{path}.buyer", "is required")
    else:
        _party(c, data["buyer"], f"{path}.buyer", seller=False)
    items = data.get("invoiceItems")
    if items is None:
        c.err(f"{path}.invoiceItems", "is required")
    elif not isinstance(items, list) or not items:
        c.err(f"{path}.invoiceItems", "must be a non-empty list")
    elif len(items) > MAX_ITEMS:
        c.err(f"{path}.invoiceItems", f"must have at most {MAX_ITEMS} items")
    else:
        for j, item in enumerate(items):
            ipath = f"{path}.invoiceItems[{j}]"
            idata = c.obj(item, ipath, _ITEM_FIELDS)
            if idata is None:
                continue
            c.string(idata, "id", ipath, required=True, max_len=50)
            if idata.get("product") is None:
                c.err(f"{ipath}.product", "is required")
            else:
                _product(c, idata["product"], f"{ipath}.product")
    if data.get("delivery") is not None:
        _delivery(c, data["delivery"], f"{path}.delivery")
    draft = c.flag(data, "draftOnly", path)
    review = c.flag(data, "reviewMode", path)
    c.flag(data, "validate", path)
    if draft and review:
        c.err(f"{path}.reviewMode", "draftOnly and reviewMode cannot both be true")
    for field, message in _en16931.validate_terms(data, path):
        c.err(field, message)
    return c.errors


PROFILE_REQUIRED = (
    "name",
    "street",
    "postcode",
    "city",
    "country",
    "contactName",
    "phone",
    "email",
    "electronicAddress",
    "electronicAddressScheme",
    "iban",
)
"""Seller fields a company profile must have, so every invoice it is the seller of is XRechnung-complete."""


def validate_profile(value: Any) -> list[dict[str, Any]]:
    """All problems of a company profile (``PUT /_sandbox/profile``): a valid, complete seller."""
    c = _Checker(0)
    data = c.obj(value, "seller", _SELLER_FIELDS)
    if data is None:
        return c.errors
    _party(c, data, "seller", seller=True)
    for key in PROFILE_REQUIRED:
        if data.get(key) is None:
            c.err(f"seller.{key}", "is required in a company profile")
    if data.get("vatId") is None and data.get("taxId") is None:
        c.err("seller.vatId", "a company profile needs vatId or taxId (BR-DE-16)")
    for error in c.errors:
        del error["index"]
    return c.errors
