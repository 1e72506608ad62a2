"""The sandbox's validation of the extended EN 16931 payload terms (issue 13, docs/PAYLOAD.md).

Written for the sandbox alone (it imports nothing from the SDK or :mod:`faktoora_async.einvoice`), like the
rest of :mod:`.validation`, which calls :func:`validate_terms` once per invoice and merges the field sets
below into its own.  The sandbox is exact: wrong JSON types, unknown fields inside the new objects,
malformed dates, codes and decimals, and the size caps are errors; business rules (what EN 16931 or
XRechnung would reject) are left to the validation of the rendered document, as for the other fields.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "INVOICE_FIELDS",
    "ITEM_FIELDS",
    "PRODUCT_FIELDS",
    "TYPE_CODES",
    "validate_terms",
]

INVOICE_FIELDS = frozenset(
    {
        "projectReference",
        "contractReference",
        "purchaseOrderReference",
        "buyerAccountingReference",
        "precedingInvoiceDate",
        "remittanceInformation",
        "invoicingPeriod",
        "allowances",
        "charges",
        "prepaidAmount",
        "roundingAmount",
        "directDebit",
        "taxCurrency",
        "taxTotalInTaxCurrency",
        "attachments",
    }
)
ITEM_FIELDS = frozenset({"allowances", "charges", "invoicingPeriod"})
PRODUCT_FIELDS = frozenset({"grossPrice", "priceDiscount", "priceBaseQuantity", "priceBaseQuantityUnitCode"})
TYPE_CODES = frozenset({"326", "380", "381", "383", "384", "386", "389", "875", "876", "877"})
"""BT-3 values the sandbox accepts (UNTDID 1001 invoice and credit note codes German invoices use)."""

MAX_ATTACHMENTS = 10
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_INVOICE_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ALLOWANCES = 100

_PERIOD_FIELDS = frozenset({"startDate", "endDate"})
_LINE_AC_FIELDS = frozenset({"amount", "baseAmount", "percentage", "reason", "reasonCode"})
_DOC_AC_FIELDS = _LINE_AC_FIELDS | {"categoryCode", "rate"}
_DEBIT_FIELDS = frozenset({"mandateReference", "creditorId", "debitedAccount"})
_ATTACHMENT_FIELDS = frozenset({"id", "description", "fileName", "mimeCode", "content", "uri"})
_MIME_CODES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)
_CATEGORIES = frozenset({"S", "Z", "E", "AE", "K", "G", "O", "L", "M"})
_CURRENCY = re.compile(r"[A-Z]{3}")
_UNIT = re.compile(r"[A-Z0-9]{1,3}")
_REASON_CODE = re.compile(r"[A-Z0-9]{1,3}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_FILE_NAME = re.compile(r"[^/\\\x00-\x1f]{1,200}")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

Problem = tuple[str, str]  # (field path, message)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value) if abs(value) < 10**15 else None
    if isinstance(value, str) and 0 < len(value) <= 40:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() and abs(number) < Decimal("1e15") else None
    return None


def _date(value: str) -> bool:
    if not re.fullmatch(r"\d{8}", value):
        return False
    try:
        _dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


class _Fields:
    """Field checks of one object; problems are yielded as ``(path, message)``."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    def text(
        self, key: str, max_len: int = 200, pattern: re.Pattern[str] | None = None, what: str = ""
    ) -> Iterator[Problem]:
        value = self.data.get(key)
        if value is None:
            return
        p = f"{self.path}.{key}"
        if not isinstance(value, str):
            yield p, "must be a string"
        elif not value.strip():
            yield p, "must not be empty"
        elif len(value) > max_len:
            yield p, f"must be at most {max_len} characters"
        elif _NOT_XML.search(value):
            yield p, "must not contain control characters"
        elif pattern is not None and not pattern.fullmatch(value):
            yield p, f"must be {what}"

    def number(self, key: str, *, positive: bool = False) -> Iterator[Problem]:
        value = self.data.get(key)
        if value is None:
            return
        number = _number(value)
        if number is None:
            yield f"{self.path}.{key}", "must be a decimal number (string or JSON number)"
        elif positive and number <= 0:
            yield f"{self.path}.{key}", "must be greater than zero"

    def date(self, key: str) -> Iterator[Problem]:
        value = self.data.get(key)
        if value is not None and not (isinstance(value, str) and _date(value)):
            yield f"{self.path}.{key}", "must be a date in YYYYMMDD form"


def _object(value: Any, path: str, allowed: frozenset[str]) -> tuple[Mapping[str, Any] | None, list[Problem]]:
    if not isinstance(value, dict):
        return None, [(path, "must be an object")]
    return value, [(f"{path}.{key}", "unknown field") for key in value if key not in allowed]


def _period(value: Any, path: str) -> Iterator[Problem]:
    data, problems = _object(value, path, _PERIOD_FIELDS)
    yield from problems
    if data is None:
        return
    fields = _Fields(data, path)
    yield from fields.date("startDate")
    yield from fields.date("endDate")
    if data.get("startDate") is None and data.get("endDate") is None:
        yield path, "needs startDate, endDate or both"


def _allowances(value: Any, path: str, *, document_level: bool) -> Iterator[Problem]:
    if not isinstance(value, list):
        yield path, "must be a list"
        return
    if len(value) > MAX_ALLOWANCES:
        yield path, f"must have at most {MAX_ALLOWANCES} entries"
    for i, raw in enumerate(value[:MAX_ALLOWANCES]):
        p = f"{path}[{i}]"
        data, problems = _object(raw, p, _DOC_AC_FIELDS if document_level else _LINE_AC_FIELDS)
        yield from problems
        if data is None:
            continue
        fields = _Fields(data, p)
        for key in ("amount", "baseAmount", "percentage"):
            yield from fields.number(key)
        if data.get("amount") is None and (data.get("baseAmount") is None or data.get("percentage") is None):
            yield f"{p}.amount", "is required (or baseAmount and percentage)"
        yield from fields.text("reason", 500)
        yield from fields.text("reasonCode", 3, _REASON_CODE, "a UNTDID 5189/7161 code")
        if document_level:
            category = data.get("categoryCode")
            if category is None:
                yield f"{p}.categoryCode", "is required"
            elif category not in _CATEGORIES:
                yield f"{p}.categoryCode", "must be a UNCL 5305 code (S, Z, E, AE, K, G, O, L, M)"
            yield from fields.number("rate")


def _direct_debit(value: Any, path: str) -> Iterator[Problem]:
    data, problems = _object(value, path, _DEBIT_FIELDS)
    yield from problems
    if data is None:
        return
    fields = _Fields(data, path)
    yield from fields.text("mandateReference", 35)
    yield from fields.text("creditorId", 35)
    yield from fields.text("debitedAccount", 34, _IBAN, "an IBAN")


def _attachments(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, list):
        yield path, "must be a list"
        return
    if len(value) > MAX_ATTACHMENTS:
        yield path, f"must have at most {MAX_ATTACHMENTS} attachments"
    total = 0
    for i, raw in enumerate(value[:MAX_ATTACHMENTS]):
        p = f"{path}[{i}]"
        data, problems = _object(raw, p, _ATTACHMENT_FIELDS)
        yield from problems
        if data is None:
            continue
        fields = _Fields(data, p)
        if data.get("id") is None:
            yield f"{p}.id", "is required"
        yield from fields.text("id", 100)
        yield from fields.text("description", 500)
        yield from fields.text("fileName", 200, _FILE_NAME, "a file name without path separators")
        yield from fields.text("uri", 2000)
        content = data.get("content")
        if content is None:
            continue
        if not isinstance(content, str):
            yield f"{p}.content", "must be a base64 string"
            continue
        for key in ("fileName", "mimeCode"):
            if data.get(key) is None:
                yield f"{p}.{key}", "is required with content"
        mime = data.get("mimeCode")
        if mime is not None and mime not in _MIME_CODES:
            yield f"{p}.mimeCode", "must be one of " + ", ".join(sorted(_MIME_CODES))
        try:
            size = len(base64.b64decode("".join(content.split()), validate=True))
        except (binascii.Error, ValueError):
            yield f"{p}.content", "must be valid base64"
            continue
        total += size
        if size > MAX_FILE_BYTES:
            yield f"{p}.content", f"must decode to at most {MAX_FILE_BYTES} bytes"
    if total > MAX_INVOICE_ATTACHMENT_BYTES:
        yield path, f"must decode to at most {MAX_INVOICE_ATTACHMENT_BYTES} bytes in all"


def _items(items: Any, path: str) -> Iterator[Problem]:
    for j, item in enumerate(items if isinstance(items, list) else ()):
        if not isinstance(item, dict):
            continue
        p = f"{path}.invoiceItems[{j}]"
        for key in ("allowances", "charges"):
            if item.get(key) is not None:
                yield from _allowances(item[key], f"{p}.{key}", document_level=False)
        if item.get("invoicingPeriod") is not None:
            yield from _period(item["invoicingPeriod"], f"{p}.invoicingPeriod")
        product = item.get("product")
        if isinstance(product, dict):
            fields = _Fields(product, f"{p}.product")
            yield from fields.number("grossPrice")
            yield from fields.number("priceDiscount")
            yield from fields.number("priceBaseQuantity", positive=True)
            yield from fields.text("priceBaseQuantityUnitCode", 3, _UNIT, "a UN/ECE Rec 20 unit code")


def validate_terms(data: Mapping[str, Any], path: str) -> list[Problem]:
    """Problems with the extended terms of one invoice ``data`` at ``path`` (``invoices[i]``)."""
    fields = _Fields(data, path)
    problems: list[Problem] = []
    for key in (
        "projectReference",
        "contractReference",
        "purchaseOrderReference",
        "buyerAccountingReference",
    ):
        problems += fields.text(key, 200)
    problems += fields.text("remittanceInformation", 140)
    problems += fields.date("precedingInvoiceDate")
    problems += fields.text("taxCurrency", 3, _CURRENCY, "an ISO 4217 code")
    for key in ("prepaidAmount", "roundingAmount", "taxTotalInTaxCurrency"):
        problems += fields.number(key)
    if data.get("invoicingPeriod") is not None:
        problems += _period(data["invoicingPeriod"], f"{path}.invoicingPeriod")
    for key in ("allowances", "charges"):
        if data.get(key) is not None:
            problems += _allowances(data[key], f"{path}.{key}", document_level=True)
    if data.get("directDebit") is not None:
        problems += _direct_debit(data["directDebit"], f"{path}.directDebit")
    if data.get("attachments") is not None:
        problems += _attachments(data["attachments"], f"{path}.attachments")
    problems += _items(data.get("invoiceItems"), path)
    return problems
