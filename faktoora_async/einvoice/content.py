"""The invoice *content model*: what a parsed EN 16931 invoice looks like as JSON.

This is the wire contract of the sandbox's ``/import/outgoing/{id}/content*`` routes
(``../shared/API.md``, "Outgoing imports and content").  Every dict is JSON-ready:

* keys are camelCase EN 16931 names;
* amounts, quantities and rates are **decimal strings** (``"288.79"``, ``"1"``, ``"19"``), never floats;
  amounts keep at least two decimals, quantities and rates are written without trailing zeros;
* dates are ``YYYYMMDD`` strings;
* every key is always present; a key with no value in the document is ``null`` (``None``), and lists with
  nothing in them are ``[]``.

Shape::

    {
      "invoiceNumber", "issueDate", "dueDate", "invoiceTypeCode", "currency",
      "buyerReference", "note", "precedingInvoiceNumber",
      "seller": Party, "buyer": Party,
      "delivery": {"name", "street", "postcode", "city", "country", "date"},
      "lineItems": [{"lineId", "name", "description", "quantity", "unitCode",
                     "netPrice", "netAmount", "vatCategory", "vatRate"}],
      "taxes": [{"category", "rate", "basisAmount", "taxAmount",
                 "exemptionReason", "exemptionReasonCode"}],
      "totals": {"lineTotal", "allowanceTotal", "chargeTotal", "taxBasisTotal", "taxTotal",
                 "grandTotal", "paidAmount", "roundingAmount", "duePayable"},
      "paymentTerms": {"description", "dueDate"},
      "paymentMeans": [{"typeCode", "information", "iban", "bic", "accountName"}]
    }

    Party = {"name", "vatId", "taxId", "street", "postcode", "city", "country", "contactName",
             "phone", "email", "electronicAddress", "electronicAddressScheme"}

Field meanings (EN 16931 business terms): invoiceNumber BT-1, issueDate BT-2, invoiceTypeCode BT-3,
currency BT-5, dueDate BT-9, buyerReference BT-10, note BT-22 (several notes joined by a newline),
precedingInvoiceNumber BT-25, seller BG-4 (name BT-27, vatId BT-31, taxId BT-32, street BT-35,
postcode BT-38, city BT-37, country BT-40, contactName BT-41, phone BT-42, email BT-43,
electronicAddress BT-34 with its scheme), buyer BG-7 (the same terms for the buyer), delivery BG-13
(name BT-70, address BG-15, date BT-72), lineItems BG-25 (lineId BT-126, name BT-153, description BT-154,
quantity BT-129, unitCode BT-130, netPrice BT-146, netAmount BT-131, vatCategory BT-151, vatRate BT-152),
taxes BG-23, totals BG-22 (BT-106 .. BT-115), paymentTerms BT-20 (several joined by a newline),
paymentMeans BG-16 (typeCode BT-81, information BT-82, iban BT-84, bic BT-86, accountName BT-85).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from .document import Document, Party, ymd

__all__ = [
    "DELIVERY_KEYS",
    "LINE_KEYS",
    "PARTY_KEYS",
    "PAYMENT_MEANS_KEYS",
    "TAX_KEYS",
    "TOP_LEVEL_KEYS",
    "TOTALS_KEYS",
    "empty_content",
    "fmt_amount",
    "fmt_number",
    "from_document",
    "summarize",
]

PARTY_KEYS: Final = (
    "name",
    "vatId",
    "taxId",
    "street",
    "postcode",
    "city",
    "country",
    "contactName",
    "phone",
    "email",
    "electronicAddress",
    "electronicAddressScheme",
)
DELIVERY_KEYS: Final = ("name", "street", "postcode", "city", "country", "date")
LINE_KEYS: Final = (
    "lineId",
    "name",
    "description",
    "quantity",
    "unitCode",
    "netPrice",
    "netAmount",
    "vatCategory",
    "vatRate",
)
TAX_KEYS: Final = ("category", "rate", "basisAmount", "taxAmount", "exemptionReason", "exemptionReasonCode")
TOTALS_KEYS: Final = (
    "lineTotal",
    "allowanceTotal",
    "chargeTotal",
    "taxBasisTotal",
    "taxTotal",
    "grandTotal",
    "paidAmount",
    "roundingAmount",
    "duePayable",
)
PAYMENT_TERMS_KEYS: Final = ("description", "dueDate")
PAYMENT_MEANS_KEYS: Final = ("typeCode", "information", "iban", "bic", "accountName")
TOP_LEVEL_KEYS: Final = (
    "invoiceNumber",
    "issueDate",
    "dueDate",
    "invoiceTypeCode",
    "currency",
    "buyerReference",
    "note",
    "precedingInvoiceNumber",
    "seller",
    "buyer",
    "delivery",
    "lineItems",
    "taxes",
    "totals",
    "paymentTerms",
    "paymentMeans",
)


def keyed(keys: tuple[str, ...], values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A dict with exactly ``keys``, taking values from ``values`` and ``None`` for the rest."""
    source = values or {}
    return {key: source.get(key) for key in keys}


def empty_content() -> dict[str, Any]:
    """A content dict with every key present and no values."""
    return {
        "invoiceNumber": None,
        "issueDate": None,
        "dueDate": None,
        "invoiceTypeCode": None,
        "currency": None,
        "buyerReference": None,
        "note": None,
        "precedingInvoiceNumber": None,
        "seller": keyed(PARTY_KEYS),
        "buyer": keyed(PARTY_KEYS),
        "delivery": keyed(DELIVERY_KEYS),
        "lineItems": [],
        "taxes": [],
        "totals": keyed(TOTALS_KEYS),
        "paymentTerms": keyed(PAYMENT_TERMS_KEYS),
        "paymentMeans": [],
    }


def summarize(content: Mapping[str, Any], syntax: str) -> dict[str, Any]:
    """The key attributes (``/content/summary``) of a content dict."""
    seller = content.get("seller") or {}
    buyer = content.get("buyer") or {}
    totals = content.get("totals") or {}
    return {
        "invoiceNumber": content.get("invoiceNumber"),
        "issueDate": content.get("issueDate"),
        "dueDate": content.get("dueDate"),
        "invoiceTypeCode": content.get("invoiceTypeCode"),
        "currency": content.get("currency"),
        "sellerName": seller.get("name"),
        "buyerName": buyer.get("name"),
        "netTotal": totals.get("taxBasisTotal"),
        "taxTotal": totals.get("taxTotal"),
        "grandTotal": totals.get("grandTotal"),
        "duePayable": totals.get("duePayable"),
        "lineCount": len(content.get("lineItems") or []),
        "syntax": syntax,
    }


# ------------------------------------------------------------------------------- from a Document


def _decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def fmt_number(value: str | None) -> str | None:
    """A quantity or rate as a plain decimal string without trailing zeros; unreadable text as is."""
    number = _decimal(value)
    if number is None:
        return value
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def fmt_amount(value: str | None) -> str | None:
    """An amount as a plain decimal string with at least two decimals; unreadable text as is."""
    number = _decimal(value)
    if number is None:
        return value
    text = format(number.normalize(), "f")
    if "." not in text:
        return f"{text}.00"
    whole, frac = text.split(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _party(party: Party) -> dict[str, Any]:
    if not party.present:
        return keyed(PARTY_KEYS)
    return {
        "name": party.name or party.trading_name,
        "vatId": party.vat_id,
        "taxId": party.tax_id,
        "street": party.street,
        "postcode": party.postcode,
        "city": party.city,
        "country": party.country,
        "contactName": party.contact_name,
        "phone": party.phone,
        "email": party.email,
        "electronicAddress": party.electronic_address,
        "electronicAddressScheme": party.electronic_address_scheme,
    }


def _tax_total(doc: Document) -> str | None:
    """BT-110: the VAT total in the invoice currency (else the one without currency, else the first)."""
    nodes = doc.tax_total_texts
    for currency, value in nodes:
        if doc.currency is not None and currency == doc.currency:
            return fmt_amount(value)
    without = [value for currency, value in nodes if currency is None]
    if without or nodes:
        return fmt_amount((without or [nodes[0][1]])[0])
    return None


def _lines(doc: Document) -> list[dict[str, Any]]:
    return [
        {
            "lineId": line.line_id,
            "name": line.name,
            "description": line.description,
            "quantity": fmt_number(line.qty_text),
            "unitCode": line.unit,
            "netPrice": fmt_amount(line.price_text),
            "netAmount": fmt_amount(line.net_text),
            "vatCategory": line.category,
            "vatRate": fmt_number(line.rate_text),
        }
        for line in doc.lines
    ]


def from_document(doc: Document) -> dict[str, Any]:
    """The content model of a read invoice (see the module docstring for its shape)."""
    sums = doc.sum_texts
    return {
        "invoiceNumber": doc.number,
        "issueDate": ymd(doc.issue_date, doc.syntax),
        "dueDate": ymd(doc.due_date, doc.syntax),
        "invoiceTypeCode": doc.type_code,
        "currency": doc.currency,
        "buyerReference": doc.buyer_reference,
        "note": doc.note,
        "precedingInvoiceNumber": doc.preceding_number,
        "seller": _party(doc.seller),
        "buyer": _party(doc.buyer),
        "delivery": {
            "name": doc.ship_to_name,
            "street": doc.ship_to_street,
            "postcode": doc.ship_to_postcode,
            "city": doc.ship_to_city,
            "country": doc.ship_to_country,
            "date": ymd(doc.delivery_date, doc.syntax),
        },
        "lineItems": _lines(doc),
        "taxes": [
            {
                "category": tax.category,
                "rate": fmt_number(tax.rate_text),
                "basisAmount": fmt_amount(tax.basis_text),
                "taxAmount": fmt_amount(tax.amount_text),
                "exemptionReason": tax.exemption_reason,
                "exemptionReasonCode": tax.exemption_code,
            }
            for tax in doc.taxes
        ],
        "totals": {
            "lineTotal": fmt_amount(sums.get("line")),
            "allowanceTotal": fmt_amount(sums.get("allowance")),
            "chargeTotal": fmt_amount(sums.get("charge")),
            "taxBasisTotal": fmt_amount(sums.get("basis")),
            "taxTotal": _tax_total(doc),
            "grandTotal": fmt_amount(sums.get("grand")),
            "paidAmount": fmt_amount(sums.get("prepaid")),
            "roundingAmount": fmt_amount(sums.get("rounding")),
            "duePayable": fmt_amount(sums.get("due")),
        },
        "paymentTerms": {"description": doc.terms_description, "dueDate": ymd(doc.due_date, doc.syntax)},
        "paymentMeans": [
            {
                "typeCode": pm.code,
                "information": pm.information,
                "iban": pm.iban,
                "bic": pm.bic,
                "accountName": pm.account_name,
            }
            for pm in doc.payment_means
        ],
    }
